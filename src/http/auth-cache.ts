// Resolved credentials are cached per instance for speed. Any change to a key, session, membership or user
// sends NOTIFY opsbase_auth inside its transaction; every instance LISTENs (db/listener.ts) and drops its cache on
// commit, so a revocation is seen everywhere within milliseconds (DESIGN §5: within one second).
import type { DbOrTx } from '../db/client.ts';
import type { PgListener } from '../db/listener.ts';
import { sql } from 'drizzle-orm';

const CHANNEL = 'opsbase_auth';
const TTL_MS = 30_000;
/** Resolved credentials and memberships kept per instance; past this the oldest go first. */
const MAX_ENTRIES = 50_000;
/**
 * Unknown credentials are remembered apart, in a smaller store, so a flood of made-up tokens (already throttled per
 * client IP) can only push out other unknown tokens, never a real credential.
 */
const MAX_NEGATIVE = 5_000;

type Entry<V> = { value: V; until: number };

/** Inserts `key`, then drops the oldest entries (a Map iterates in insertion order) while over `max`. */
function insertBounded<V>(map: Map<string, Entry<V>>, key: string, entry: Entry<V>, max: number) {
  map.delete(key);
  map.set(key, entry);
  if (map.size <= max) return;
  // Evict a tenth at once so a full cache does not pay an eviction on every insert.
  let drop = map.size - max + Math.ceil(max / 10);
  for (const k of map.keys()) {
    if (drop-- <= 0) break;
    map.delete(k);
  }
}

export class AuthCache<V = unknown> {
  private entries = new Map<string, Entry<V>>();
  private negative = new Map<string, Entry<V>>();
  /**
   * Bumped by every invalidation. A look-up reads it before its query and passes it to `set`: a result read before
   * a revocation committed, but arriving after its NOTIFY, is then not cached (DESIGN §5: revocation holds within
   * 1 s in every interleaving).
   */
  private gen = 0;
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

  /** The current generation: read it before the query whose result you will `set`. */
  get generation(): number {
    return this.gen;
  }

  get(key: string): V | undefined {
    // Without a live listener we cannot hear revocations: do not serve from cache.
    if (!this.listener.live) return undefined;
    const hit = this.entries.get(key) ?? this.negative.get(key);
    if (!hit) return undefined;
    if (hit.until < Date.now()) {
      this.entries.delete(key);
      this.negative.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Caches what a look-up that started at `generation` found; dropped if an invalidation came in between. */
  set(key: string, value: V, generation: number): void {
    if (generation !== this.gen) return;
    const entry = { value, until: Date.now() + TTL_MS };
    if (value === null) insertBounded(this.negative, key, entry, MAX_NEGATIVE);
    else insertBounded(this.entries, key, entry, MAX_ENTRIES);
  }

  /** How many entries are held (tests of the bounds). */
  get size(): { entries: number; negative: number } {
    return { entries: this.entries.size, negative: this.negative.size };
  }

  /** `reason`: the invalidation's (its NOTIFY payload); none when everything must go (the listener was lost). */
  clear(reason?: string): void {
    this.gen++;
    this.entries.clear();
    this.negative.clear();
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
