// Assembles one Opsbase instance: database (embedded or external), migrations, shared services, HTTP server.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { AppServices } from './core/services.ts';
import type { Operation } from './core/operation.ts';
import { openDatabase, connect, type Database } from './db/client.ts';
import { PgListener } from './db/listener.ts';
import { runMigrations } from './db/migrate.ts';
import { loadMasterKey } from './core/master-key.ts';
import { AuthCache } from './http/auth-cache.ts';
import { createLogger } from './http/logger.ts';
import { postgresCounterStore, redisCounterStore } from './http/counter-store.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { ApiQuota } from './http/api-quota.ts';
import { RequestLog } from './http/request-log.ts';
import { buildServer } from './http/server.ts';
import { dashboardPlugin } from './http/static.ts';
import { streamsPlugin } from './http/streams.ts';
import { mcpHttpPlugin } from './mcp/http.ts';
import { QueueWakeups } from './modules/queue/wakeups.ts';
import { catalog } from './modules/billing/plans.ts';
import { operations as allOperations } from './operations.ts';

export interface App {
  services: AppServices;
  server: FastifyInstance;
  /** Stops accepting, drains in-flight requests, flushes buffers, closes the pool (and the embedded cluster). */
  close: () => Promise<void>;
}

export interface AppOptions {
  config: Config;
  log?: Logger;
  /** Use this database URL instead of the configured one (tests). */
  databaseUrl?: string;
  /** Operations to serve; the full registry by default (tests may add their own). */
  operations?: Operation[];
}

export async function openServices(config: Config, log: Logger, databaseUrl?: string): Promise<AppServices> {
  // A bad billing config file stops the start here, naming the field, before anything is opened.
  catalog(config);
  const database: Database = databaseUrl ? connect(databaseUrl) : await openDatabase(config, log);
  await runMigrations(database);
  const listener = new PgListener(database.url, log);
  const authCache = new AuthCache(listener);
  await authCache.start();
  await listener.start();
  const counters = config.REDIS_URL ? await redisCounterStore(config.REDIS_URL) : postgresCounterStore(database.pool);
  const rateLimiter = new RateLimiter(counters, log);
  rateLimiter.start();
  const requestLog = new RequestLog(database, log);
  const apiQuota = new ApiQuota(database.pool);
  requestLog.onTotals = (totals) => apiQuota.flushed(totals);
  requestLog.start();
  const queueWakeups = new QueueWakeups(listener, log);
  return {
    config,
    database,
    log,
    listener,
    authCache,
    rateLimiter,
    requestLog,
    apiQuota,
    queueWakeups,
    startedAt: Date.now(),
    masterKey: loadMasterKey(config),
  };
}

export async function closeServices(services: AppServices): Promise<void> {
  services.queueWakeups.close();
  await services.requestLog.close();
  await services.rateLimiter.close();
  await services.listener.close();
  await services.database.close();
}

export async function createApp(opts: AppOptions): Promise<App> {
  const log = opts.log ?? createLogger(opts.config.LOG_LEVEL);
  const services = await openServices(opts.config, log, opts.databaseUrl);
  const operations = opts.operations ?? allOperations;
  const server = await buildServer({ services, operations, plugins: [mcpHttpPlugin(services, operations), streamsPlugin(services), dashboardPlugin(services)] });
  // Long-polling queue claims return at once when shutdown begins, so closing does not wait out their timers.
  server.addHook('preClose', async () => services.queueWakeups.shutdown());
  let closing: Promise<void> | undefined;
  return {
    services,
    server,
    close: () => {
      closing ??= (async () => {
        await server.close();
        await server.inflight.idle(10_000);
        await closeServices(services);
      })();
      return closing;
    },
  };
}
