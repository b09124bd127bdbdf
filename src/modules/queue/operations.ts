import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, Timestamp } from '../../core/schemas.ts';
import * as schedules from './schedules.ts';
import * as queue from './service.ts';

const MAX_JSON_BYTES = 256 * 1024;
const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

/** A JSON object of at most 256 KiB (payloads, results). */
const JsonObject = (what: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((v) => jsonBytes(v) <= MAX_JSON_BYTES, `${what} must be at most 256 KiB as JSON`)
    .describe(`${what}: a JSON object of at most 256 KiB`);

const QueueName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'a queue name is 1–100 letters, digits, `_`, `.`, `:` or `-`, starting with a letter or digit')
  .describe('Queue name, e.g. `emails` (an org only ever sees its own queues)');
const TaskType = z.string().trim().min(1).max(200).describe('What kind of work the job is, e.g. `send_email`');
const WorkerId = z.string().trim().min(1).max(200).describe('Who claims: any stable name of the worker process, e.g. `host-1:4242`');
const Lease = z.number().int().min(1).max(43_200).describe("Lease length in seconds (default: the job's timeout_seconds)");
const JobState = z.enum(['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled']);

const JobFields = {
  queue: QueueName,
  task_type: TaskType,
  payload: JsonObject('payload'),
  priority: z.number().int().min(-1000).max(1000).describe('Higher runs first (default 0)'),
  max_attempts: z.number().int().min(1).max(100).describe('Claims before the job is dead-lettered (default 3)'),
  backoff_seconds: z.number().int().min(0).max(86_400).describe('Retry delay after a fail: backoff_seconds × 2^(attempt − 1) (default 5)'),
  timeout_seconds: z.number().int().min(1).max(43_200).describe('Default lease of a claim, in seconds (default 300)'),
  run_at: z.iso.datetime({ offset: true }).describe('Not before this time (or give delay_seconds)'),
  delay_seconds: z.number().int().min(0).max(31_536_000).describe('Not before this many seconds from now'),
  idempotency_key: z.string().min(1).max(200).describe('Submitting the same key to the queue again returns the first job'),
  singleton_key: z.string().min(1).max(200).describe('At most one waiting or active job per key and queue; a duplicate returns it'),
};
const OptionalJobFields = Object.fromEntries(Object.entries(JobFields).map(([k, v]) => [k, v.optional()])) as {
  [K in keyof typeof JobFields]: z.ZodOptional<(typeof JobFields)[K]>;
};

export const QueueJob = z
  .object({
    id: z.string(),
    queue: z.string(),
    task_type: z.string(),
    state: JobState.describe('`delayed`: waiting for its run_at (a later start or a retry backoff)'),
    priority: z.number().int(),
    attempts: z.number().int().describe('Claims so far'),
    max_attempts: z.number().int(),
    payload: z.record(z.string(), z.unknown()),
    result: z.unknown().describe('What the worker completed it with'),
    error: z.record(z.string(), z.unknown()).nullable().describe('The last failure: `{ message, … }`'),
    worker_id: z.string().nullable().describe('Who holds (active) or last held it'),
    lease_expires_at: Timestamp.nullable(),
    run_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    backoff_seconds: z.number().int(),
    timeout_seconds: z.number().int(),
    idempotency_key: z.string().nullable(),
    singleton_key: z.string().nullable(),
    schedule_id: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'QueueJob' });

const Schedule = z
  .object({
    id: z.string(),
    queue: z.string(),
    key: z.string().nullable(),
    task_type: z.string(),
    payload: z.record(z.string(), z.unknown()),
    cron: z.string().nullable(),
    tz: z.string(),
    every_seconds: z.number().int().nullable(),
    priority: z.number().int(),
    max_attempts: z.number().int(),
    backoff_seconds: z.number().int(),
    timeout_seconds: z.number().int(),
    next_run_at: Timestamp,
    last_run_at: Timestamp.nullable(),
    last_job_id: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'QueueSchedule' });

