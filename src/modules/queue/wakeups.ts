// Long-polling claims: a claim that found nothing waits for a NOTIFY on `opsbase_queue` (sent by every submit,
// schedule firing and requeue, with `<org id>:<queue>` as payload) instead of polling the table. One listening
// connection per server instance (db/listener.ts, shared). Claims still re-check on a short timer, so a
// missed notification (listener reconnecting) or a delayed job coming due costs at most that much latency.
import type { Logger } from 'pino';
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import type { PgListener } from '../../db/listener.ts';

export const QUEUE_CHANNEL = 'opsbase_queue';
/**
 * Every state change of an org's job, payload the org id (an update trigger, migration 0017), for the live queue
 * page only: claimers do not listen here, so a claim or completion wakes none of them.
 */
export const JOBS_CHANNEL = 'opsbase_jobs';

export const wakeupKey = (orgId: string, queue: string) => `${orgId}:${queue}`;

/** Wakes long-polling claimers of these queues, on every instance, when the caller's transaction commits. */
export async function notifyQueues(db: DbOrTx, keys: Iterable<string>): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return;
  await db.execute(sql`select pg_notify(${QUEUE_CHANNEL}, k) from unnest(${sql.param(unique)}::text[]) as k`);
}

export interface Waiter {
  /** Resolves on a notification for the key, after `ms`, or at shutdown; whichever comes first. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

export class QueueWakeups {
  private readonly listener: PgListener;
  private readonly log: Logger;
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscribed?: Promise<void>;
  private stopped = false;

  constructor(listener: PgListener, log: Logger) {
    this.listener = listener;
    this.log = log;
  }

  /** True once shutdown began: long polls return at once. */
  get closing(): boolean {
    return this.stopped;
  }

  /** Subscribes on the first long poll; after a reconnect every waiter looks again (notifications were lost). */
  private listen(): Promise<void> {
    this.subscribed ??= (async () => {
      await this.listener.on(QUEUE_CHANNEL, (payload) => this.wake(payload));
      this.listener.onConnect(() => this.wakeAll());
    })();
    return this.subscribed.then(() => this.listener.start());
  }

  private wake(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const fn of set) fn();
  }

  private wakeAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const fn of set) fn();
  }

  /**
   * Registers interest in `key` *before* the caller looks at the table, so a job submitted between that look and
   * the wait is not missed. Without a listener (it failed to connect) the wait is a plain timer.
   */
  async arm(key: string): Promise<Waiter> {
    try {
      await this.listen();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'queue listener unavailable; long polls fall back to polling');
      this.listener.reconnect();
    }
    let fired = false;
    let resolveWait: (() => void) | undefined;
    const fire = () => {
      fired = true;
      resolveWait?.();
    };
    let set = this.waiters.get(key);
    if (!set) {
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(fire);
    const cancel = () => {
      const current = this.waiters.get(key);
      current?.delete(fire);
      if (current?.size === 0) this.waiters.delete(key);
    };
    return {
      cancel,
      wait: (ms) =>
        fired || this.stopped
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                resolveWait = undefined;
                resolve();
              }, ms);
              resolveWait = () => {
                clearTimeout(timer);
                resolveWait = undefined;
                resolve();
              };
            }),
    };
  }

  /** Shutdown, step one: every long poll returns now (empty) and new ones do not wait. */
  shutdown(): void {
    this.stopped = true;
    this.wakeAll();
  }

  /** The listener itself is closed with the services. */
  close(): void {
    this.shutdown();
  }
}
