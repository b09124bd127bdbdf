// A run's events: numbered 1, 2, 3 … per run (the run row's `last_seq` hands the numbers out, so concurrent writers
// never collide), each committed as it happens so a viewer sees it live, and signalled to every instance.
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { runEvents, runs } from '../../db/schema/runs.ts';
import type { RunEventType } from './schemas.ts';
import { signalRun } from './signals.ts';

export interface NewRunEvent {
  type: RunEventType;
  data: Record<string, unknown>;
}

/** Appends events to a run, in order, and signals its live streams when the caller's transaction commits. */
export async function appendRunEvents(db: DbOrTx, run: { id: string; orgId: string }, events: NewRunEvent[]): Promise<number> {
  if (!events.length) return 0;
  const [row] = await db
    .update(runs)
    .set({ lastSeq: sql`${runs.lastSeq} + ${events.length}` })
    .where(eq(runs.id, run.id))
    .returning({ last: runs.lastSeq });
  const first = row.last - events.length + 1;
  await db.insert(runEvents).values(events.map((e, i) => ({ runId: run.id, orgId: run.orgId, seq: first + i, type: e.type, data: e.data })));
  await signalRun(db, 'e', run.id);
  return row.last;
}

export const appendRunEvent = (db: DbOrTx, run: { id: string; orgId: string }, type: RunEventType, data: Record<string, unknown>) =>
  appendRunEvents(db, run, [{ type, data }]);

export async function runEventsAfter(db: DbOrTx, runId: string, after: number, limit: number) {
  const rows = await db
    .select()
    .from(runEvents)
    .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, after)))
    .orderBy(asc(runEvents.seq))
    .limit(limit);
  return rows.map((e) => ({ run_id: e.runId, seq: e.seq, type: e.type as RunEventType, data: e.data, created_at: e.createdAt.toISOString() }));
}
