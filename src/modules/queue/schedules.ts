// Recurring submissions: a cron expression in a time zone (5 fields, or 6 with seconds), or every N seconds. The
// worker fires due schedules (see jobs.ts): one job per occurrence, occurrences missed while no worker ran are
// skipped, the next one is computed from now.
import { CronExpressionParser } from 'cron-parser';
import { sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { paginate, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import type { DbOrTx } from '../../db/client.ts';
import { queueSchedules } from '../../db/schema/queue.ts';
import { recordActivity } from '../activity/record.ts';
import { DEFAULTS, ensureQueues, insertJobs, type NewJob, rowsOf } from './service.ts';
import { notifyQueues, wakeupKey } from './wakeups.ts';

export type ScheduleRow = {
  id: string;
  org_id: string;
  queue: string;
  key: string | null;
  task_type: string;
  payload: Record<string, unknown>;
  priority: number;
  max_attempts: number;
  backoff_seconds: number;
  timeout_seconds: number;
  cron: string | null;
  tz: string;
  every_seconds: number | null;
  next_run_at: Date;
  last_run_at: Date | null;
  last_job_id: string | null;
  singleton_key: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
};

export function presentSchedule(r: ScheduleRow) {
  return {
    id: r.id,
    queue: r.queue,
    key: r.key,
    task_type: r.task_type,
    payload: r.payload,
    cron: r.cron,
    tz: r.tz,
    every_seconds: r.every_seconds,
    priority: r.priority,
    max_attempts: r.max_attempts,
    backoff_seconds: r.backoff_seconds,
    timeout_seconds: r.timeout_seconds,
    next_run_at: r.next_run_at.toISOString(),
    last_run_at: iso(r.last_run_at),
    last_job_id: r.last_job_id,
    created_by: r.created_by,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

/** Is `tz` an IANA time zone this runtime knows? */
export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The parser's complaint about a cron expression, or undefined when it is valid. */
export function cronProblem(cron: string, tz = 'UTC'): string | undefined {
  try {
    CronExpressionParser.parse(cron, { tz, strict: false });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The first occurrence strictly after `after`. */
export function nextRun(s: { cron: string | null; tz: string; every_seconds: number | null; next_run_at?: Date }, after: Date): Date {
  if (s.cron) return CronExpressionParser.parse(s.cron, { tz: s.tz, currentDate: after }).next().toDate();
  const every = (s.every_seconds ?? 60) * 1000;
  // Keep the cadence of the previous occurrence when there is one; skip the ones already missed.
  const base = s.next_run_at ?? after;
  if (base.getTime() > after.getTime()) return base;
  return new Date(base.getTime() + (Math.floor((after.getTime() - base.getTime()) / every) + 1) * every);
}

export interface ScheduleInput {
  queue: string;
  key?: string;
  task_type: string;
  payload: Record<string, unknown>;
  priority?: number;
  max_attempts?: number;
  backoff_seconds?: number;
  timeout_seconds?: number;
  cron?: string;
  tz: string;
  every_seconds?: number;
}

export async function createSchedule(ctx: Ctx, input: ScheduleInput) {
  const orgId = requireOrg(ctx);
  if ((input.cron === undefined) === (input.every_seconds === undefined)) {
    throw invalid('Give either `cron` (with an optional `tz`) or `every_seconds`.', [
      { field: input.cron === undefined ? 'cron' : 'every_seconds', location: 'body', message: 'exactly one of cron, every_seconds' },
    ]);
  }
  // The field schemas checked the expression and the zone apart; together they must still make a schedule.
  const problem = input.cron !== undefined ? cronProblem(input.cron, input.tz) : undefined;
  if (problem)
    throw invalid(`Invalid cron expression for time zone ${input.tz}: ${problem}`, [{ field: 'cron', location: 'body', message: problem }]);
  const spec = { cron: input.cron ?? null, tz: input.tz, every_seconds: input.every_seconds ?? null };
  const next = nextRun(spec, new Date());
  await ensureQueues(ctx, orgId, [input.queue]);
  const values = sql`${input.task_type}, ${JSON.stringify(input.payload)}::jsonb, ${input.priority ?? DEFAULTS.priority},
    ${input.max_attempts ?? DEFAULTS.max_attempts}, ${input.backoff_seconds ?? DEFAULTS.backoff_seconds},
    ${input.timeout_seconds ?? DEFAULTS.timeout_seconds}, ${spec.cron}, ${spec.tz}, ${spec.every_seconds}, ${next.toISOString()}::timestamptz`;
  // A schedule with a key replaces the queue's schedule of that key (deploy scripts re-register theirs).
  const [row] = await rowsOf<ScheduleRow>(
    ctx.db,
    sql`insert into queue_schedules (id, org_id, queue, key, task_type, payload, priority, max_attempts, backoff_seconds,
          timeout_seconds, cron, tz, every_seconds, next_run_at, created_by)
        values (${newId('schedule')}, ${orgId}, ${input.queue}, ${input.key ?? null}, ${values}, ${ctx.actorId})
        on conflict (org_id, queue, key) where key is not null do update set
          task_type = excluded.task_type, payload = excluded.payload, priority = excluded.priority,
          max_attempts = excluded.max_attempts, backoff_seconds = excluded.backoff_seconds,
          timeout_seconds = excluded.timeout_seconds, cron = excluded.cron, tz = excluded.tz,
          every_seconds = excluded.every_seconds, next_run_at = excluded.next_run_at, updated_at = now()
        returning *`,
  );
  await recordActivity(ctx, {
    action: 'queue.schedule_created',
    entityType: 'queue_schedule',
    entityId: row.id,
    metadata: { queue: row.queue, task_type: row.task_type, cron: row.cron, tz: row.tz, every_seconds: row.every_seconds, key: row.key },
  });
  return presentSchedule(row);
}

export async function listSchedules(ctx: Ctx, input: PageInput & { queue?: string }) {
  const orgId = requireOrg(ctx);
  return paginate(
    input,
    queueSchedules.id,
    (w) =>
      rowsOf<ScheduleRow>(
        ctx.db,
        sql`select * from queue_schedules where org_id = ${orgId}
              ${input.queue ? sql`and queue = ${input.queue}` : sql``} ${w.after ? sql`and ${w.after}` : sql``}
            order by id desc limit ${w.limit} offset ${w.offset}`,
      ),
    (r) => r.id,
    presentSchedule,
  );
}

export async function deleteSchedule(ctx: Ctx, id: string) {
  const orgId = requireOrg(ctx);
  const [row] = await rowsOf<ScheduleRow>(ctx.db, sql`delete from queue_schedules where id = ${id} and org_id = ${orgId} returning *`);
  if (!row) throw notFound('Schedule');
  await recordActivity(ctx, { action: 'queue.schedule_deleted', entityType: 'queue_schedule', entityId: id, metadata: { queue: row.queue } });
  return { id, deleted: true as const };
}

/**
 * Fires every due schedule (up to `limit`) in one transaction: one job each, next occurrence computed, claimers
 * woken. `SKIP LOCKED` lets several workers tick at once without firing a schedule twice.
 */
export async function fireDueSchedules(db: DbOrTx, limit = 200): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await rowsOf<ScheduleRow>(
      tx,
      sql`select * from queue_schedules where next_run_at <= now() order by next_run_at limit ${limit} for update skip locked`,
    );
    if (due.length === 0) return 0;
    const now = new Date();
    const byOrg = new Map<string, { schedule: ScheduleRow; job: NewJob }[]>();
    for (const s of due) {
      const job: NewJob = {
        id: newId('job'),
        queue: s.queue,
        task_type: s.task_type,
        payload: s.payload,
        priority: s.priority,
        max_attempts: s.max_attempts,
        backoff_seconds: s.backoff_seconds,
        timeout_seconds: s.timeout_seconds,
        run_at: null,
        delay_seconds: 0,
        idempotency_key: null,
        singleton_key: s.singleton_key,
        schedule_id: s.id,
      };
      const list = byOrg.get(s.org_id) ?? [];
      list.push({ schedule: s, job });
      byOrg.set(s.org_id, list);
    }
    for (const [orgId, items] of byOrg) {
      await insertJobs(
        tx,
        orgId,
        items.map((i) => i.job),
        null,
      );
    }
    const updates = due.map((s) => ({
      id: s.id,
      next_run_at: safeNext(s, now).toISOString(),
      last_job_id: [...byOrg.values()].flat().find((i) => i.schedule.id === s.id)?.job.id ?? null,
    }));
    await tx.execute(
      sql`update queue_schedules s set next_run_at = x.next_run_at, last_run_at = now(), last_job_id = x.last_job_id, updated_at = now()
          from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as x(id text, next_run_at timestamptz, last_job_id text)
          where s.id = x.id`,
    );
    await notifyQueues(
      tx,
      due.map((s) => wakeupKey(s.org_id, s.queue)),
    );
    return due.length;
  });
}

/** A schedule whose expression stopped parsing (a time zone removed from the runtime) retries in an hour, not forever. */
function safeNext(s: ScheduleRow, now: Date): Date {
  try {
    return nextRun(s, now);
  } catch {
    return new Date(now.getTime() + 3_600_000);
  }
}
