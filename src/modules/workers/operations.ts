// The worker fleet (Orkosi "factory workers"): instance-wide, so instance admins only.
import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import * as fleet from './service.ts';

const WorkerState = z.enum(['running', 'stale', 'stopped']);

export const FleetWorker = z
  .object({
    id: z.string(),
    state: WorkerState.describe('running; stale (no heartbeat for 30 s and never stopped: killed or hung); stopped'),
    host: z.string(),
    pid: z.number().int(),
    started_at: Timestamp,
    concurrency: z.number().int().describe('Background jobs it runs at once (its applied max_concurrent)'),
    in_flight: z.number().int(),
    processed: z.number().int().describe('Jobs its handlers completed since it started'),
    failed: z.number().int().describe('Jobs its handlers failed since it started'),
    last_heartbeat_at: Timestamp,
    seconds_since_heartbeat: z.number().int(),
    config_applied_at: Timestamp.nullable().describe('When it last applied a changed fleet config'),
    stopped_at: Timestamp.nullable(),
  })
  .meta({ id: 'FleetWorker' });

const FleetConfig = z
  .object({
    worker_count: z.number().int().describe('Worker processes wanted; fewer running raises a health alert'),
    max_concurrent: z.number().int().describe('Background jobs each worker runs at once'),
    updated_at: Timestamp.nullable(),
    updated_by: z.string().nullable(),
  })
  .meta({ id: 'FleetConfig' });

const WorkerCounts = z.object({ total: z.number().int(), running: z.number().int(), stale: z.number().int(), stopped: z.number().int() });

const FleetStats = z
  .object({
    workers: WorkerCounts,
    in_flight: z.number().int(),
    capacity: z.number().int().describe('Sum of the running workers’ concurrency'),
    processed: z.number().int(),
    failed: z.number().int(),
    config: FleetConfig,
    heartbeat_seconds: z.number(),
    stale_after_seconds: z.number(),
  })
  .meta({ id: 'FleetStats' });

const Alert = z.object({
  kind: z.enum(['no_workers', 'below_target', 'worker_stale', 'queue_backlog', 'job_backlog']),
  severity: z.enum(['warning', 'critical']),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});

const FleetHealth = z
  .object({
    status: z.enum(['ok', 'degraded', 'critical']),
    checked_at: Timestamp,
    workers: WorkerCounts.extend({ target: z.number().int() }),
    running: z.array(z.object({ id: z.string(), host: z.string(), pid: z.number().int() })),
    stale: z.array(FleetWorker),
    backlog: z.object({
      threshold_minutes: z.number(),
      public_queue: z.object({ waiting: z.number().int(), oldest_waiting_seconds: z.number().int(), queues: z.number().int() }),
      background: z
        .array(
          z.object({
            queue: z.string().describe('A declared job type (its system queue)'),
            queued: z.number().int(),
            active: z.number().int(),
            failed_last_day: z.number().int().describe('Dead-lettered in the last 24 h'),
            oldest_queued_seconds: z.number().int(),
          }),
        )
        .describe("The workers' own jobs, per type"),
    }),
    alerts: z.array(Alert),
  })
  .meta({ id: 'FleetHealth' });

const admin = { auth: 'user' as const, instanceAdmin: true, scopes: [] as string[] };

export const listWorkers = defineOperation({
  id: 'workers.list',
  method: 'GET',
  path: '/factory-workers',
  summary: 'List the worker processes: running, stale and recently stopped (instance admins)',
  ...admin,
  input: PageInput.extend({ state: WorkerState.optional() }),
  output: listOf(FleetWorker),
  cli: { columns: ['id', 'state', 'host', 'pid', 'concurrency', 'in_flight', 'processed', 'failed', 'last_heartbeat_at'], watch: true },
  handler: (ctx, input) => fleet.listWorkers(ctx, input),
});

export const workerStats = defineOperation({
  id: 'workers.stats',
  method: 'GET',
  path: '/factory-workers/stats',
  summary: 'Fleet totals: workers alive, jobs in flight, processed and failed, and the fleet config (instance admins)',
  ...admin,
  input: z.object({}),
  output: FleetStats,
  cli: { watch: true },
  handler: (ctx) => fleet.fleetStats(ctx),
});

export const workerHealth = defineOperation({
  id: 'workers.health',
  method: 'GET',
  path: '/factory-workers/health-summary',
  summary: 'Fleet health: stale workers, fewer workers than configured, queue backlogs (instance admins)',
  ...admin,
  input: z.object({
    backlog_minutes: z.coerce.number().int().min(1).max(10_080).default(5).describe('Ready jobs waiting at least this long raise a backlog alert'),
  }),
  output: FleetHealth,
  cli: { watch: true },
  handler: (ctx, input) => fleet.healthSummary(ctx, input),
});

export const updateWorkerConfig = defineOperation({
  id: 'workers.config',
  method: 'PATCH',
  path: '/factory-workers/config',
  summary: 'Change the fleet config; running workers apply max_concurrent on their next heartbeat (instance admins)',
  ...admin,
  input: z.object({
    worker_count: z.number().int().min(0).max(1000).optional(),
    max_concurrent: z.number().int().min(1).max(1000).optional(),
  }),
  output: FleetConfig.extend({ applies_within_seconds: z.number() }),
  cli: { columns: ['worker_count', 'max_concurrent', 'updated_at'] },
  handler: (ctx, input) => fleet.updateConfig(ctx, input),
});

export const workerOperations = [listWorkers, workerStats, workerHealth, updateWorkerConfig];
