// Task runs (issue 11): one attempt of an agent at a task, paid (its hold is taken before it is queued and settled
// exactly once), executed as a system job of the queue engine, with its events stored in order for the live stream.
import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import { orgs } from './orgs.ts';
import { tasks } from './tasks.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    agentId: text('agent_id').references(() => agents.id, { onDelete: 'set null' }),
    runtime: text('runtime').notNull(),
    model: text('model'),
    status: text('status').$type<RunStatus>().notNull().default('queued'),
    /** Why a run ended as it did (`budget`, `cancelled`, `timeout`, `worker_lost`, `provider_error`, …). */
    reason: text('reason'),
    /** Which attempt of its job is (or was last) executing it: > 1 after a worker died mid-run. */
    attempt: integer('attempt').notNull().default(0),
    /** The system job executing it (`runs.execute`). */
    jobId: text('job_id'),
    /** The credits hold: committed on success, released otherwise — once (holds settle only while open). */
    holdId: text('hold_id'),
    credits: bigint('credits', { mode: 'number' }).notNull().default(0),
    /** Credits actually spent: `credits` once committed, 0 when released. */
    creditsSpent: bigint('credits_spent', { mode: 'number' }).notNull().default(0),
    tokensIn: bigint('tokens_in', { mode: 'number' }).notNull().default(0),
    tokensOut: bigint('tokens_out', { mode: 'number' }).notNull().default(0),
    steps: integer('steps').notNull().default(0),
    result: text('result'),
    error: jsonb('error').$type<{ code: string; message: string } | null>(),
    /** Rule ids the run's system prompt contained. */
    ruleIds: text('rule_ids').array().notNull().default(sql`'{}'::text[]`),
    /** The last event's sequence number (events are numbered 1, 2, 3 … per run). */
    lastSeq: integer('last_seq').notNull().default(0),
    cancelRequestedAt: ts('cancel_requested_at'),
    /** http / process runtimes: while in the future the agent is alive; silence past it times the run out. */
    leaseExpiresAt: ts('lease_expires_at'),
    /**
     * process runtime: the command's process while it runs (pid = its group, the host, the worker process that
     * spawned it, and its start time, so a reused pid is never mistaken for it); cleared once the worker reaped it.
     * Left set only when the worker died: whoever next looks on that host kills the group (no orphans).
     */
    process: jsonb('process').$type<{ pid: number; host: string; parent: number; start: string | null } | null>(),
    createdByType: text('created_by_type').notNull(),
    createdById: text('created_by_id'),
    queuedAt: ts('queued_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('runs_org_idx').on(t.orgId, t.id),
    index('runs_task_idx').on(t.taskId, t.id),
    index('runs_agent_idx').on(t.agentId, t.queuedAt),
    // The reaper and the concurrency check look only at runs not yet finished.
    index('runs_open_idx').on(t.status).where(sql`status in ('queued', 'running')`),
  ],
);

export const runEvents = pgTable(
  'run_events',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    orgId: text('org_id').notNull(),
    /** status | log | message | tool_call | tool_result | usage | result | error */
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);
