// Long-polling claims: a claim that found nothing waits for a NOTIFY on `opsbase_queue` (sent by every submit,
// schedule firing and requeue, with `<org id>:<queue>` as payload) instead of polling the table. One listening
// connection per server instance, opened on the first long poll. Claims still re-check on a short timer, so a
// missed notification (listener reconnecting) or a delayed job coming due costs at most that much latency.
import pg from 'pg';
import type { Logger } from 'pino';
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';

export const QUEUE_CHANNEL = 'opsbase_queue';

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
  private readonly url: string;
  private readonly log: Logger;
  private readonly waiters = new Map<string, Set<() => void>>();
  private client?: pg.Client;
  private starting?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(url: string, log: Logger) {
    this.url = url;
    this.log = log;
  }

  /** True once shutdown began: long polls return at once. */
  get closing(): boolean {
    return this.stopped;
  }

  private listen(): Promise<void> {
    if (this.client || this.stopped) return Promise.resolve();
    this.starting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
      client.on('notification', (msg) => this.wake(msg.payload ?? ''));
      client.on('error', (err) => {
        this.log.warn({ err: err.message }, 'queue listener lost its connection; reconnecting');
        if (this.client === client) this.client = undefined;
        client.end().catch(() => {});
        this.scheduleReconnect();
      });
      try {
        await client.connect();
        await client.query(`listen ${QUEUE_CHANNEL}`);
      } catch (err) {
        await client.end().catch(() => {});
        throw err;
      }
      if (this.stopped) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      // Whatever was sent while no one listened is lost: let every waiter look again.
      this.wakeAll();
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listen().catch(() => this.scheduleReconnect());
    }, 500);
    this.retry.unref();
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
      this.scheduleReconnect();
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

  async close(): Promise<void> {
    this.shutdown();
    clearTimeout(this.retry);
    await this.starting?.catch(() => {});
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
