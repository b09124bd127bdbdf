// The worker side of the fleet: a worker process registers a `workers` row, counts the jobs its internal job runner
// (src/jobs/runner.ts) runs, and heartbeats every few seconds. On each heartbeat it reads the instance-wide `worker_config` and applies
// `max_concurrent` to its job gate at once (jobs already running finish; new ones wait for a slot). A graceful
// stop marks the row stopped; a killed worker simply stops heartbeating and shows as stale.
import { hostname } from 'node:os';
import { eq, lt, or, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { AppServices } from '../../core/services.ts';
import { workerConfig, workers } from '../../db/schema/workers.ts';

export const HEARTBEAT_MS = 5000;
export const DEFAULT_MAX_CONCURRENT = 4;
/** Stopped and long-stale rows are kept this long, then pruned by any worker's heartbeat. */
const RETAIN_HOURS = 24;

/** A counting semaphore whose size can change while jobs hold it. */
class Gate {
  private active = 0;
  private waiters: (() => void)[] = [];
  limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get inFlight() {
    return this.active;
  }
  setLimit(limit: number) {
    this.limit = limit;
    this.drain();
  }
  async acquire() {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release() {
    this.active--;
    this.drain();
  }
  private drain() {
    while (this.active < this.limit && this.waiters.length) {
      this.active++;
      this.waiters.shift()?.();
    }
  }
}

export interface Fleet {
  id: string;
  /** The job gate's current size (the applied `max_concurrent`). */
  concurrency: () => number;
  counters: () => { inFlight: number; processed: number; failed: number };
  /** Job slots free now: the runner claims no more than this. */
  free: () => number;
  /** Runs one job in a slot of the gate (waiting for one if the limit was lowered meanwhile), counting its outcome. */
  run: <T>(job: () => Promise<T>) => Promise<T>;
  /** One heartbeat now (the timer runs them every `heartbeatMs`). */
  heartbeat: () => Promise<void>;
  /** Stops heartbeating and marks the row stopped; call after the job queue has drained. */
  stop: () => Promise<void>;
}

export interface FleetOptions {
  heartbeatMs?: number;
}

/** Registers this process as a worker and starts its heartbeat. */
export async function joinFleet(services: AppServices, opts: FleetOptions = {}): Promise<Fleet> {
  const { db } = services.database;
  const id = newId('worker');
  const [cfg] = await db.select().from(workerConfig).where(eq(workerConfig.id, 'default'));
  const gate = new Gate(cfg?.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
  let configVersion: Date | null = cfg?.updatedAt ?? null;
  let configAppliedAt: Date | null = cfg ? new Date() : null;
  let processed = 0;
  let failed = 0;
  await db.insert(workers).values({
    id,
    host: hostname(),
    pid: process.pid,
    concurrency: gate.limit,
    configVersion,
    configAppliedAt,
  });

  const beat = async () => {
    const [current] = await db.select().from(workerConfig).where(eq(workerConfig.id, 'default'));
    if (current && current.updatedAt.getTime() !== configVersion?.getTime()) {
      gate.setLimit(current.maxConcurrent);
      configVersion = current.updatedAt;
      configAppliedAt = new Date();
      services.log.info({ worker: id, max_concurrent: current.maxConcurrent }, 'worker config applied');
    }
    const values = { concurrency: gate.limit, inFlight: gate.inFlight, processed, failed, configVersion, configAppliedAt };
    // An upsert: a row pruned while this worker was paused (a long GC, a suspended VM) comes back.
    await db
      .insert(workers)
      .values({ id, host: hostname(), pid: process.pid, ...values })
      .onConflictDoUpdate({ target: workers.id, set: { ...values, lastHeartbeatAt: sql`now()`, stoppedAt: null } });
    await db
      .delete(workers)
      .where(
        or(
          lt(workers.stoppedAt, sql`now() - make_interval(hours => ${RETAIN_HOURS})`),
          lt(workers.lastHeartbeatAt, sql`now() - make_interval(hours => ${RETAIN_HOURS})`),
        ),
      );
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const heartbeat = () => {
    running = running.then(beat).catch((err) => services.log.warn({ err: (err as Error).message, worker: id }, 'worker heartbeat failed'));
    return running;
  };
  const schedule = () => {
    timer = setTimeout(() => {
      void heartbeat().then(() => {
        if (!stopped) schedule();
      });
    }, opts.heartbeatMs ?? HEARTBEAT_MS);
    timer.unref();
  };
  schedule();

  const run = async <T>(job: () => Promise<T>): Promise<T> => {
    await gate.acquire();
    try {
      const result = await job();
      processed++;
      return result;
    } catch (err) {
      failed++;
      throw err;
    } finally {
      gate.release();
    }
  };

  return {
    id,
    run,
    free: () => Math.max(0, gate.limit - gate.inFlight),
    concurrency: () => gate.limit,
    counters: () => ({ inFlight: gate.inFlight, processed, failed }),
    heartbeat,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      await beat().catch(() => {});
      await db.update(workers).set({ stoppedAt: sql`now()`, inFlight: 0 }).where(eq(workers.id, id));
    },
  };
}
