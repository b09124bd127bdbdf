// A run's events: numbered 1, 2, 3 … per run (the run row's `last_seq` hands the numbers out, so concurrent writers
// never collide), each committed as it happens so a viewer sees it live, and signalled to every instance.
import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { runEvents } from '../../db/schema/runs.ts';
import type { RunEventType } from './schemas.ts';
import { RUNS_CHANNEL } from './signals.ts';

export interface NewRunEvent {
  type: RunEventType;
  data: Record<string, unknown>;
}

/** What a run's counters read after a model call, written with its events in the same statement. */
export interface RunProgress {
  tokensIn: number;
  tokensOut: number;
  steps: number;
}

/**
 * Appends events to a run, in order, and signals its live streams when the caller's transaction commits — one
 * statement (numbers from the run row, the rows, the NOTIFY, and the run's progress counters when given), since a
 * run writes events all along its way. `durable: false` (events written while the model loop runs) commits without
 * waiting for the WAL flush: a crash may lose those lines, never a status or a charge, which are written durably.
 */
export async function appendRunEvents(
  db: DbOrTx,
  run: { id: string; orgId: string },
  events: NewRunEvent[],
  opts: { progress?: RunProgress; durable?: boolean } = {},
): Promise<number> {
  if (!events.length) return 0;
  const p = opts.progress;
  const progress = p ? sql`, tokens_in = ${p.tokensIn}, tokens_out = ${p.tokensOut}, steps = ${p.steps}` : sql``;
  const asyncCommit = opts.durable === false ? sql`, set_config('synchronous_commit', 'off', true) as async_commit` : sql``;
  const { rows } = await db.execute<{ last: number }>(sql`
    with s as (update runs set last_seq = last_seq + ${events.length}${progress} where id = ${run.id} returning last_seq),
    ins as (${insertRunEventsSql(run, sql.raw('s'), events)})
    select (select last_seq from s) as last, pg_notify(${RUNS_CHANNEL}, ${`e:${run.id}`})${asyncCommit}`);
  return Number(rows[0].last);
}

/**
 * The insert of `events`, numbered just below the run's advanced counter: for a statement that moved the run's
 * `last_seq` past them in a CTE named by `advanced` (a relation with a `last_seq` column and one row, or none: then
 * nothing is written). Every writer of a run's events goes through here.
 */
export function insertRunEventsSql(run: { id: string; orgId: string }, advanced: SQL, events: NewRunEvent[], offset = 0) {
  return sql`insert into run_events (run_id, seq, org_id, type, data)
    select ${run.id}, ${advanced}.last_seq - ${events.length + offset} + e.ord::int, ${run.orgId}, e.type, e.data
      from ${advanced}, unnest(${sql.param(events.map((e) => e.type))}::text[], ${sql.param(events.map((e) => JSON.stringify(e.data)))}::jsonb[])
           with ordinality as e(type, data, ord)`;
}

export async function runEventsAfter(db: DbOrTx, runId: string, after: number, limit: number) {
  const rows = await db
    .select()
    .from(runEvents)
    .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, after)))
    .orderBy(asc(runEvents.seq))
    .limit(limit);
  return rows.map((e) => ({ run_id: e.runId, seq: e.seq, type: e.type as RunEventType, data: e.data, created_at: e.createdAt.toISOString() }));
}
