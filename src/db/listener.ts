// One LISTEN connection per instance, shared by everything that reacts to NOTIFY: the auth cache (revocations),
// queue long polls, and the worker's event and webhook loops. It reconnects on its own after a loss; whoever
// subscribed hears `onLost` (notifications may have been missed: drop caches) and `onConnect` (look again).
import pg from 'pg';
import type { Logger } from 'pino';

type Handler = (payload: string) => void;

export class PgListener {
  private readonly url: string;
  private readonly log: Logger;
  private readonly channels = new Map<string, Set<Handler>>();
  private readonly lostHandlers = new Set<() => void>();
  private readonly connectHandlers = new Set<() => void>();
  private client?: pg.Client;
  private starting?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private closed = false;

  constructor(url: string, log: Logger) {
    this.url = url;
    this.log = log;
  }

  /** Whether notifications are being heard now. */
  get live(): boolean {
    return !!this.client;
  }

  /** Connects (once; concurrent callers share the attempt). Rejects when the connection cannot be made. */
  start(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.starting ??= this.connect().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
    client.on('notification', (msg) => {
      for (const fn of this.channels.get(msg.channel) ?? []) fn(msg.payload ?? '');
    });
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'NOTIFY listener lost its connection; reconnecting');
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => {});
      for (const fn of this.lostHandlers) fn();
      this.reconnect();
    });
    const listening = new Set<string>();
    const listenAll = async () => {
      for (const channel of [...this.channels.keys()].filter((c) => !listening.has(c))) {
        await client.query(`listen ${channel}`);
        listening.add(channel);
      }
    };
    try {
      await client.connect();
      await listenAll();
      if (this.closed) {
        await client.end().catch(() => {});
        return;
      }
      this.client = client;
      // A channel subscribed while the LISTENs above were on their way.
      await listenAll();
    } catch (err) {
      if (this.client === client) this.client = undefined;
      await client.end().catch(() => {});
      throw err;
    }
    for (const fn of this.connectHandlers) fn();
  }

  /** Keeps retrying until the listener is back: a failed connect emits no 'error', so one retry is not enough. */
  reconnect(): void {
    if (this.closed || this.retry || this.client) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start().catch(() => this.reconnect());
    }, 500);
    this.retry.unref();
  }

  /** Runs `fn` for every notification on `channel` (a fixed identifier of ours, never user input). */
  async on(channel: string, fn: Handler): Promise<void> {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      await this.client?.query(`listen ${channel}`);
    }
    handlers.add(fn);
  }

  /** Runs `fn` when the connection is lost: notifications sent until it is back are never heard. */
  onLost(fn: () => void): void {
    this.lostHandlers.add(fn);
  }

  /** Runs `fn` each time the connection is (re)made: whatever was sent while nobody listened deserves a look. */
  onConnect(fn: () => void): void {
    this.connectHandlers.add(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.starting?.catch(() => {});
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }
}
