// System queues: the workers' own jobs (`defineJob`, src/jobs/) in the same `queue_jobs` table as the public queue,
// under the org id `system`. Org ids are always `org_…`, and every public operation filters on the caller's org, so
// no credential can list, claim, count or touch these jobs. Each job type is its own queue (queue = task_type = the
// type). Claims, heartbeats, completes and fails are the public queue's statements minus the org's events: a
// dead-lettered system job is logged by the runner and shown in the fleet's health summary.
import { sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { DbOrTx } from '../../db/client.ts';
import { insertJobs, type JobRow, rowsOf } from './service.ts';
import { nextRun } from './schedules.ts';
import { notifyQueues, wakeupKey } from './wakeups.ts';

export const SYSTEM_ORG = 'system';
const MAX_BACKOFF_SECONDS = 6 * 3600;

export interface SystemJobInput {
  type: string;
  payload: Record<string, unknown>;
  max_attempts: number;
  backoff_seconds: number;
  timeout_seconds: number;
  priority?: number;
  delay_seconds?: number;
  run_at?: Date;
  /** At most one waiting or active job of the type per key: a duplicate returns the pending one. */
  singleton_key?: string;
  /** The same key again returns the first job (whatever its state), for as long as the job is kept. */
  idempotency_key?: string;
}

/** Inserts a system job with the caller's transaction; the workers are woken when it commits. */
export async function insertSystemJob(db: DbOrTx, input: SystemJobInput): Promise<{ id: string; duplicate: boolean }> {
  const id = newId('job');
  const [row] = await insertJobs(
    db,
    SYSTEM_ORG,
    [
      {
        id,
        queue: input.type,
        task_type: input.type,
        payload: input.payload,
        priority: input.priority ?? 0,
        max_attempts: input.max_attempts,
        backoff_seconds: input.backoff_seconds,
        timeout_seconds: input.timeout_seconds,
        run_at: input.run_at?.toISOString() ?? null,
        delay_seconds: input.delay_seconds ?? 0,
        idempotency_key: input.idempotency_key ?? null,
        singleton_key: input.singleton_key ?? null,
        schedule_id: null,
      },
    ],
    null,
  );
  await notifyQueues(db, [wakeupKey(SYSTEM_ORG, input.type)]);
  return { id: row.id, duplicate: row.id !== id };
}

/**
 * The next ready jobs of these types, each leased to `workerId` for `leaseSeconds` and given one more attempt.
 * Committed without waiting for the WAL flush (the claim is on every job's path to its worker): a claim a database
 * crash loses leaves the job waiting, to be claimed again — what a lapsed lease does anyway (jobs run at least once) —
 * and the handler's first durable commit flushes the claim with it.
 */
export async function claimSystemJobs(db: DbOrTx, types: string[], workerId: string, limit: number, leaseSeconds: number): Promise<JobRow[]> {
  if (!types.length || limit < 1) return [];
  return rowsOf<JobRow>(
    db,
    sql`with picked as (
          select id from queue_jobs
          where org_id = ${SYSTEM_ORG} and queue = any(${sql.param(types)}::text[]) and state = 'waiting' and run_at <= now()
          order by priority desc, run_at, seq
          limit ${limit}
          for update skip locked
        )
        update queue_jobs j set state = 'active', attempts = j.attempts + 1, worker_id = ${workerId},
          lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), started_at = now(), finished_at = null, updated_at = now()
        from picked where j.id = picked.id
        returning j.*, set_config('synchronous_commit', 'off', true) as async_commit`,
  );
}

/** Extends the leases of the jobs this worker is running (one statement for all of them). */
export async function extendSystemLeases(db: DbOrTx, ids: string[], workerId: string, leaseSeconds: number): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await rowsOf<{ id: string }>(
    db,
    sql`update queue_jobs set lease_expires_at = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
        where id = any(${sql.param(ids)}::text[]) and org_id = ${SYSTEM_ORG} and state = 'active' and worker_id = ${workerId}
        returning id`,
  );
  return rows.map((r) => r.id);
}

/** Lets jobs this worker gives up on (a bounded shutdown) lapse now, so another worker takes them at once. */
export async function releaseSystemJobs(db: DbOrTx, ids: string[], workerId: string): Promise<void> {
  if (!ids.length) return;
  await db.execute(
    sql`update queue_jobs set lease_expires_at = now(), updated_at = now()
        where id = any(${sql.param(ids)}::text[]) and org_id = ${SYSTEM_ORG} and state = 'active' and worker_id = ${workerId}`,
  );
}

