// Resolved credentials are cached per instance for speed. Any change to a key, session, membership or user
// sends NOTIFY opsbase_auth inside its transaction; every instance LISTENs and drops its cache on commit, so a
// revocation is seen everywhere within milliseconds (DESIGN §5: within one second).
import pg from 'pg';
import type { Logger } from 'pino';
import type { DbOrTx } from '../db/client.ts';
import { sql } from 'drizzle-orm';

const CHANNEL = 'opsbase_auth';
const TTL_MS = 30_000;

export class AuthCache<V = unknown> {
  private entries = new Map<string, { value: V; until: number }>();
  private subscribers = new Set<(reason?: string) => void>();
  private listener?: pg.Client;
  private closed = false;
  private retry?: NodeJS.Timeout;
  private url: string;
  private log: Logger;

  constructor(url: string, log: Logger) {
    this.url = url;
    this.log = log;
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => this.clear(msg.payload));
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'auth cache listener lost its connection; reconnecting');
      this.clear();
      this.listener = undefined;
      this.reconnect();
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
  }

  /** Keeps retrying until the listener is back: a failed connect emits no 'error', so one retry is not enough. */
  private reconnect(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start().catch(() => this.reconnect());
    }, 500);
    this.retry.unref();
  }

  get(key: string): V | undefined {
    // Without a live listener we cannot hear revocations: do not serve from cache.
    if (!this.listener) return undefined;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V): void {
    if (this.entries.size > 50_000) this.entries.clear();
    this.entries.set(key, { value, until: Date.now() + TTL_MS });
  }

  /** `reason`: the invalidation's (its NOTIFY payload); none when everything must go (the listener was lost). */
  clear(reason?: string): void {
    this.entries.clear();
    for (const fn of this.subscribers) fn(reason);
  }

  /**
   * Other per-instance caches of rarely changed rows (the billing catalog) ride on this channel rather than each
   * opening a LISTEN of their own: `fn` runs on every invalidation, here or on any instance, with its reason, and
   * with none when the listener is lost (a notification may have been missed).
   */
  onInvalidate(fn: (reason?: string) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Whether invalidations are being heard; without that, nothing may be served from a cache. */
  get live(): boolean {
    return !!this.listener;
  }

  /** Call inside the transaction that changes credentials: every instance drops its cache when it commits. */
  async invalidate(db: DbOrTx, reason: string): Promise<void> {
    this.clear(reason);
    await db.execute(sql`select pg_notify(${CHANNEL}, ${reason})`);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.listener?.end().catch(() => {});
    this.listener = undefined;
  }
}
