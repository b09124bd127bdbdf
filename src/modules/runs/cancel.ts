// Cancelling a run: a queued one ends at once (its job is cancelled, its credit released); a running one is told
// to stop — the worker executing it hears the signal on whichever instance it is and ends it `cancelled`. A worker
// that died meanwhile never hears it: the next attempt (or the reaper) sees `cancel_requested_at` and ends it.
import { and, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { conflict } from '../../core/errors.ts';
import { runs } from '../../db/schema/runs.ts';
import { recordActivity } from '../activity/record.ts';
import { finishRun } from './finish.ts';
import { findRun, presentRun } from './service.ts';
import { signalRun } from './signals.ts';

export async function cancelRun(ctx: Ctx, id: string) {
  const run = await findRun(ctx, id);
  if (run.status !== 'queued' && run.status !== 'running') throw conflict(`Run ${run.id} already ended: ${run.status}.`, { status: run.status });
  await recordActivity(ctx, { action: 'run.cancel_requested', entityType: 'run', entityId: run.id, metadata: { status: run.status } });
  if (run.status === 'queued') {
    // Only while its job still waits: one a worker has just taken is cancelled like a running run.
    const { rows } = await ctx.db.execute(sql`update queue_jobs set state = 'cancelled', finished_at = now(), updated_at = now()
      where id = ${run.jobId} and state = 'waiting' returning id`);
    if (rows.length) {
      const ended = await finishRun(ctx.services, run.id, { status: 'cancelled', reason: 'cancelled', message: 'Cancelled before it started.' }, ctx.db);
      if (ended) return presentRun(ended);
    }
  }
  const [row] = await ctx.db
    .update(runs)
    .set({ cancelRequestedAt: sql`coalesce(${runs.cancelRequestedAt}, now())` })
    .where(and(eq(runs.id, run.id)))
    .returning();
  await signalRun(ctx.db, 'c', run.id);
  return presentRun(row);
}
