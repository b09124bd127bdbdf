// The worker: runs every module's background work with the two mechanisms of DESIGN §7. `opsbase start` runs it in
// the server process; `opsbase worker` runs it alone. Any number of workers may share one database.
//  - Jobs (registry.ts): the internal job runner claims declared job types from the queue's system queues, gated by
//    the fleet's max_concurrent; the queue's ticker fires their schedules and returns lapsed leases.
//  - Outbox relays: the event dispatcher and the webhook deliverer, each a loop (loop.ts) woken by the NOTIFY of new
//    rows and looking once a second regardless (retries coming due, a notification missed while reconnecting).
import type { AppServices } from '../core/services.ts';
import { startEventDispatcher } from '../modules/events/dispatch.ts';
import { EVENTS_CHANNEL, WEBHOOKS_CHANNEL } from '../modules/events/record.ts';
import { deleteSystemSchedule, SYSTEM_ORG, upsertSystemSchedule } from '../modules/queue/system.ts';
import { startQueueTicker } from '../modules/queue/ticker.ts';
import { QUEUE_CHANNEL } from '../modules/queue/wakeups.ts';
import { closeInternalServer, internalServer } from '../modules/runs/internal-server.ts';
import { killLeftoverProcesses } from '../modules/runs/runtimes/process.ts';
import { startWebhookDeliverer } from '../modules/webhooks/deliver.ts';
import { type Fleet, type FleetOptions, joinFleet } from '../modules/workers/fleet.ts';
import { type JobDefinition, scheduleOf } from './define.ts';
import { allJobs } from './registry.ts';
import { type JobRunner, type RunnerOptions, startJobRunner } from './runner.ts';

export interface Worker {
  /** This process's row in the worker fleet (`GET /factory-workers`). */
  fleet: Fleet;
  runner: JobRunner;
  stop: () => Promise<void>;
}

export interface WorkerOptions extends FleetOptions, RunnerOptions {
  /** How often the relays and the job runner look without being woken (1 s; tests set it long). */
  pollMs?: number;
  /** Job types to run besides the declared ones (tests register their own). */
  jobs?: JobDefinition[];
}

/** Registers the schedules of the declared periodic jobs (idempotent: every worker does it at start). */
export async function registerSchedules(services: AppServices, defs: JobDefinition[]): Promise<void> {
  for (const def of defs) {
    const schedule = scheduleOf(def, services.config);
    if (!schedule) {
      // A schedule the operator turned off (a config function returning null) must stop firing.
      if (typeof def.schedule === 'function') await deleteSystemSchedule(services.database.db, def.type);
      continue;
    }
    await upsertSystemSchedule(services.database.db, {
      type: def.type,
      cron: schedule.cron,
      tz: schedule.tz,
      max_attempts: def.max_attempts,
      backoff_seconds: def.backoff,
      timeout_seconds: def.timeout,
    });
  }
}

export async function startWorker(services: AppServices, opts: WorkerOptions = {}): Promise<Worker> {
  const defs = [...allJobs, ...(opts.jobs ?? [])];
  const dup = defs.find((d, i) => defs.findIndex((x) => x.type === d.type) !== i);
  if (dup) throw new Error(`job type ${dup.type} is declared twice`);
  // Join the fleet first: the runner takes its identity and its max_concurrent gate from it.
  const fleet = await joinFleet(services, opts);
  await registerSchedules(services, defs);
  // Commands of process-runtime runs left running on this host by a worker that died (no orphans after a restart).
  await killLeftoverProcesses(services).catch((err: Error) => services.log.warn({ err: err.message }, 'could not look for leftover run processes'));
  const queueTicker = startQueueTicker(services);
  const runner = startJobRunner(services, defs, fleet, { leaseSeconds: opts.leaseSeconds, pollMs: Math.min(opts.pollMs ?? 1000, 1000) });
  const eventDispatcher = startEventDispatcher(services, opts.pollMs);
  const webhookDeliverer = startWebhookDeliverer(services, opts.pollMs);
  const systemKey = `${SYSTEM_ORG}:`;
  await services.listener.on(QUEUE_CHANNEL, (payload) => {
    if (payload.startsWith(systemKey)) runner.wake();
  });
  await services.listener.on(EVENTS_CHANNEL, () => eventDispatcher.wake());
  await services.listener.on(WEBHOOKS_CHANNEL, () => webhookDeliverer.wake());
  // Work that was due before this worker listened.
  runner.wake();
  // The app agents' tools call into takes a second or two to build: build it now, not in the first run's time.
  internalServer(services).catch((err: Error) => services.log.warn({ err: err.message }, 'could not prepare the agents’ tool server'));
  services.log.info({ jobs: defs.map((d) => d.type) }, 'worker started');
  return {
    fleet,
    runner,
    // Stop taking work, finish what is in flight (bounded), then leave the fleet.
    stop: async () => {
      await queueTicker.stop();
      await Promise.all([runner.stop(), eventDispatcher.stop(), webhookDeliverer.stop()]);
      await fleet.stop();
      await closeInternalServer(services);
    },
  };
}
