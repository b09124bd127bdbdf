// The queue's background work, run by every worker process (`opsbase start` / `opsbase worker`): fire due
// schedules, return jobs whose lease lapsed to their queue (or dead-letter them when no attempt is left), and prune
// finished jobs past their retention. A one-second tick rather than a pg-boss cron job: pg-boss schedules have
// minute resolution, and `every_seconds` schedules and lease expiry need seconds. Each step is one statement (or
// one transaction) with SKIP LOCKED or idempotent conditions, so any number of workers may tick at once.
import { sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { idFloor } from '../../core/ids.ts';
import { fireDueSchedules } from './schedules.ts';
import { requeueLapsed } from './service.ts';
import { type Loop, startLoop } from '../../jobs/loop.ts';

const TICK_MS = 1000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** Completed and cancelled jobs are kept 7 days, failed (dead-lettered) ones 30. */
const RETENTION_DAYS = { done: 7, failed: 30 } as const;

/** Finished jobs past their retention, oldest first, walking the primary key (ids sort by creation time). */
export async function pruneFinishedJobs(db: DbOrTx): Promise<number> {
  const floor = idFloor('job', Date.now() - RETENTION_DAYS.done * 86_400_000);
  const { rows } = await db.execute<{ n: number }>(
    sql`with gone as (
          delete from queue_jobs where id in (
            select id from queue_jobs
            where id < ${floor} and finished_at is not null
              and ((state in ('completed', 'cancelled') and finished_at < now() - make_interval(days => ${RETENTION_DAYS.done}))
                or (state = 'failed' and finished_at < now() - make_interval(days => ${RETENTION_DAYS.failed})))
            limit 10000)
          returning 1)
        select count(*)::int as n from gone`,
  );
  return rows[0]?.n ?? 0;
}

/** One pass of everything; exported for tests, which drive time themselves. */
export async function queueTick(services: AppServices, opts: { prune?: boolean } = {}) {
  const { db } = services.database;
  const fired = await fireDueSchedules(db);
  const swept = await requeueLapsed(db);
  const pruned = opts.prune ? await pruneFinishedJobs(db) : 0;
  return { fired, ...swept, pruned };
}

/** Starts the tick loop; `stop` waits for a pass in progress. */
export function startQueueTicker(services: AppServices): Loop {
  let lastPrune = 0;
  return startLoop('queue tick', services.log, TICK_MS, async () => {
    const prune = Date.now() - lastPrune > PRUNE_EVERY_MS;
    const r = await queueTick(services, { prune });
    if (prune) lastPrune = Date.now();
    if (r.fired || r.requeued || r.deadLettered || r.pruned) services.log.debug(r, 'queue tick');
  });
}
