// The worker fleet (issue 4, Orkosi "factory workers"): every worker process registers a row and heartbeats it;
// one instance-wide config row says how many workers there should be and how many jobs each may run at once.
import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const workers = pgTable(
  'workers',
  {
    id: text('id').primaryKey(),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    startedAt: ts('started_at').notNull().defaultNow(),
    /** Jobs this worker may run at once (its applied `max_concurrent`). */
    concurrency: integer('concurrency').notNull(),
    inFlight: integer('in_flight').notNull().default(0),
    processed: integer('processed').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    lastHeartbeatAt: ts('last_heartbeat_at').notNull().defaultNow(),
    /** When this worker last applied the instance config (`worker_config.updated_at` it saw). */
    configAppliedAt: ts('config_applied_at'),
    configVersion: ts('config_version'),
    stoppedAt: ts('stopped_at'),
  },
  (t) => [index('workers_heartbeat_idx').on(t.lastHeartbeatAt)],
);

/** One row (id = 'default'): the instance-wide fleet configuration, applied by running workers on their heartbeat. */
export const workerConfig = pgTable(
  'worker_config',
  {
    id: text('id').primaryKey().default('default'),
    /** The number of worker processes the operator wants running; below it, health-summary raises an alert. */
    workerCount: integer('worker_count').notNull().default(1),
    /** Background jobs each worker runs at once. */
    maxConcurrent: integer('max_concurrent').notNull().default(4),
    updatedBy: text('updated_by'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [check('worker_config_singleton', sql`${t.id} = 'default'`)],
);