const QueueStats = z
  .object({
    queue: z.string(),
    waiting: z.number().int(),
    delayed: z.number().int(),
    active: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    total: z.number().int(),
  })
  .meta({ id: 'QueueStats' });

const JobReceipt = z
  .object({
    id: z.string(),
    queue: z.string(),
    task_type: z.string(),
    state: JobState,
    run_at: Timestamp,
    created_at: Timestamp,
    duplicate: z.boolean().describe('true: an existing job with the same idempotency or singleton key stands for this one'),
  })
  .meta({ id: 'QueueJobReceipt' });

const jobColumns = ['id', 'queue', 'task_type', 'state', 'attempts', 'worker_id', 'run_at'];
const id = IdParam('Job');
const Jobs = z.object({ data: z.array(QueueJob) });

export const submitJob = defineOperation({
  id: 'queue.submit',
  method: 'POST',
  path: '/queue/jobs',
  aliases: ['/task-queue/submit', '/bull-queue/submit'],
  summary: 'Submit a job (or many: `jobs: [...]`, up to 1,000, with the top-level fields as their defaults)',
  description:
    'One job: `{ queue, task_type, payload, … }` → the job. Many: `{ queue, jobs: [{ task_type, payload }, …] }` → `{ data: [receipts] }` ' +
    'in the same order (id, state, run_at, duplicate; not the payloads back). A repeated `idempotency_key` (or a pending `singleton_key`) ' +
    'returns the existing job instead of a new one.',
  scopes: ['queue:write'],
  input: z.object({
    ...OptionalJobFields,
    jobs: z
      .array(z.object(OptionalJobFields))
      .min(1)
      .max(1000)
      .optional()
      .describe('Many jobs in one request; the top-level fields are their defaults'),
  })
    // One job needs `queue` and `task_type`; a batch needs `jobs`, each with them (or their defaults at the top level).
    // The server checks that (400 naming each missing field); OpenAPI says it with this anyOf.
    .meta({ anyOf: [{ required: ['queue', 'task_type'] }, { required: ['jobs'] }] }),
  output: z.union([QueueJob, z.object({ data: z.array(JobReceipt) })]),
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.submit(ctx, input),
});

export const submitScheduled = defineOperation({
  id: 'queue.submit_scheduled',
  method: 'POST',
  path: '/queue/jobs/scheduled',
  aliases: ['/bull-queue/submit-scheduled'],
  summary: 'Schedule a recurring job: `cron` (with `tz`) or `every_seconds`',
  description: 'A schedule with a `key` replaces the queue’s existing schedule of that key. Occurrences missed while no worker ran are skipped.',
  scopes: ['queue:write'],
  input: z.object({
    queue: QueueName,
    task_type: TaskType,
    payload: JsonObject('payload').default({}),
    cron: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine((v) => !schedules.cronProblem(v), { error: (iss) => `invalid cron expression: ${schedules.cronProblem(String(iss.input))}` })
      .optional()
      .describe('Cron expression, 5 fields (or 6 with seconds first), e.g. `*/5 * * * *`'),
    tz: z
      .string()
      .min(1)
      .max(100)
      .refine(schedules.validTimeZone, 'not a known IANA time zone (e.g. `Europe/Paris`)')
      .default('UTC')
      .describe('Time zone the cron expression is read in (default UTC)'),
    every_seconds: z.number().int().min(1).max(31_536_000).optional().describe('Instead of cron: every this many seconds'),
    key: z.string().min(1).max(200).optional().describe('Name of the schedule within its queue; re-submitting a key replaces it'),
    priority: JobFields.priority.optional(),
    max_attempts: JobFields.max_attempts.optional(),
    backoff_seconds: JobFields.backoff_seconds.optional(),
    timeout_seconds: JobFields.timeout_seconds.optional(),
  }),
  output: Schedule,
  cli: { columns: ['id', 'queue', 'task_type', 'cron', 'tz', 'every_seconds', 'next_run_at'] },
  handler: (ctx, input) => schedules.createSchedule(ctx, input),
});

