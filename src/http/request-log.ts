// The API request log (`GET /dev/api-requests`, `keys.usage`). Requests are buffered in memory and written in
// one multi-row INSERT per second, so logging never adds a database write to the request path. A crash loses
// at most the last second of request log (never business data, which is committed before the response).
import type { Logger } from 'pino';
import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiRequests } from '../db/schema/activity.ts';
import { apiKeys } from '../db/schema/keys.ts';

export type RequestLogRow = typeof apiRequests.$inferInsert;

const FLUSH_MS = 1000;
const MAX_BUFFER = 20_000;

export class RequestLog {
  private buffer: RequestLogRow[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private db: Db;
  private log: Logger;

  constructor(db: Db, log: Logger) {
    this.db = db;
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
      for (let i = 0; i < rows.length; i += 1000) await this.db.insert(apiRequests).values(rows.slice(i, i + 1000));
      if (keyIds.length) await this.db.update(apiKeys).set({ lastUsedAt: sql`now()` }).where(inArray(apiKeys.id, keyIds));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, rows: rows.length }, 'request log flush failed; will retry');
      this.buffer = rows.concat(this.buffer).slice(-MAX_BUFFER);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
