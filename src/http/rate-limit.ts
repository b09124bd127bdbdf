// Fixed-window rate limits shared by every instance through PostgreSQL, without a database round trip per
// request: each instance counts locally and, every SYNC_MS, adds its counts to `rate_limit_counters` in one
// statement and reads back the global totals. A limit can be overshot across instances by at most what they
// admit within one sync interval.
import type pg from 'pg';
import type { Logger } from 'pino';

const SYNC_MS = 200;

export interface Verdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

interface Counter {
  windowStart: number;
  /** Global count as of the last sync, this instance's flushed hits included. */
  synced: number;
  /** Hits not yet flushed. */
  pending: number;
}

export class RateLimiter {
  private counters = new Map<string, Counter>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private pool: pg.Pool;
  private log: Logger;

  constructor(pool: pg.Pool, log: Logger) {
    this.pool = pool;
    this.log = log;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), SYNC_MS);
    this.timer.unref();
  }

  private counter(bucket: string, windowMs: number): Counter {
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    const key = `${bucket}@${windowMs}`;
    let c = this.counters.get(key);
    if (!c || c.windowStart !== windowStart) {
      c = { windowStart, synced: 0, pending: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  private verdict(c: Counter, limit: number, windowMs: number, count: number): Verdict {
    return {
      allowed: count <= limit,
      limit,
      remaining: Math.max(0, limit - count),
      resetSeconds: Math.max(1, Math.ceil((c.windowStart + windowMs - Date.now()) / 1000)),
    };
  }

  /** Counts one hit and says whether it is within the limit. */
  hit(bucket: string, limit: number, windowMs = 60_000): Verdict {
    const c = this.counter(bucket, windowMs);
    c.pending++;
    return this.verdict(c, limit, windowMs, c.synced + c.pending);
  }

  /** Whether one more hit would be allowed, without counting it (login throttles count only failures). */
  peek(bucket: string, limit: number, windowMs = 60_000): Verdict {
    const c = this.counter(bucket, windowMs);
    return this.verdict(c, limit, windowMs, c.synced + c.pending + 1);
  }

  /** Pushes local counts to PostgreSQL and pulls the global totals back. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const now = Date.now();
    const keys: string[] = [];
    const buckets: string[] = [];
    const windows: string[] = [];
    const counts: number[] = [];
    const taken: number[] = [];
    for (const [key, c] of this.counters) {
      const windowMs = Number(key.slice(key.lastIndexOf('@') + 1));
      if (c.windowStart + windowMs < now && c.pending === 0) {
        this.counters.delete(key);
        continue;
      }
      keys.push(key);
      buckets.push(key);
      windows.push(new Date(c.windowStart).toISOString());
      counts.push(c.pending);
      taken.push(c.pending);
    }
    if (keys.length === 0) return;
    try {
      const { rows } = await this.pool.query<{ bucket: string; count: number }>(
        `insert into rate_limit_counters (bucket, window_start, count)
         select * from unnest($1::text[], $2::timestamptz[], $3::int[])
         on conflict (bucket, window_start) do update set count = rate_limit_counters.count + excluded.count
         returning bucket, count`,
        [buckets, windows, counts],
      );
      const totals = new Map(rows.map((r) => [r.bucket, r.count]));
      keys.forEach((key, i) => {
        const c = this.counters.get(key);
        if (!c || c.windowStart !== Date.parse(windows[i])) return;
        c.pending -= taken[i];
        c.synced = totals.get(key) ?? c.synced + taken[i];
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'rate limit sync failed; counting locally until it recovers');
    }
  }

  /** Drops windows that ended over an hour ago. */
  async prune(): Promise<void> {
    await this.pool.query(`delete from rate_limit_counters where window_start < now() - interval '1 hour'`);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
