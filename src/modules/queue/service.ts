// The public job queue: clients submit jobs and their own workers claim them over HTTP with leases.
//
// A claim takes up to `batch_size` ready jobs of one queue in one statement (`FOR UPDATE SKIP LOCKED`, so
// concurrent claimers never get the same job) and gives each a lease held by the claiming `worker_id`. Complete,
// fail and heartbeat succeed only for that worker while the lease runs; afterwards they are refused with 409, and
// the job goes back to the queue (claims of the queue requeue lapsed jobs, at most twice a second per queue and
// instance; the worker's sweep catches queues nobody claims from). Every claim counts as an attempt; a job out of
// attempts is dead-lettered (failed).
//
// Hot paths (claim, heartbeat, complete, fail) are single statements run outside a transaction and write no
// activity row: the job row itself records who did what (worker_id, attempts, result, error, timestamps).
import { sql, type SQL } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, conflict, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { paginate, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import type { Database, DbOrTx } from '../../db/client.ts';
import type { JobState } from '../../db/schema/queue.ts';
import { queueJobs } from '../../db/schema/queue.ts';
import { recordActivity } from '../activity/record.ts';
import { notifyQueues, wakeupKey } from './wakeups.ts';

export const DEFAULTS = { priority: 0, max_attempts: 3, backoff_seconds: 5, timeout_seconds: 300 } as const;
/** Longest retry delay, whatever the backoff base and attempt. */
const MAX_BACKOFF_SECONDS = 6 * 3600;
/** How often a long poll looks again without a notification (delayed jobs coming due, lapsed leases). */
const RECHECK_MS = 1000;

export type JobRow = {
  id: string;
  org_id: string;
  queue: string;
  task_type: string;
  payload: Record<string, unknown>;
  state: JobState;
  priority: number;
  attempts: number;
  max_attempts: number;
  backoff_seconds: number;
  timeout_seconds: number;
  run_at: Date;
  worker_id: string | null;
  lease_expires_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  result: unknown;
  error: Record<string, unknown> | null;
  idempotency_key: string | null;
  singleton_key: string | null;
  schedule_id: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
};

export type PresentedState = JobState | 'delayed';

export function presentJob(r: JobRow, now = Date.now()) {
  return {
    id: r.id,
    queue: r.queue,
    task_type: r.task_type,
    state: (r.state === 'waiting' && r.run_at.getTime() > now ? 'delayed' : r.state) as PresentedState,
    priority: r.priority,
    attempts: r.attempts,
    max_attempts: r.max_attempts,
    payload: r.payload,
    result: r.result ?? null,
    error: r.error ?? null,
    worker_id: r.worker_id,
    lease_expires_at: iso(r.lease_expires_at),
    run_at: r.run_at.toISOString(),
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
    backoff_seconds: r.backoff_seconds,
    timeout_seconds: r.timeout_seconds,
    idempotency_key: r.idempotency_key,
    singleton_key: r.singleton_key,
    schedule_id: r.schedule_id,
    created_by: r.created_by,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

/** PostgreSQL's text form of a timestamptz (drizzle leaves raw-query timestamps unparsed) → Date. */
function toDate(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  // The common case, a UTC session (`2030-01-31 12:00:00.123456+00`), without the general date parser.
  if (v.length >= 22 && v.endsWith('+00') && v[10] === ' ') {
    const ms = v[19] === '.' ? Number(v.slice(20, Math.min(23, v.length - 3)).padEnd(3, '0')) : 0;
    return new Date(Date.UTC(+v.slice(0, 4), +v.slice(5, 7) - 1, +v.slice(8, 10), +v.slice(11, 13), +v.slice(14, 16), +v.slice(17, 19), ms));
  }
  return new Date(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

const TIMESTAMP_COLUMNS = ['run_at', 'lease_expires_at', 'started_at', 'finished_at', 'created_at', 'updated_at', 'next_run_at', 'last_run_at'];

/** Runs a raw query; the timestamp columns of its rows come back as Dates. */
export async function rowsOf<T extends Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const rows = (await db.execute<Record<string, unknown>>(query)).rows;
  for (const row of rows) for (const c of TIMESTAMP_COLUMNS) if (c in row) row[c] = toDate(row[c]);
  return rows as T[];
}

// ---- queues ----------------------------------------------------------------------------------------------------

/** Queues known to exist, per database: a queue is never deleted, so a hit spares the lookup. */
const knownQueues = new WeakMap<Database, Set<string>>();

function known(ctx: Ctx): Set<string> {
  let set = knownQueues.get(ctx.services.database);
  if (!set) {
    set = new Set();
    knownQueues.set(ctx.services.database, set);
  }
  if (set.size > 100_000) set.clear();
  return set;
}

/** A queue exists once something was submitted or scheduled to it. */
export async function ensureQueues(ctx: Ctx, orgId: string, names: string[]): Promise<void> {
  const cache = known(ctx);
  const missing = [...new Set(names)].filter((n) => !cache.has(wakeupKey(orgId, n)));
  if (missing.length === 0) return;
  await ctx.db.execute(
    sql`insert into queue_queues (org_id, name) select ${orgId}, n from unnest(${sql.param(missing)}::text[]) as n on conflict do nothing`,
  );
  // Remembered only after commit would be stricter; a rolled-back first submit merely leaves the queue existing
  // in this process's view, which a later submit makes true.
  for (const n of missing) cache.add(wakeupKey(orgId, n));
}

async function assertQueue(ctx: Ctx, orgId: string, queue: string): Promise<void> {
  const cache = known(ctx);
  if (cache.has(wakeupKey(orgId, queue))) return;
  const rows = await rowsOf(ctx.db, sql`select 1 from queue_queues where org_id = ${orgId} and name = ${queue}`);
  if (rows.length === 0) throw new AppError('not_found', `Queue \`${queue}\` not found: nothing was ever submitted to it.`);
  cache.add(wakeupKey(orgId, queue));
}

// ---- submit ----------------------------------------------------------------------------------------------------

export interface JobSpec {
  queue?: string;
  task_type?: string;
  payload?: Record<string, unknown>;
  priority?: number;
  max_attempts?: number;
  backoff_seconds?: number;
  timeout_seconds?: number;
  run_at?: string;
  delay_seconds?: number;
  idempotency_key?: string;
  singleton_key?: string;
}

export interface SubmitInput extends JobSpec {
  jobs?: JobSpec[];
}

/** A job ready to insert; `schedule_id` when a schedule fired it. */
export interface NewJob {
  id: string;
  queue: string;
  task_type: string;
  payload: Record<string, unknown>;
  priority: number;
  max_attempts: number;
  backoff_seconds: number;
  timeout_seconds: number;
  run_at: string | null;
  delay_seconds: number;
  idempotency_key: string | null;
  singleton_key: string | null;
  schedule_id: string | null;
}

interface FieldIssue {
  field: string;
  location: 'body';
  message: string;
}

/** Top-level fields are defaults for each of `jobs`; a single submit is the top level alone. */
function resolveSpecs(input: SubmitInput): NewJob[] {
  const issues: FieldIssue[] = [];
  const { jobs, ...top } = input;
  const items = jobs ?? [{}];
  const out = items.map((item, i) => {
    const at = (field: string) => (jobs ? `jobs.${i}.${field}` : field);
    const v = { ...top, ...item };
    if (!v.queue) issues.push({ field: at('queue'), location: 'body', message: 'required' });
    if (!v.task_type) issues.push({ field: at('task_type'), location: 'body', message: 'required' });
    if (v.run_at !== undefined && v.delay_seconds !== undefined) {
      issues.push({ field: at('delay_seconds'), location: 'body', message: 'give run_at or delay_seconds, not both' });
    }
    return {
      id: newId('job'),
      queue: v.queue ?? '',
      task_type: v.task_type ?? '',
      payload: v.payload ?? {},
      priority: v.priority ?? DEFAULTS.priority,
      max_attempts: v.max_attempts ?? DEFAULTS.max_attempts,
      backoff_seconds: v.backoff_seconds ?? DEFAULTS.backoff_seconds,
      timeout_seconds: v.timeout_seconds ?? DEFAULTS.timeout_seconds,
      run_at: v.run_at ?? null,
      delay_seconds: v.delay_seconds ?? 0,
      idempotency_key: v.idempotency_key ?? null,
      singleton_key: v.singleton_key ?? null,
      schedule_id: null,
    };
  });
  if (issues.length) throw invalid(`Invalid body: ${issues.map((d) => `${d.field}: ${d.message}`).join('; ')}`, issues);
  return out;
}

/**
 * Inserts jobs in one statement. Jobs whose idempotency key (or pending singleton key) already exists are not
 * inserted: the existing job stands in for them. Returns one row per input, in input order.
 */
export async function insertJobs(db: DbOrTx, orgId: string, jobs: NewJob[], createdBy: string | null): Promise<JobRow[]> {
  return insertJobRows<JobRow>(db, orgId, jobs, createdBy, sql`*`);
}

/** What a batch submit answers per job: enough to follow it up, without echoing payloads back. */
export type JobReceipt = Pick<JobRow, 'id' | 'queue' | 'task_type' | 'state' | 'run_at' | 'created_at'>;

async function insertJobRows<R extends JobReceipt>(db: DbOrTx, orgId: string, jobs: NewJob[], createdBy: string | null, columns: SQL): Promise<R[]> {
  const json = JSON.stringify(jobs);
  const inserted = await rowsOf<R>(
    db,
    sql`insert into queue_jobs (id, org_id, queue, task_type, payload, priority, max_attempts, backoff_seconds, timeout_seconds,
          run_at, idempotency_key, singleton_key, schedule_id, created_by)
        select x.id, ${orgId}, x.queue, x.task_type, x.payload, x.priority, x.max_attempts, x.backoff_seconds, x.timeout_seconds,
          coalesce(x.run_at, now() + make_interval(secs => x.delay_seconds)), x.idempotency_key, x.singleton_key, x.schedule_id, ${createdBy}
        from jsonb_to_recordset(${json}::jsonb) as x(id text, queue text, task_type text, payload jsonb, priority int,
          max_attempts int, backoff_seconds int, timeout_seconds int, run_at timestamptz, delay_seconds int,
          idempotency_key text, singleton_key text, schedule_id text)
        on conflict do nothing
        returning ${columns}`,
  );
  const byId = new Map(inserted.map((r) => [r.id, r]));
  const skipped = jobs.filter((j) => !byId.has(j.id));
  if (skipped.length === 0) return jobs.map((j) => byId.get(j.id)!);

  const existing = await rowsOf<R & Pick<JobRow, 'idempotency_key' | 'singleton_key'>>(
    db,
    sql`select j.* from queue_jobs j
        join jsonb_to_recordset(${JSON.stringify(skipped)}::jsonb) as x(queue text, idempotency_key text, singleton_key text)
          on j.org_id = ${orgId} and j.queue = x.queue
         and ((x.idempotency_key is not null and j.idempotency_key = x.idempotency_key)
           or (x.singleton_key is not null and j.singleton_key = x.singleton_key and j.state in ('waiting', 'active')))`,
  );
  return jobs.map((j) => {
    const row =
      byId.get(j.id) ??
      existing.find((e) => e.queue === j.queue && j.idempotency_key !== null && e.idempotency_key === j.idempotency_key) ??
      existing.find((e) => e.queue === j.queue && j.singleton_key !== null && e.singleton_key === j.singleton_key);
    // The job that held the key finished between the insert and this look-up: the caller may simply retry.
    if (!row) throw conflict(`A job with the same key in queue \`${j.queue}\` changed while this one was submitted; retry.`);
    return row as R;
  });
}

export function presentReceipt(r: JobReceipt, requested: string, now = Date.now()) {
  return {
    id: r.id,
    queue: r.queue,
    task_type: r.task_type,
    state: (r.state === 'waiting' && r.run_at.getTime() > now ? 'delayed' : r.state) as PresentedState,
    run_at: r.run_at.toISOString(),
    created_at: r.created_at.toISOString(),
    duplicate: r.id !== requested,
  };
}

const RECEIPT_COLUMNS = sql`id, queue, task_type, state, run_at, created_at`;

export async function submit(ctx: Ctx, input: SubmitInput) {
  const orgId = requireOrg(ctx);
  const jobs = resolveSpecs(input);
  const queues = jobs.map((j) => j.queue);
  await ensureQueues(ctx, orgId, queues);
  const keys = [...new Set(queues)].map((q) => wakeupKey(orgId, q));
  const now = Date.now();
  if (!input.jobs) {
    const [row] = await insertJobs(ctx.db, orgId, jobs, ctx.actorId);
    await notifyQueues(ctx.db, keys);
    return presentJob(row, now);
  }
  const receipts = await insertJobRows<JobReceipt>(ctx.db, orgId, jobs, ctx.actorId, RECEIPT_COLUMNS);
  await notifyQueues(ctx.db, keys);
  return { data: receipts.map((r, i) => presentReceipt(r, jobs[i].id, now)) };
}

// ---- claim -----------------------------------------------------------------------------------------------------

export interface ClaimInput {
  worker_id: string;
  queue: string;
  task_type?: string;
  batch_size: number;
  lease_seconds?: number;
  wait_seconds: number;
}

/**
 * Jobs whose lease lapsed go back to waiting (keeping their place: `run_at` is unchanged), or are dead-lettered when
 * that was their last attempt. One queue's, or every queue's (the worker's sweep).
 */
export async function requeueLapsed(db: DbOrTx, scope?: { orgId: string; queue: string }) {
  const where = scope ? sql`and org_id = ${scope.orgId} and queue = ${scope.queue}` : sql``;
  const rows = await rowsOf<{ org_id: string; queue: string; state: JobState }>(
    db,
    // A job dead-lettered here records its `job.failed` event in the same statement, as `fail` does (an org's job only:
    // the workers' system jobs have no org to tell).
    sql`with j as (update queue_jobs set
          state = case when attempts >= max_attempts then 'failed' else 'waiting' end,
          finished_at = case when attempts >= max_attempts then now() else null end,
          error = case when attempts >= max_attempts
            then jsonb_build_object('message', 'The lease expired on the last attempt (the worker stopped or timed out).')
            else error end,
          worker_id = case when attempts >= max_attempts then worker_id else null end,
          lease_expires_at = null, updated_at = now()
        where id in (select id from queue_jobs where state = 'active' and lease_expires_at < now() ${where} limit 5000 for update skip locked)
        returning *),
        ev as (insert into events (id, org_id, type, subject, data)
          select opsbase_new_id('evt'), org_id, 'job.failed', id,
            jsonb_build_object('job_id', id, 'queue', queue, 'task_type', task_type, 'attempts', attempts, 'error', error)
          from j where state = 'failed' and org_id <> 'system')
        select org_id, queue, state from j`,
  );
  const requeued = rows.filter((r) => r.state === 'waiting');
  await notifyQueues(
    db,
    requeued.map((r) => wakeupKey(r.org_id, r.queue)),
  );
  return { requeued: requeued.length, deadLettered: rows.length - requeued.length };
}

/** When this instance last requeued each queue's lapsed jobs: claims do it at most every REQUEUE_EVERY_MS. */
const lastRequeue = new WeakMap<Database, Map<string, number>>();
const REQUEUE_EVERY_MS = 500;

async function requeueIfDue(ctx: Ctx, orgId: string, queue: string): Promise<void> {
  let seen = lastRequeue.get(ctx.services.database);
  if (!seen) {
    seen = new Map();
    lastRequeue.set(ctx.services.database, seen);
  }
  const key = wakeupKey(orgId, queue);
  const now = Date.now();
  if (now - (seen.get(key) ?? 0) < REQUEUE_EVERY_MS) return;
  if (seen.size > 100_000) seen.clear();
  seen.set(key, now);
  await requeueLapsed(ctx.db, { orgId, queue });
}

/** One statement: the next ready jobs by priority and age, each given the claimer's lease and one more attempt. */
async function claimOnce(db: DbOrTx, orgId: string, input: ClaimInput): Promise<JobRow[]> {
  const taskType = input.task_type ? sql`and task_type = ${input.task_type}` : sql``;
  const rows = await rowsOf<JobRow & { seq: number }>(
    db,
    sql`with picked as (
          select id from queue_jobs
          where org_id = ${orgId} and queue = ${input.queue} and state = 'waiting' and run_at <= now() ${taskType}
          order by priority desc nulls last, run_at, seq
          limit ${input.batch_size}
          for update skip locked
        )
        update queue_jobs j set state = 'active', attempts = j.attempts + 1, worker_id = ${input.worker_id},
          lease_expires_at = now() + make_interval(secs => coalesce(${input.lease_seconds ?? null}::int, j.timeout_seconds)),
          started_at = now(), finished_at = null, updated_at = now()
        from picked where j.id = picked.id
        returning j.*`,
  );
  return rows.sort((a, b) => b.priority - a.priority || a.run_at.getTime() - b.run_at.getTime() || a.seq - b.seq);
}

export async function claim(ctx: Ctx, input: ClaimInput) {
  const orgId = requireOrg(ctx);
  const wakeups = ctx.services.queueWakeups;
  const key = wakeupKey(orgId, input.queue);
  const deadline = Date.now() + input.wait_seconds * 1000;
  let checked = false;
  for (;;) {
    const waiter = input.wait_seconds > 0 && !wakeups.closing ? await wakeups.arm(key) : undefined;
    try {
      await requeueIfDue(ctx, orgId, input.queue);
      const rows = await claimOnce(ctx.db, orgId, input);
      if (rows.length) {
        const now = Date.now();
        return { data: rows.map((r) => presentJob(r, now)) };
      }
      if (!checked) {
        await assertQueue(ctx, orgId, input.queue);
        checked = true;
      }
      const left = deadline - Date.now();
      if (!waiter || left <= 0 || wakeups.closing) return { data: [] };
      await waiter.wait(Math.min(left, RECHECK_MS));
    } finally {
      waiter?.cancel();
    }
  }
}

// ---- the claimer's verbs: heartbeat, complete, fail -------------------------------------------------------------

/** Why a worker's call on a job was refused: 404 when the org has no such job, else 409 saying what changed. */
async function refusal(db: DbOrTx, orgId: string, id: string, workerId: string, verb: string): Promise<AppError> {
  const [row] = await rowsOf<Pick<JobRow, 'state' | 'worker_id' | 'lease_expires_at'> & { lapsed: boolean }>(
    db,
    sql`select state, worker_id, lease_expires_at, lease_expires_at < now() as lapsed from queue_jobs where id = ${id} and org_id = ${orgId}`,
  );
  if (!row) return notFound('Job');
  const details = { state: row.state, worker_id: row.worker_id, lease_expires_at: iso(row.lease_expires_at) };
  if (row.state !== 'active') return conflict(`Cannot ${verb} job ${id}: it is ${row.state}, not active.`, details);
  if (row.worker_id !== workerId) return conflict(`Cannot ${verb} job ${id}: another worker (${row.worker_id}) holds it.`, details);
  return conflict(`Cannot ${verb} job ${id}: its lease expired at ${iso(row.lease_expires_at)}; the job goes back to the queue.`, details);
}

/** The condition every worker call shares: this org's job, active, held by this worker, lease still running. */
const held = (orgId: string, id: string, workerId: string) =>
  sql`id = ${id} and org_id = ${orgId} and state = 'active' and worker_id = ${workerId} and lease_expires_at >= now()`;

export async function heartbeat(ctx: Ctx, input: { id: string; worker_id: string; lease_seconds?: number }) {
  const orgId = requireOrg(ctx);
  const [row] = await rowsOf<JobRow>(
    ctx.db,
    sql`update queue_jobs set lease_expires_at = now() + make_interval(secs => coalesce(${input.lease_seconds ?? null}::int, timeout_seconds)),
          updated_at = now()
        where ${held(orgId, input.id, input.worker_id)}
        returning *`,
  );
  if (!row) throw await refusal(ctx.db, orgId, input.id, input.worker_id, 'extend the lease of');
  return presentJob(row);
}

export async function complete(ctx: Ctx, input: { id: string; worker_id: string; result?: Record<string, unknown> | null }) {
  const orgId = requireOrg(ctx);
  const [row] = await rowsOf<JobRow>(
    ctx.db,
    sql`update queue_jobs set state = 'completed', result = ${JSON.stringify(input.result ?? null)}::jsonb, finished_at = now(),
          lease_expires_at = null, updated_at = now()
        where ${held(orgId, input.id, input.worker_id)}
        returning *`,
  );
  if (!row) throw await refusal(ctx.db, orgId, input.id, input.worker_id, 'complete');
  return presentJob(row);
}

export type BatchOutcome = { id: string; outcome: 'completed' | 'conflict' | 'not_found'; message: string | null };

/** Completes many jobs in one statement; each gets its own outcome (a lapsed lease does not sink the batch). */
export async function completeBatch(ctx: Ctx, input: { worker_id: string; jobs: { id: string; result?: Record<string, unknown> | null }[] }) {
  const orgId = requireOrg(ctx);
  const items = input.jobs.map((j) => ({ id: j.id, result: j.result ?? null }));
  const done = await rowsOf<{ id: string }>(
    ctx.db,
    sql`update queue_jobs j set state = 'completed', result = x.result, finished_at = now(), lease_expires_at = null, updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as x(id text, result jsonb)
        where j.id = x.id and j.org_id = ${orgId} and j.state = 'active' and j.worker_id = ${input.worker_id} and j.lease_expires_at >= now()
        returning j.id`,
  );
  const completed = new Set(done.map((r) => r.id));
  const data: BatchOutcome[] = [];
  for (const { id } of items) {
    if (completed.has(id)) {
      data.push({ id, outcome: 'completed', message: null });
      continue;
    }
    const err = await refusal(ctx.db, orgId, id, input.worker_id, 'complete');
    data.push({ id, outcome: err.code === 'not_found' ? 'not_found' : 'conflict', message: err.message });
  }
  return { completed: completed.size, data };
}

export async function fail(ctx: Ctx, input: { id: string; worker_id: string; error: string | Record<string, unknown>; retry: boolean }) {
  const orgId = requireOrg(ctx);
  const error = typeof input.error === 'string' ? { message: input.error } : input.error;
  // Retried after backoff_seconds × 2^(attempts − 1) while attempts remain; otherwise dead-lettered (failed), which
  // records a `job.failed` event in the same statement (this operation runs outside a transaction).
  const [row] = await rowsOf<JobRow>(
    ctx.db,
    sql`with j as (update queue_jobs set
          state = case when ${input.retry} and attempts < max_attempts then 'waiting' else 'failed' end,
          run_at = case when ${input.retry} and attempts < max_attempts
            then now() + make_interval(secs => least(backoff_seconds * power(2, greatest(attempts - 1, 0)), ${MAX_BACKOFF_SECONDS}))
            else run_at end,
          finished_at = case when ${input.retry} and attempts < max_attempts then null else now() end,
          worker_id = case when ${input.retry} and attempts < max_attempts then null else worker_id end,
          error = ${JSON.stringify(error)}::jsonb, lease_expires_at = null, updated_at = now()
        where ${held(orgId, input.id, input.worker_id)}
        returning *),
        ev as (insert into events (id, org_id, type, subject, data)
          select ${newId('event')}, org_id, 'job.failed', id,
            jsonb_build_object('job_id', id, 'queue', queue, 'task_type', task_type, 'attempts', attempts, 'error', error)
          from j where state = 'failed')
        select * from j`,
  );
  if (!row) throw await refusal(ctx.db, orgId, input.id, input.worker_id, 'fail');
  if (row.state === 'waiting') await notifyQueues(ctx.db, [wakeupKey(orgId, row.queue)]);
  return presentJob(row);
}

// ---- management: cancel, retry, list, get, stats ---------------------------------------------------------------

async function findJob(ctx: Ctx, id: string): Promise<JobRow> {
  const [row] = await rowsOf<JobRow>(ctx.db, sql`select * from queue_jobs where id = ${id} and org_id = ${requireOrg(ctx)}`);
  if (!row) throw notFound('Job');
  return row;
}

export async function cancel(ctx: Ctx, id: string) {
  const orgId = requireOrg(ctx);
  const [row] = await rowsOf<JobRow>(
    ctx.db,
    sql`update queue_jobs set state = 'cancelled', finished_at = now(), lease_expires_at = null, updated_at = now()
        where id = ${id} and org_id = ${orgId} and state in ('waiting', 'active')
        returning *`,
  );
  if (!row) {
    const job = await findJob(ctx, id);
    throw conflict(`Job ${id} is ${job.state}: only waiting, delayed or active jobs can be cancelled.`, { state: job.state });
  }
  await recordActivity(ctx, { action: 'queue.job_cancelled', entityType: 'queue_job', entityId: id, metadata: { queue: row.queue } });
  return presentJob(row);
}

export async function retry(ctx: Ctx, id: string) {
  const orgId = requireOrg(ctx);
  const [row] = await rowsOf<JobRow>(
    ctx.db,
    sql`update queue_jobs set state = 'waiting', attempts = 0, run_at = now(), worker_id = null, lease_expires_at = null,
          finished_at = null, updated_at = now()
        where id = ${id} and org_id = ${orgId} and state in ('failed', 'cancelled')
        returning *`,
  ).catch((err: { code?: string }) => {
    if (err.code === '23505') throw conflict(`Job ${id} cannot be retried: another pending job of its queue has its singleton key.`);
    throw err;
  });
  if (!row) {
    const job = await findJob(ctx, id);
    throw conflict(`Job ${id} is ${job.state}: only failed or cancelled jobs can be retried.`, { state: job.state });
  }
  await notifyQueues(ctx.db, [wakeupKey(orgId, row.queue)]);
  await recordActivity(ctx, { action: 'queue.job_retried', entityType: 'queue_job', entityId: id, metadata: { queue: row.queue } });
  return presentJob(row);
}

export async function getJob(ctx: Ctx, id: string) {
  return presentJob(await findJob(ctx, id));
}

export interface ListJobsInput extends PageInput {
  queue?: string;
  state?: PresentedState;
  task_type?: string;
}

function stateFilter(state: PresentedState | undefined): SQL {
  if (!state) return sql``;
  if (state === 'waiting') return sql`and state = 'waiting' and run_at <= now()`;
  if (state === 'delayed') return sql`and state = 'waiting' and run_at > now()`;
  return sql`and state = ${state}`;
}

export async function listJobs(ctx: Ctx, input: ListJobsInput) {
  const orgId = requireOrg(ctx);
  if (input.queue) await assertQueue(ctx, orgId, input.queue);
  const now = Date.now();
  return paginate(
    input,
    queueJobs.id,
    (w) =>
      rowsOf<JobRow>(
        ctx.db,
        sql`select * from queue_jobs
            where org_id = ${orgId} ${input.queue ? sql`and queue = ${input.queue}` : sql``} ${stateFilter(input.state)}
              ${input.task_type ? sql`and task_type = ${input.task_type}` : sql``}
              ${w.after ? sql`and ${w.after}` : sql``}
            order by id desc limit ${w.limit} offset ${w.offset}`,
      ),
    (r) => r.id,
    (r) => presentJob(r, now),
  );
}

export async function stats(ctx: Ctx, input: { queue?: string }) {
  const orgId = requireOrg(ctx);
  if (input.queue) await assertQueue(ctx, orgId, input.queue);
  type StatsRow = {
    queue: string;
    waiting: number;
    delayed: number;
    active: number;
    completed: number;
    failed: number;
    cancelled: number;
    total: number;
  };
  const rows = await rowsOf<StatsRow>(
    ctx.db,
    sql`select q.name as queue,
          count(j.id) filter (where j.state = 'waiting' and j.run_at <= now())::int as waiting,
          count(j.id) filter (where j.state = 'waiting' and j.run_at > now())::int as delayed,
          count(j.id) filter (where j.state = 'active')::int as active,
          count(j.id) filter (where j.state = 'completed')::int as completed,
          count(j.id) filter (where j.state = 'failed')::int as failed,
          count(j.id) filter (where j.state = 'cancelled')::int as cancelled,
          count(j.id)::int as total
        from queue_queues q
        left join queue_jobs j on j.org_id = q.org_id and j.queue = q.name
        where q.org_id = ${orgId} ${input.queue ? sql`and q.name = ${input.queue}` : sql``}
        group by q.name
        order by q.name`,
  );
  return { data: rows };
}
