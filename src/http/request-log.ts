// The API request log (`GET /dev/api-requests`, `keys.usage`). Requests are buffered in memory and written in
// one multi-row INSERT per second, so logging never adds a database write to the request path. A crash loses
// at most the last second of request log (never business data, which is committed before the response).
import type { Logger } from 'pino';
import { inArray, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Database, Db } from '../db/client.ts';
import type { apiRequests } from '../db/schema/activity.ts';
import { apiKeys } from '../db/schema/keys.ts';

export type RequestLogRow = typeof apiRequests.$inferInsert;

const FLUSH_MS = 1000;
const MAX_BUFFER = 20_000;
/** Under heavy traffic, write sooner in smaller batches: one huge batch a second stalls the event loop (p99). */
const EAGER_BATCH = 1_000;

export class RequestLog {
  private buffer: RequestLogRow[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private db: Db;
  private pool: pg.Pool;
  private log: Logger;

  /** Told each flushed org's new monthly `api_calls` total (the quota check keeps its counts fresh with it). */
  onTotals?: (totals: { orgId: string; period: string; used: number; served: number }[]) => void;

  constructor(database: Database, log: Logger) {
    this.db = database.db;
    this.pool = database.pool;
    this.log = log;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  add(row: RequestLogRow): void {
    // Under a database outage the buffer is bounded: the oldest rows go first.
    if (this.buffer.length >= MAX_BUFFER) this.buffer.shift();
    this.buffer.push(row);
    if (this.buffer.length === EAGER_BATCH && !this.flushing) void this.flush();
  }

  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    const keyIds = [...new Set(rows.map((r) => r.keyId).filter((k): k is string => !!k))];
    try {
      await this.insertRows(rows);
      if (keyIds.length) await this.db.update(apiKeys).set({ lastUsedAt: sql`now()` }).where(inArray(apiKeys.id, keyIds));
    } catch (err) {
      // The code only: a driver error's message can carry the whole statement and its parameters.
      this.log.warn({ code: (err as { code?: string }).code, rows: rows.length }, 'request log flush failed; will retry');
      this.buffer = rows.concat(this.buffer).slice(-MAX_BUFFER);
    }
  }

  /**
   * One statement with one array parameter per column (`unnest`): an ORM multi-row insert builds a parameter per
   * value, which for a thousand rows costs tens of milliseconds of blocking JavaScript on the server.
   * The same statement adds the rows to each org's `api_calls` quota of their UTC month (the quota counts real
   * traffic), atomically with the log: a retried flush skips rows already written and so never counts twice.
   */
  private async insertRows(rows: RequestLogRow[]): Promise<void> {
    const col = <K extends keyof RequestLogRow>(k: K) => rows.map((r) => r[k] ?? null);
    const result = await this.pool.query<{ org_id: string; period_start: string; used: string }>(
      `with logged as (
         insert into api_requests (id, org_id, key_id, user_id, method, path, route, status, latency_ms, ip, request_id, created_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[],
                              $10::text[], $11::text[], $12::timestamptz[])
         on conflict (id) do nothing
         returning org_id, created_at
       )
       insert into quota_usage (org_id, resource, product_id, period_start, used)
       select org_id, 'api_calls', '', date_trunc('month', created_at at time zone 'UTC')::date, count(*)
       from logged where org_id is not null
       group by 1, 4
       order by 1, 4 -- one lock order for every instance flushing at once
       on conflict (org_id, resource, product_id, period_start) do update set used = quota_usage.used + excluded.used
       returning org_id, to_char(period_start, 'YYYY-MM-DD') as period_start, used`,
      [
        col('id'),
        col('orgId'),
        col('keyId'),
        col('userId'),
        col('method'),
        col('path'),
        col('route'),
        col('status'),
        col('latencyMs'),
        col('ip'),
        col('requestId'),
        rows.map((r) => (r.createdAt instanceof Date ? r.createdAt : new Date()).toISOString()),
      ],
    );
    if (!this.onTotals) return;
    const served = new Map<string, number>();
    for (const r of rows) if (r.orgId) served.set(r.orgId, (served.get(r.orgId) ?? 0) + 1);
    this.onTotals(
      result.rows.map((r) => ({ orgId: r.org_id, period: r.period_start, used: Number(r.used), served: served.get(r.org_id) ?? 0 })),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