export const listSchedules = defineOperation({
  id: 'queue.schedules.list',
  method: 'GET',
  path: '/queue/schedules',
  summary: 'List recurring job schedules',
  scopes: ['queue:read'],
  input: PageInput.extend({ queue: QueueName.optional() }),
  output: listOf(Schedule),
  cli: { columns: ['id', 'queue', 'task_type', 'cron', 'tz', 'every_seconds', 'next_run_at', 'last_run_at'] },
  handler: (ctx, input) => schedules.listSchedules(ctx, input),
});

export const deleteSchedule = defineOperation({
  id: 'queue.schedules.delete',
  method: 'DELETE',
  path: '/queue/schedules/:id',
  summary: 'Delete a schedule (jobs it already submitted stay)',
  scopes: ['queue:write'],
  input: z.object({ id: IdParam('Schedule') }),
  output: Deleted,
  handler: (ctx, input) => schedules.deleteSchedule(ctx, input.id),
});

export const claimJobs = defineOperation({
  id: 'queue.claim',
  method: 'POST',
  path: '/queue/claim',
  aliases: ['/task-queue/claim'],
  summary: 'Claim up to `batch_size` ready jobs of a queue, each with a lease held by `worker_id`',
  description:
    'Returns `{ data: [] }` when nothing is ready; with `wait_seconds` it first waits (long poll) up to that long for a job. A claimed job ' +
    'must be completed, failed or heartbeated by the same worker before its lease ends; otherwise it returns to the queue and those calls ' +
    'get 409. Every claim counts as an attempt.',
  scopes: ['queue:write'],
  status: 200,
  transaction: false,
  input: z.object({
    worker_id: WorkerId,
    queue: QueueName,
    task_type: TaskType.optional().describe('Only jobs of this task type'),
    batch_size: z.number().int().min(1).max(100).default(1).describe('Most jobs to take (1–100, default 1)'),
    lease_seconds: Lease.optional(),
    wait_seconds: z.number().min(0).max(20).default(0).describe('Long poll: wait up to this long (≤ 20 s) for a job when none is ready'),
  }),
  output: Jobs,
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.claim(ctx, input),
});

export const heartbeatJob = defineOperation({
  id: 'queue.heartbeat',
  method: 'POST',
  path: '/queue/jobs/:id/heartbeat',
  summary: 'Extend the lease of a claimed job (409 when the lease already lapsed or another worker holds it)',
  scopes: ['queue:write'],
  status: 200,
  transaction: false,
  input: z.object({ id, worker_id: WorkerId, lease_seconds: Lease.optional().describe('New lease from now (default: timeout_seconds)') }),
  output: QueueJob,
  cli: { columns: ['id', 'state', 'worker_id', 'lease_expires_at'] },
  handler: (ctx, input) => queue.heartbeat(ctx, input),
});

export const completeJob = defineOperation({
  id: 'queue.complete',
  method: 'POST',
  path: '/queue/jobs/:id/complete',
  summary: 'Complete a claimed job with its result (409 when the lease lapsed or another worker holds it)',
  scopes: ['queue:write'],
  status: 200,
  transaction: false,
  input: z.object({ id, worker_id: WorkerId, result: JsonObject('result').nullish() }),
  output: QueueJob,
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.complete(ctx, input),
});

