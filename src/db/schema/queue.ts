// The job queue: the public one (issue 4), whose jobs clients' own workers claim over HTTP with leases, and the
// workers' internal jobs (`defineJob`), which live in the same tables under the org id `system` (SYSTEM_ORG in
// modules/queue/system.ts) that no org's credential can name. See docs/queue.md.
import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Stored states; `delayed` is presented for a waiting job whose `run_at` is still ahead. */
export const JOB_STATES = ['waiting', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** The queues an org has used: a queue exists once something was submitted (or scheduled) to it. */
export const queueQueues = pgTable(
  'queue_queues',
  {
    orgId: text('org_id').notNull(),
    name: text('name').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.name] })],
);

export const queueJobs = pgTable(
  'queue_jobs',
  {
    id: text('id').primaryKey(),
    /** Submission order (ids made in the same millisecond do not sort by it): first in, first out among equals. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    orgId: text('org_id').notNull(),
    queue: text('queue').notNull(),
    taskType: text('task_type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    state: text('state', { enum: JOB_STATES }).notNull().default('waiting'),
    /** Higher first. */
    priority: integer('priority').notNull().default(0),
    /** Claims so far (a claim is an attempt, whether it ends in complete, fail or a lapsed lease). */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    /** Base of the exponential retry delay: backoff_seconds × 2^(attempts − 1). */
    backoffSeconds: integer('backoff_seconds').notNull().default(5),
    /** The lease a claim gets when it does not ask for one. */
    timeoutSeconds: integer('timeout_seconds').notNull().default(300),
    runAt: ts('run_at').notNull().defaultNow(),
    workerId: text('worker_id'),
    leaseExpiresAt: ts('lease_expires_at'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    result: jsonb('result'),
    error: jsonb('error'),
    idempotencyKey: text('idempotency_key'),
    singletonKey: text('singleton_key'),
    scheduleId: text('schedule_id'),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // The claim: the next ready jobs of one queue, highest priority first, then oldest.
    index('queue_jobs_ready_idx').on(t.orgId, t.queue, t.priority.desc(), t.runAt, t.seq).where(sql`state = 'waiting'`),
    // Lapsed leases, found by claims (per queue) and by the worker's sweep (all queues).
    index('queue_jobs_lease_idx').on(t.orgId, t.queue, t.leaseExpiresAt).where(sql`state = 'active'`),
    // Lists (newest first) and stats. Deliberately the only general index: every claim and completion rewrites the
    // row into each index (no HOT update survives a state change), so each one costs throughput. Pruning walks the
    // primary key instead (ids are time-sortable).
    index('queue_jobs_org_idx').on(t.orgId, t.id),
    uniqueIndex('queue_jobs_idempotency_idx').on(t.orgId, t.queue, t.idempotencyKey).where(sql`idempotency_key is not null`),
    // At most one pending (waiting or active) job per singleton key.
    uniqueIndex('queue_jobs_singleton_idx')
      .on(t.orgId, t.queue, t.singletonKey)
      .where(sql`singleton_key is not null and state in ('waiting', 'active')`),
  ],
);

/** Recurring submissions: a cron expression in a time zone, or every N seconds. The worker fires them. */
export const queueSchedules = pgTable(
  'queue_schedules',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    queue: text('queue').notNull(),
    /** Optional name; submitting a schedule with a key the queue already has replaces that schedule. */
    key: text('key'),
    taskType: text('task_type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    priority: integer('priority').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    backoffSeconds: integer('backoff_seconds').notNull().default(5),
    timeoutSeconds: integer('timeout_seconds').notNull().default(300),
    cron: text('cron'),
    tz: text('tz').notNull().default('UTC'),
    everySeconds: integer('every_seconds'),
    nextRunAt: ts('next_run_at').notNull(),
    lastRunAt: ts('last_run_at'),
    lastJobId: text('last_job_id'),
    /** The singleton_key of the jobs it fires (the workers' own periodic jobs: never two pending at once). */
    singletonKey: text('singleton_key'),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('queue_schedules_due_idx').on(t.nextRunAt),
    index('queue_schedules_org_idx').on(t.orgId, t.id),
    uniqueIndex('queue_schedules_key_idx').on(t.orgId, t.queue, t.key).where(sql`key is not null`),
  ],
);
