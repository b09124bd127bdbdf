// The internal job runner of a worker process: claims jobs of every declared type from the system queues (as many as
// the fleet's max_concurrent leaves free), runs each handler in a slot of the fleet's gate, and records the outcome.
// A claim is a lease held by this worker's fleet id and renewed every third of its length while the handler runs, so
// a worker that dies (SIGKILL, power loss) loses nothing: its leases lapse, the queue's tick returns the jobs, and
// another worker runs them. Woken by the queue's NOTIFY for system jobs; otherwise it looks once a second.
import type { JobRow } from '../modules/queue/service.ts';
import {
  claimSystemJobs,
  completeSystemJob,
  extendSystemLeases,
  failSystemJob,
  releaseSystemJobs,
} from '../modules/queue/system.ts';
import type { AppServices } from '../core/services.ts';
import type { Fleet } from '../modules/workers/fleet.ts';
import { type JobDefinition, PermanentJobError } from './define.ts';
import { startLoop } from './loop.ts';

export const DEFAULT_LEASE_SECONDS = 30;
const CLAIM_BATCH = 20;

export interface JobRunner {
  /** Claims now (new work was announced, or a job finished and freed a slot). */
  wake: () => void;
  /** Jobs running now. */
  inFlight: () => number;
  /** Stops claiming, waits up to `drainMs` for running jobs, then lets the rest lapse for another worker. */
  stop: (drainMs?: number) => Promise<void>;
}

export interface RunnerOptions {
  /** Lease of a claim, renewed while the handler runs (default 30 s): how long a dead worker's job waits. */
  leaseSeconds?: number;
  /** How often the runner looks without being woken (default 1 s): retries coming due, a missed NOTIFY. */
  pollMs?: number;
}

class JobTimeout extends Error {}

export function startJobRunner(services: AppServices, defs: JobDefinition[], fleet: Fleet, opts: RunnerOptions = {}): JobRunner {
  const db = services.database.db;
  const byType = new Map(defs.map((d) => [d.type, d]));
  const types = [...byType.keys()];
  const lease = opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopping = false;

  const attempt = async (row: JobRow, def: JobDefinition, controller: AbortController): Promise<unknown> => {
    const log = services.log.child({ job: row.id, type: row.task_type });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new JobTimeout(`timed out after ${row.timeout_seconds} s`);
        controller.abort(err);
        reject(err);
      }, row.timeout_seconds * 1000);
    });
    try {
      const run = { services, payload: row.payload, signal: controller.signal, log };
      const job = { id: row.id, type: row.task_type, attempt: row.attempts, maxAttempts: row.max_attempts };
      const result = await Promise.race([def.handler({ ...run, job }), timedOut]);
      if (!(await completeSystemJob(db, row.id, fleet.id, result ?? null))) log.warn('job finished after its lease was lost; another worker runs it');
      return result;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const failed = await failSystemJob(db, row.id, fleet.id, { message }, !(err instanceof PermanentJobError));
      if (failed?.state === 'failed') log.error({ err: message, attempts: failed.attempts }, 'job dead-lettered: no attempt left');
      else if (failed) log.warn({ err: message, attempts: failed.attempts, retry_at: failed.run_at }, 'job failed; retrying');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };

  const start = (row: JobRow) => {
    const def = byType.get(row.task_type);
    if (!def) return; // claimed by type, so always known
    const controller = new AbortController();
    const done = fleet
      .run(() => attempt(row, def, controller))
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        running.delete(row.id);
        loop.wake();
      });
    running.set(row.id, { controller, done });
  };

  const loop = startLoop('job runner', services.log, opts.pollMs ?? 1000, async () => {
    while (!stopping) {
      const n = Math.min(fleet.free(), CLAIM_BATCH);
      if (n <= 0) return;
      const rows = await claimSystemJobs(db, types, fleet.id, n, lease);
      for (const row of rows) start(row);
      if (rows.length < n) return;
    }
  });

  // Renew the leases of everything running; a job whose lease was lost (this process stalled past it and another
  // worker took the job) is told to stop.
  const heartbeat = setInterval(
    () => {
      const ids = [...running.keys()];
      if (!ids.length) return;
      extendSystemLeases(db, ids, fleet.id, lease).then(
        (kept) => {
          const held = new Set(kept);
          for (const id of ids) if (!held.has(id)) running.get(id)?.controller.abort(new Error('lease lost'));
        },
        (err: Error) => services.log.warn({ err: err.message }, 'job lease renewal failed'),
      );
    },
    Math.max(200, (lease * 1000) / 3),
  );
  heartbeat.unref();

  return {
    wake: () => {
      if (!stopping) loop.wake();
    },
    inFlight: () => running.size,
    stop: async (drainMs = 10_000) => {
      stopping = true;
      await loop.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...running.values()].map((r) => r.done)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
        }),
      ]);
      clearTimeout(timer);
      clearInterval(heartbeat);
      const left = [...running.keys()];
      if (left.length) {
        for (const r of running.values()) r.controller.abort(new Error('worker stopping'));
        services.log.warn({ jobs: left }, 'worker stopping with jobs still running; their leases are released');
        await releaseSystemJobs(db, left, fleet.id).catch(() => {});
      }
    },
  };
}