export const completeJobs = defineOperation({
  id: 'queue.complete_batch',
  method: 'POST',
  path: '/queue/complete',
  summary: 'Complete many claimed jobs in one request; each gets its own outcome',
  description: 'Per job: `completed`, `conflict` (not active, another worker holds it, or its lease lapsed) or `not_found`.',
  scopes: ['queue:write'],
  status: 200,
  transaction: false,
  input: z.object({
    worker_id: WorkerId,
    jobs: z
      .array(z.object({ id, result: JsonObject('result').nullish() }))
      .min(1)
      .max(100),
  }),
  output: z.object({
    completed: z.number().int(),
    data: z.array(z.object({ id: z.string(), outcome: z.enum(['completed', 'conflict', 'not_found']), message: z.string().nullable() })),
  }),
  cli: { columns: ['id', 'outcome', 'message'] },
  handler: (ctx, input) => queue.completeBatch(ctx, input),
});

export const failJob = defineOperation({
  id: 'queue.fail',
  method: 'POST',
  path: '/queue/jobs/:id/fail',
  summary: 'Fail a claimed job: retried after an exponential backoff while attempts remain, then dead-lettered (failed)',
  scopes: ['queue:write'],
  status: 200,
  transaction: false,
  input: z.object({
    id,
    worker_id: WorkerId,
    error: z
      .union([z.string().min(1).max(10_000), z.record(z.string(), z.unknown()).refine((v) => jsonBytes(v) <= 64 * 1024, 'at most 64 KiB')])
      .describe('What went wrong: a message, or an object such as `{ message, code }`'),
    retry: z.boolean().default(true).describe('false: dead-letter now, whatever attempts remain'),
  }),
  output: QueueJob,
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.fail(ctx, input),
});

export const cancelJob = defineOperation({
  id: 'queue.cancel',
  method: 'POST',
  path: '/queue/jobs/:id/cancel',
  summary: 'Cancel a waiting, delayed or active job (its worker then gets 409)',
  scopes: ['queue:write'],
  status: 200,
  input: z.object({ id }),
  output: QueueJob,
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.cancel(ctx, input.id),
});

export const retryJob = defineOperation({
  id: 'queue.retry',
  method: 'POST',
  path: '/queue/jobs/:id/retry',
  summary: 'Put a failed (dead-lettered) or cancelled job back in its queue with fresh attempts',
  scopes: ['queue:write'],
  status: 200,
  input: z.object({ id }),
  output: QueueJob,
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.retry(ctx, input.id),
});

export const listJobs = defineOperation({
  id: 'queue.jobs.list',
  method: 'GET',
  path: '/queue/jobs',
  aliases: ['/bull-queue/:queue/jobs'],
  summary: 'List jobs, newest first, by queue, state and task type',
  scopes: ['queue:read'],
  input: PageInput.extend({ queue: QueueName.optional(), state: JobState.optional(), task_type: TaskType.optional() }),
  output: listOf(QueueJob),
  cli: { columns: jobColumns },
  handler: (ctx, input) => queue.listJobs(ctx, input),
});

export const getJob = defineOperation({
  id: 'queue.jobs.get',
  method: 'GET',
  path: '/queue/jobs/:id',
  summary: 'Get a job: state, attempts, payload, result or last error',
  scopes: ['queue:read'],
  input: z.object({ id }),
  output: QueueJob,
  cli: { columns: [...jobColumns, 'lease_expires_at', 'finished_at'] },
  handler: (ctx, input) => queue.getJob(ctx, input.id),
});

export const queueStats = defineOperation({
  id: 'queue.stats',
  method: 'GET',
  path: '/queue/stats',
  aliases: ['/bull-queue/stats'],
  summary: 'Jobs per state of each queue (or of `queue`)',
  scopes: ['queue:read'],
  input: z.object({ queue: QueueName.optional() }),
  output: z.object({ data: z.array(QueueStats) }),
  cli: { columns: ['queue', 'waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'], watch: true },
  handler: (ctx, input) => queue.stats(ctx, input),
});

export const queueOperations = [
  submitJob,
  submitScheduled,
  listSchedules,
  deleteSchedule,
  claimJobs,
  heartbeatJob,
  completeJob,
  completeJobs,
  failJob,
  cancelJob,
  retryJob,
  listJobs,
  getJob,
  queueStats,
];
