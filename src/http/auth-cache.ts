// Resolved credentials are cached per instance for speed. Any change to a key, session, membership or user
// sends NOTIFY opsbase_auth inside its transaction; every instance LISTENs (db/listener.ts) and drops its cache on
// commit, so a revocation is seen everywhere within milliseconds (DESIGN §5: within one second).
import type { DbOrTx } from '../db/client.ts';
import type { PgListener } from '../db/listener.ts';
import { sql } from 'drizzle-orm';

const CHANNEL = 'opsbase_auth';
const TTL_MS = 30_000;

export class AuthCache<V = unknown> {
  private entries = new Map<string, { value: V; until: number }>();
  private subscribers = new Set<(reason?: string) => void>();
  private listener: PgListener;

  constructor(listener: PgListener) {
    this.listener = listener;
  }

  /** Subscribes to the channel; the listener must be started by the caller (openServices) for anything to be cached. */
  async start(): Promise<void> {
    await this.listener.on(CHANNEL, (payload) => this.clear(payload));
    // Without the listener we cannot hear revocations: forget everything until it is back.
    this.listener.onLost(() => this.clear());
  }

  get(key: string): V | undefined {
    // Without a live listener we cannot hear revocations: do not serve from cache.
    if (!this.listener.live) return undefined;
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
   * Other per-instance caches of rarely changed rows (the billing catalog) ride on this channel: `fn` runs on every
   * invalidation, here or on any instance, with its reason, and with none when the listener is lost (a
   * notification may have been missed).
   */
  onInvalidate(fn: (reason?: string) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Whether invalidations are being heard; without that, nothing may be served from a cache. */
  get live(): boolean {
    return this.listener.live;
  }

  /** Call inside the transaction that changes credentials: every instance drops its cache when it commits. */
  async invalidate(db: DbOrTx, reason: string): Promise<void> {
    this.clear(reason);
    await db.execute(sql`select pg_notify(${CHANNEL}, ${reason})`);
  }
}
