// The long-lived parts one server instance owns, handed to every operation through ctx.services.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import type { PgListener } from '../db/listener.ts';
import type { ApiQuota } from '../http/api-quota.ts';
import type { AuthCache } from '../http/auth-cache.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import type { RequestLog } from '../http/request-log.ts';
import type { QueueWakeups } from '../modules/queue/wakeups.ts';

export interface AppServices {
  config: Config;
  database: Database;
  log: Logger;
  /** The instance's one LISTEN connection (auth cache, queue long polls, worker wake-ups). */
  listener: PgListener;
  authCache: AuthCache;
  rateLimiter: RateLimiter;
  requestLog: RequestLog;
  /** Enforces each org's monthly `api_calls` from counts the request log keeps fresh. */
  apiQuota: ApiQuota;
  /** Wakes long-polling queue claims (LISTEN opsbase_queue, opened on first use). */
  queueWakeups: QueueWakeups;
  startedAt: number;
  /** Encrypts secrets at rest (AES-256-GCM). */
  masterKey: Buffer;
}
