// The job engine's clock, run by every worker process (`opsbase start` / `opsbase worker`): fire due schedules (the
// public queue's and the workers' own periodic jobs) and return jobs whose lease lapsed to their queue (or
// dead-letter them when no attempt is left). A loop rather than a job: it is what makes jobs run, and `every_seconds`
// schedules and lease expiry need second resolution. Each step is one statement (or one transaction) with SKIP
// LOCKED or idempotent conditions, so any number of workers may tick at once.
import { sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { idFloor } from '../../core/ids.ts';
import { fireDueSchedules } from './schedules.ts';
import { requeueLapsed } from './service.ts';
import { type Loop, startLoop } from '../../jobs/loop.ts';

const TICK_MS = 1000;

/**
 * Up to `limit` finished jobs past their retention (completed and cancelled after `doneDays`, dead-lettered after
 * `failedDays`), oldest first, walking the primary key (ids sort by creation time). Called in a loop by the
 * maintenance job until it returns less than `limit`.
 */
export async function pruneFinishedJobs(db: DbOrTx, days: { done: number; failed: number } = { done: 7, failed: 30 }, limit = 10_000): Promise<number> {
  const floor = idFloor('job', Date.now() - Math.min(days.done, days.failed) * 86_400_000);
  const { rows } = await db.execute<{ n: number }>(
    sql`with gone as (
          delete from queue_jobs where id in (
            select id from queue_jobs
            where id < ${floor} and finished_at is not null
              and ((state in ('completed', 'cancelled') and finished_at < now() - make_interval(days => ${days.done}))
                or (state = 'failed' and finished_at < now() - make_interval(days => ${days.failed})))
            limit ${limit})
          returning 1)
        select count(*)::int as n from gone`,
  );
  return rows[0]?.n ?? 0;
}

/** One pass; exported for tests, which drive time themselves. */
export async function queueTick(services: AppServices) {
  const { db } = services.database;
  const fired = await fireDueSchedules(db);
  const swept = await requeueLapsed(db);
  return { fired, ...swept };
}

/** Starts the tick loop; `stop` waits for a pass in progress. */
export function startQueueTicker(services: AppServices, everyMs = TICK_MS): Loop {
  return startLoop('queue tick', services.log, everyMs, async () => {
    const r = await queueTick(services);
    if (r.fired || r.requeued || r.deadLettered) services.log.debug(r, 'queue tick');
  });
}