/** False when the job is no longer this worker's (its lease lapsed and another worker took it). */
export async function completeSystemJob(db: DbOrTx, id: string, workerId: string, result: unknown): Promise<boolean> {
  const rows = await rowsOf<{ id: string }>(
    db,
    sql`update queue_jobs set state = 'completed', result = ${JSON.stringify(result ?? null)}::jsonb, finished_at = now(),
          lease_expires_at = null, updated_at = now()
        where id = ${id} and org_id = ${SYSTEM_ORG} and state = 'active' and worker_id = ${workerId}
        returning id`,
  );
  return rows.length > 0;
}

/** Retried after backoff_seconds × 2^(attempts − 1) while attempts remain (and `retry`), else dead-lettered. */
export async function failSystemJob(
  db: DbOrTx,
  id: string,
  workerId: string,
  error: Record<string, unknown>,
  retry = true,
): Promise<Pick<JobRow, 'state' | 'run_at' | 'attempts'> | undefined> {
  const [row] = await rowsOf<Pick<JobRow, 'state' | 'run_at' | 'attempts'>>(
    db,
    sql`update queue_jobs set
          state = case when ${retry} and attempts < max_attempts then 'waiting' else 'failed' end,
          run_at = case when ${retry} and attempts < max_attempts
            then now() + make_interval(secs => least(backoff_seconds * power(2, greatest(attempts - 1, 0)), ${MAX_BACKOFF_SECONDS}))
            else run_at end,
          finished_at = case when ${retry} and attempts < max_attempts then null else now() end,
          worker_id = case when ${retry} and attempts < max_attempts then null else worker_id end,
          error = ${JSON.stringify(error)}::jsonb, lease_expires_at = null, updated_at = now()
        where id = ${id} and org_id = ${SYSTEM_ORG} and state = 'active' and worker_id = ${workerId}
        returning state, run_at, attempts`,
  );
  return row;
}

export interface SystemSchedule {
  type: string;
  cron: string;
  tz: string;
  max_attempts: number;
  backoff_seconds: number;
  timeout_seconds: number;
}

/** Removes the schedule of a job type (one the operator turned off). */
export async function deleteSystemSchedule(db: DbOrTx, type: string): Promise<void> {
  await db.execute(sql`delete from queue_schedules where org_id = ${SYSTEM_ORG} and queue = ${type} and key = ${type}`);
}

/**
 * Registers (or updates) the schedule of a job type: one per type, keyed by it, firing singleton jobs. Every worker
 * does this at start; the next occurrence is kept unless the expression changed, so restarts do not shift it.
 */
export async function upsertSystemSchedule(db: DbOrTx, s: SystemSchedule): Promise<void> {
  const next = nextRun({ cron: s.cron, tz: s.tz, every_seconds: null }, new Date());
  await db.execute(
    sql`insert into queue_schedules (id, org_id, queue, key, task_type, payload, priority, max_attempts, backoff_seconds,
          timeout_seconds, cron, tz, every_seconds, next_run_at, singleton_key)
        values (${newId('schedule')}, ${SYSTEM_ORG}, ${s.type}, ${s.type}, ${s.type}, '{}'::jsonb, 0, ${s.max_attempts},
          ${s.backoff_seconds}, ${s.timeout_seconds}, ${s.cron}, ${s.tz}, null, ${next.toISOString()}::timestamptz, ${s.type})
        on conflict (org_id, queue, key) where key is not null do update set
          max_attempts = excluded.max_attempts, backoff_seconds = excluded.backoff_seconds,
          timeout_seconds = excluded.timeout_seconds, singleton_key = excluded.singleton_key,
          next_run_at = case when queue_schedules.cron is distinct from excluded.cron or queue_schedules.tz <> excluded.tz
            then excluded.next_run_at else queue_schedules.next_run_at end,
          cron = excluded.cron, tz = excluded.tz, updated_at = now()
          where (queue_schedules.cron, queue_schedules.tz, queue_schedules.max_attempts, queue_schedules.backoff_seconds,
                 queue_schedules.timeout_seconds) is distinct from
                (excluded.cron, excluded.tz, excluded.max_attempts, excluded.backoff_seconds, excluded.timeout_seconds)
             or queue_schedules.singleton_key is distinct from excluded.singleton_key`,
  );
}
