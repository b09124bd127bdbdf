// Fixed-window rate limits shared by every instance, without a network round trip per request: each instance
// counts locally and, every SYNC_MS, adds its counts to the shared store in one round trip and reads back the
// global totals. The store is PostgreSQL (`rate_limit_counters`), or Redis when REDIS_URL is set. A limit can be
// overshot across instances by at most what they admit within one sync interval.
import type { Logger } from 'pino';
import type { CounterStore } from './counter-store.ts';

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
  private store: CounterStore;
  private log: Logger;

  constructor(store: CounterStore, log: Logger) {
    this.store = store;
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

  /**
   * Counts one hit in the shared store now (one round trip) and judges it by the global total, so the limit holds
   * exactly across instances and concurrent requests: each hit gets its own total from an atomic add. For rare,
   * expensive requests (logins), not the per-request limit. `refund` takes a hit back.
   */
  async hitShared(bucket: string, limit: number, windowMs: number): Promise<Verdict & { refund: () => Promise<void> }> {
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    const entry = { bucket: `shared:${bucket}@${windowMs}`, windowStart, windowMs };
    const [total] = await this.store.add([{ ...entry, count: 1 }]);
    return {
      allowed: total <= limit,
      limit,
      remaining: Math.max(0, limit - total),
      resetSeconds: Math.max(1, Math.ceil((windowStart + windowMs - Date.now()) / 1000)),
      refund: async () => {
        await this.store.add([{ ...entry, count: -1 }]);
      },
    };
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
    const batch: { key: string; counter: Counter; windowMs: number; taken: number }[] = [];
    for (const [key, c] of this.counters) {
      const windowMs = Number(key.slice(key.lastIndexOf('@') + 1));
      if (c.windowStart + windowMs < now && c.pending === 0) {
        this.counters.delete(key);
        continue;
      }
      batch.push({ key, counter: c, windowMs, taken: c.pending });
    }
    if (batch.length === 0) return;
    try {
      const totals = await this.store.add(
        batch.map((b) => ({ bucket: b.key, windowStart: b.counter.windowStart, windowMs: b.windowMs, count: b.taken })),
      );
      batch.forEach((b, i) => {
        // A counter replaced by a newer window meanwhile keeps its own state.
        if (this.counters.get(b.key) !== b.counter) return;
        b.counter.pending -= b.taken;
        b.counter.synced = totals[i];
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'rate limit sync failed; counting locally until it recovers');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.store.close();
  }
}
