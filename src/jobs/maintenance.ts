// Housekeeping, one singleton system job every 10 minutes: everything that only grows is deleted past its retention
// (days from config, OPSBASE_RETENTION_*; docs/retention.md), in bounded batches so no statement holds locks or
// builds a huge transaction, and a run stops after MAX_BATCHES per table (the next run goes on). Work still owed is
// never pruned: an event not yet dispatched, a mail not yet sent or failed, a pending delivery, an unfinished job.
import type { Pool } from 'pg';
import type { Config } from '../config.ts';
import { idFloor, type IdKind } from '../core/ids.ts';
import type { AppServices } from '../core/services.ts';
import { pruneFinishedJobs } from '../modules/queue/ticker.ts';
import { pruneDeliveries } from '../modules/webhooks/deliver.ts';
import { defineJob } from './define.ts';

export const PRUNE_BATCH = 5000;
const MAX_BATCHES = 200;

/** Deletes the rows `select` picks (its `$1` is the batch size), one batch per statement, until a batch is short. */
async function inBatches(pool: Pool, table: string, select: string, params: unknown[], batch: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const res = await pool.query(`delete from ${table} where ctid = any(array(${select}))`, [batch, ...params]);
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < batch) break;
  }
  return total;
}

async function loop(step: () => Promise<number>, batch: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await step();
    total += n;
    if (n < batch) break;
  }
  return total;
}

/** Ids are time-sortable: `id < floor` is "made more than `days` ago", walked on the primary key. */
const floor = (kind: IdKind, days: number) => idFloor(kind, Date.now() - days * 86_400_000);

export async function pruneExpired(services: AppServices, batch = PRUNE_BATCH): Promise<Record<string, number>> {
  const { pool, db } = services.database;
  const c: Config = services.config;
  const run = (table: string, where: string, params: unknown[] = []) =>
    inBatches(pool, table, `select ctid from ${table} where (${where}) limit $1`, params, batch);
  return {
    idempotency_keys: await run('idempotency_keys', 'expires_at < now()'),
    rate_limit_counters: await run('rate_limit_counters', `window_start < now() - interval '1 hour'`),
    sessions: await run('sessions', `refresh_expires_at < now() - interval '7 days' or revoked_at < now() - interval '7 days'`),
    password_resets: await run('password_resets', `expires_at < now() - interval '1 day'`),
    api_requests: await run('api_requests', 'id < $2', [floor('request', c.OPSBASE_RETENTION_API_REQUESTS_DAYS)]),
    // Dispatched or parked (given up on) only: a pending event is work still owed.
    events: await run('events', 'id < $2 and (dispatched_at is not null or parked_at is not null)', [floor('event', c.OPSBASE_RETENTION_EVENTS_DAYS)]),
    notifications: await run('notifications', 'id < $2', [floor('notification', c.OPSBASE_RETENTION_NOTIFICATIONS_DAYS)]),
    email_outbox: await run('email_outbox', `id < $2 and status in ('sent', 'failed', 'unsent')`, [floor('email', c.OPSBASE_RETENTION_EMAILS_DAYS)]),
    quota_consumptions: await run('quota_consumptions', 'created_at < now() - make_interval(days => $2::int)', [
      c.OPSBASE_RETENTION_QUOTA_CONSUMPTIONS_DAYS,
    ]),
    webhook_deliveries: await loop(() => pruneDeliveries(db, Date.now(), c.OPSBASE_RETENTION_WEBHOOK_DELIVERIES_DAYS, batch), batch),
    queue_jobs: await loop(
      () => pruneFinishedJobs(db, { done: c.OPSBASE_RETENTION_JOBS_DAYS, failed: c.OPSBASE_RETENTION_FAILED_JOBS_DAYS }, batch),
      batch,
    ),
  };
}

export const maintenanceJob = defineJob({
  type: 'maintenance.prune',
  schedule: '*/10 * * * *',
  timeout: 900,
  max_attempts: 2,
  backoff: 60,
  handler: async ({ services, log }) => {
    // Which words are common, from what ANALYZE last saw: search picks its path with it (modules/search/postgres-fts.ts).
    await services.database.pool.query(`select opsbase_refresh_term_stats('search_entries', 'tsv'), opsbase_refresh_term_stats('tasks', 'tsv')`);
    const pruned = await pruneExpired(services);
    log.info({ pruned }, 'maintenance done');
    return pruned;
  },
});
