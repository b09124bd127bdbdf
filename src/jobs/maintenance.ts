// Housekeeping, run by the worker every 10 minutes: expired idempotency records, finished rate-limit windows,
// dead sessions and reset tokens, request logs and webhook deliveries past their retention.
import type { AppServices } from '../core/services.ts';
import { pruneDeliveries } from '../modules/webhooks/deliver.ts';

const REQUEST_LOG_RETENTION_DAYS = 30;

export async function pruneExpired(services: AppServices): Promise<Record<string, number>> {
  const { pool } = services.database;
  const run = async (sql: string) => (await pool.query(sql)).rowCount ?? 0;
  return {
    idempotency_keys: await run(`delete from idempotency_keys where expires_at < now()`),
    rate_limit_counters: await run(`delete from rate_limit_counters where window_start < now() - interval '1 hour'`),
    sessions: await run(`delete from sessions where refresh_expires_at < now() - interval '7 days' or revoked_at < now() - interval '7 days'`),
    password_resets: await run(`delete from password_resets where expires_at < now() - interval '1 day'`),
    api_requests: await run(`delete from api_requests where created_at < now() - interval '${REQUEST_LOG_RETENTION_DAYS} days'`),
    webhook_deliveries: await pruneDeliveries(services.database.db),
  };
}
