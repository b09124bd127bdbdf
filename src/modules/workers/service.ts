// The fleet as operators see it (instance admins): the workers registered by every worker process, totals, a
// health summary (stale workers, fewer workers than configured, backlogs) and the live fleet configuration.
import { and, desc, eq, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { type PageInput, listNewestFirst } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { workerConfig, workers } from '../../db/schema/workers.ts';
import { recordActivity } from '../activity/record.ts';
import { SYSTEM_ORG } from '../queue/system.ts';
import { DEFAULT_MAX_CONCURRENT, HEARTBEAT_MS } from './fleet.ts';

/** A worker that has not heartbeaten for this long (and did not stop) is stale: killed, hung or cut off. */
export const STALE_SECONDS = 30;

export type WorkerState = 'running' | 'stale' | 'stopped';
type WorkerRow = typeof workers.$inferSelect;

const staleCutoff = sql`now() - make_interval(secs => ${STALE_SECONDS})`;
const stateCondition: Record<WorkerState, SQL> = {
  running: and(isNull(workers.stoppedAt), sql`${workers.lastHeartbeatAt} >= ${staleCutoff}`) as SQL,
  stale: and(isNull(workers.stoppedAt), sql`${workers.lastHeartbeatAt} < ${staleCutoff}`) as SQL,
  stopped: isNotNull(workers.stoppedAt),
};

function stateOf(w: WorkerRow, now: number): WorkerState {
  if (w.stoppedAt) return 'stopped';
  return now - w.lastHeartbeatAt.getTime() > STALE_SECONDS * 1000 ? 'stale' : 'running';
}

function presentWorker(w: WorkerRow, now: number) {
  return {
    id: w.id,
    state: stateOf(w, now),
    host: w.host,
    pid: w.pid,
    started_at: w.startedAt.toISOString(),
    concurrency: w.concurrency,
    in_flight: w.stoppedAt ? 0 : w.inFlight,
    processed: w.processed,
    failed: w.failed,
    last_heartbeat_at: w.lastHeartbeatAt.toISOString(),
    seconds_since_heartbeat: Math.max(0, Math.round((now - w.lastHeartbeatAt.getTime()) / 1000)),
    config_applied_at: iso(w.configAppliedAt),
    stopped_at: iso(w.stoppedAt),
  };
}

/** The database's clock: heartbeats are stamped with it, so staleness is judged by it too. */
async function dbNow(ctx: Ctx): Promise<number> {
  const { rows } = await ctx.db.execute<{ now: Date | string }>(sql`select now() as now`);
  return new Date(rows[0].now).getTime();
}

export async function listWorkers(ctx: Ctx, input: PageInput & { state?: WorkerState }) {
  const now = await dbNow(ctx);
  return listNewestFirst(ctx.db, workers, input, [input.state ? stateCondition[input.state] : undefined], (r) => presentWorker(r, now));
}

export async function getConfig(ctx: Ctx) {
  const [row] = await ctx.db.select().from(workerConfig).where(eq(workerConfig.id, 'default'));
  return {
    worker_count: row?.workerCount ?? 1,
    max_concurrent: row?.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
    updated_at: iso(row?.updatedAt),
    updated_by: row?.updatedBy ?? null,
  };
}

export async function fleetStats(ctx: Ctx) {
  const { rows } = await ctx.db.execute<{
    total: number;
    running: number;
    stale: number;
    stopped: number;
    in_flight: number;
    concurrency: number;
    processed: number;
    failed: number;
  }>(sql`select count(*)::int as total,
           count(*) filter (where stopped_at is null and last_heartbeat_at >= ${staleCutoff})::int as running,
           count(*) filter (where stopped_at is null and last_heartbeat_at < ${staleCutoff})::int as stale,
           count(*) filter (where stopped_at is not null)::int as stopped,
           coalesce(sum(in_flight) filter (where stopped_at is null and last_heartbeat_at >= ${staleCutoff}), 0)::int as in_flight,
           coalesce(sum(concurrency) filter (where stopped_at is null and last_heartbeat_at >= ${staleCutoff}), 0)::int as concurrency,
           coalesce(sum(processed), 0)::int as processed,
           coalesce(sum(failed), 0)::int as failed
         from workers`);
  const s = rows[0];
  return {
    workers: { total: s.total, running: s.running, stale: s.stale, stopped: s.stopped },
    in_flight: s.in_flight,
    capacity: s.concurrency,
    processed: s.processed,
    failed: s.failed,
    config: await getConfig(ctx),
    heartbeat_seconds: HEARTBEAT_MS / 1000,
    stale_after_seconds: STALE_SECONDS,
  };
}

interface Alert {
  kind: 'no_workers' | 'below_target' | 'worker_stale' | 'queue_backlog' | 'job_backlog';
  severity: 'warning' | 'critical';
  message: string;
  details: Record<string, unknown>;
}

export async function healthSummary(ctx: Ctx, input: { backlog_minutes: number }) {
  const now = await dbNow(ctx);
  const config = await getConfig(ctx);
  const stats = await fleetStats(ctx);
  const staleRows = await ctx.db.select().from(workers).where(stateCondition.stale).orderBy(desc(workers.lastHeartbeatAt)).limit(100);
  const runningRows = await ctx.db
    .select({ id: workers.id, host: workers.host, pid: workers.pid })
    .from(workers)
    .where(stateCondition.running)
    .orderBy(workers.id)
    .limit(500);
  const alerts: Alert[] = [];

  if (stats.workers.running === 0) {
    alerts.push({
      kind: 'no_workers',
      severity: 'critical',
      message: 'No worker is running: background jobs and queue schedules are not processed.',
      details: {},
    });
  } else if (stats.workers.running < config.worker_count) {
    alerts.push({
      kind: 'below_target',
      severity: 'warning',
      message: `${stats.workers.running} of the ${config.worker_count} configured workers are running.`,
      details: { running: stats.workers.running, worker_count: config.worker_count },
    });
  }
  for (const w of staleRows) {
    const secs = Math.round((now - w.lastHeartbeatAt.getTime()) / 1000);
    alerts.push({
      kind: 'worker_stale',
      severity: 'warning',
      message: `Worker ${w.id} (${w.host}, pid ${w.pid}) has not heartbeaten for ${secs} s.`,
      details: { worker_id: w.id, host: w.host, pid: w.pid, seconds_since_heartbeat: secs },
    });
  }

  // The public queue: ready jobs (due, not claimed) per org and queue, and how long the oldest has waited.
  const minutes = input.backlog_minutes;
  const publicQueues = await ctx.db.execute<{ org_id: string; queue: string; waiting: number; oldest_seconds: number }>(
    sql`select org_id, queue, count(*)::int as waiting, extract(epoch from now() - min(run_at))::int as oldest_seconds
        from queue_jobs where state = 'waiting' and run_at <= now() and org_id <> ${SYSTEM_ORG}
        group by org_id, queue order by min(run_at) limit 1000`,
  );
  const publicTotals = { waiting: 0, oldest_waiting_seconds: 0 };
  for (const q of publicQueues.rows) {
    publicTotals.waiting += q.waiting;
    publicTotals.oldest_waiting_seconds = Math.max(publicTotals.oldest_waiting_seconds, q.oldest_seconds);
    if (q.oldest_seconds >= minutes * 60 && alerts.length < 200) {
      alerts.push({
        kind: 'queue_backlog',
        severity: 'warning',
        message: `Queue "${q.queue}" of org ${q.org_id}: ${q.waiting} ready jobs, the oldest waiting ${Math.round(q.oldest_seconds / 60)} min (no claimer keeping up).`,
        details: { org_id: q.org_id, queue: q.queue, waiting: q.waiting, oldest_waiting_seconds: q.oldest_seconds },
      });
    }
  }

  // The workers' own jobs (system queues, one per declared type): due but not started, running, and dead-lettered in
  // the last day.
  const background: { queue: string; queued: number; active: number; failed_last_day: number; oldest_queued_seconds: number }[] = [];
  const { rows: system } = await ctx.db.execute<{ queue: string; queued: number; active: number; failed: number; oldest: number | null }>(
    sql`select queue,
           count(*) filter (where state = 'waiting' and run_at <= now())::int as queued,
           count(*) filter (where state = 'active')::int as active,
           count(*) filter (where state = 'failed' and finished_at > now() - interval '1 day')::int as failed,
           extract(epoch from now() - min(run_at) filter (where state = 'waiting' and run_at <= now()))::int as oldest
        from queue_jobs where org_id = ${SYSTEM_ORG} and (state in ('waiting', 'active') or (state = 'failed' and finished_at > now() - interval '1 day'))
        group by queue order by queue`,
  );
  for (const r of system) {
    const oldest = r.oldest ?? 0;
    background.push({ queue: r.queue, queued: r.queued, active: r.active, failed_last_day: r.failed, oldest_queued_seconds: oldest });
    if (r.queued > 0 && oldest >= minutes * 60) {
      alerts.push({
        kind: 'job_backlog',
        severity: 'warning',
        message: `Background jobs "${r.queue}": ${r.queued} due, the oldest for ${Math.round(oldest / 60)} min.`,
        details: { queue: r.queue, queued: r.queued, oldest_queued_seconds: oldest },
      });
    }
  }

  const critical = alerts.some((a) => a.severity === 'critical');
  return {
    status: critical ? ('critical' as const) : alerts.length ? ('degraded' as const) : ('ok' as const),
    checked_at: new Date(now).toISOString(),
    workers: { ...stats.workers, target: config.worker_count },
    running: runningRows.map((w) => ({ id: w.id, host: w.host, pid: w.pid })),
    stale: staleRows.map((w) => presentWorker(w, now)),
    backlog: {
      threshold_minutes: minutes,
      public_queue: { ...publicTotals, queues: publicQueues.rows.length },
      background,
    },
    alerts,
  };
}

export async function updateConfig(ctx: Ctx, input: { worker_count?: number; max_concurrent?: number }) {
  const set = {
    ...(input.worker_count !== undefined && { workerCount: input.worker_count }),
    ...(input.max_concurrent !== undefined && { maxConcurrent: input.max_concurrent }),
  };
  if (Object.keys(set).length) {
    // clock_timestamp(), not now(): two updates in one transaction still differ, and workers compare it.
    await ctx.db
      .insert(workerConfig)
      .values({ id: 'default', ...set, updatedBy: ctx.userId, updatedAt: sql`clock_timestamp()` })
      .onConflictDoUpdate({ target: workerConfig.id, set: { ...set, updatedBy: ctx.userId, updatedAt: sql`clock_timestamp()` } });
    await recordActivity(ctx, {
      action: 'workers.config_updated',
      entityType: 'worker_config',
      entityId: 'default',
      orgId: null,
      metadata: { ...input },
    });
  }
  return { ...(await getConfig(ctx)), applies_within_seconds: HEARTBEAT_MS / 1000 };
}
