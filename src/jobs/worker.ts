// The worker: registers every module's background handlers on pg-boss. `opsbase start` runs it in the server
// process; `opsbase worker` runs it alone. Any number of workers may share one database.
import type { PgBoss } from 'pg-boss';
import type { AppServices } from '../core/services.ts';
import { scanAutoTopups } from '../modules/billing/auto-topup.ts';
import { expireHolds } from '../modules/billing/holds.ts';
import { grantDueMonthlyCredits } from '../modules/billing/monthly-credits.ts';
import { startQueueTicker } from '../modules/queue/jobs.ts';
import { startEventDispatcher } from '../modules/events/dispatch.ts';
import { EVENTS_CHANNEL, WEBHOOKS_CHANNEL } from '../modules/events/record.ts';
import { startWebhookDeliverer } from '../modules/webhooks/deliver.ts';
import { type Fleet, type FleetOptions, joinFleet } from '../modules/workers/fleet.ts';
import { pruneExpired } from './maintenance.ts';
import { createQueue } from './queue.ts';

export const MAINTENANCE_QUEUE = 'maintenance.prune';
export const HOLD_SWEEP_QUEUE = 'billing.expire_holds';
export const AUTO_TOPUP_QUEUE = 'billing.auto_topup';
export const MONTHLY_CREDITS_QUEUE = 'billing.monthly_credits';

export interface Worker {
  boss: PgBoss;
  /** This process's row in the worker fleet (`GET /factory-workers`). */
  fleet: Fleet;
  stop: () => Promise<void>;
}

export interface WorkerOptions extends FleetOptions {
  /** How often the event dispatcher and webhook deliverer look without being woken (1 s; tests set it long). */
  pollMs?: number;
}

export async function startWorker(services: AppServices, opts: WorkerOptions = {}): Promise<Worker> {
  const boss = createQueue(services.database.url);
  boss.on('error', (err) => services.log.error({ err: err.message }, 'job queue error'));
  // Register in the fleet first: every handler registered below is counted and gated by its max_concurrent.
  const fleet = await joinFleet(services, opts);
  fleet.track(boss);
  await boss.start();
  // Periodic housekeeping, one pg-boss singleton job each (whichever worker takes it, never two at once).
  const periodic = async (queue: string, cron: string, run: () => Promise<unknown>) => {
    await boss.createQueue(queue, { policy: 'singleton', retryLimit: 2 });
    await boss.schedule(queue, cron, {}, { tz: 'UTC' });
    await boss.work(queue, run);
  };
  await periodic(MAINTENANCE_QUEUE, '*/10 * * * *', async () => {
    const pruned = await pruneExpired(services);
    services.log.info({ pruned }, 'maintenance done');
    return pruned;
  });
  // Holds whose paid action never settled (the process died) go back to the wallet (DESIGN §6).
  await periodic(HOLD_SWEEP_QUEUE, '* * * * *', async () => {
    const expired = await expireHolds(services.database.db);
    if (expired) services.log.info({ expired }, 'expired holds released');
    return { expired };
  });
  // Auto top-up: balances below their threshold are charged off-session (the credit lands with Stripe's webhook).
  await periodic(AUTO_TOPUP_QUEUE, '* * * * *', async () => {
    const result = await scanAutoTopups(services);
    if (result.checked) services.log.info(result, 'auto top-up scan');
    return result;
  });
  // Each tier's credits_per_month, once per org and UTC month (new orgs get theirs at creation; hourly catches
  // the new month and orgs that just moved to a granting tier).
  await periodic(MONTHLY_CREDITS_QUEUE, '7 * * * *', async () => {
    const result = await grantDueMonthlyCredits(services);
    if (result.granted) services.log.info(result, 'monthly credits granted');
    return result;
  });
  // The public queue: due schedules fire, lapsed leases return their jobs (every second; see modules/queue/jobs.ts).
  const queueTicker = startQueueTicker(services);
  // Domain events fan out to notifications and webhooks (see modules/events/dispatch.ts), and webhook deliveries
  // go out, signed, with retries (modules/webhooks/deliver.ts): each woken by the NOTIFY of new work, and every
  // second regardless (retries coming due, a notification missed while the listener reconnected).
  const eventDispatcher = startEventDispatcher(services, opts.pollMs);
  const webhookDeliverer = startWebhookDeliverer(services, opts.pollMs);
  await services.listener.on(EVENTS_CHANNEL, () => eventDispatcher.wake());
  await services.listener.on(WEBHOOKS_CHANNEL, () => webhookDeliverer.wake());
  services.log.info('worker started');
  return {
    boss,
    fleet,
    // Finish jobs in flight (bounded), then close pg-boss's pool.
    stop: async () => {
      await queueTicker.stop();
      await eventDispatcher.stop();
      await webhookDeliverer.stop();
      await boss.stop({ graceful: true, timeout: 10_000, close: true });
      await fleet.stop();
    },
  };
}
