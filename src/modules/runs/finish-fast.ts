// The end of a run that succeeded, in one statement, for the common case: what finishRun's transaction does in
// thirteen round trips (the run's outcome, its hold committed, the task moved on, the agent no longer running, the
// events, the activity row, the run's last events) written by one prepared statement that commits durably — the
// charge and the outcome together, as before. Every run's result reached its watchers ~13 ms after the run had ended
// (bench tasks, 2 CPUs); a worker's slot was held as long.
//
// It writes all or nothing: its first write (the run, still queued or running, its hold still open) decides, and
// the rest follow from it. When that guard fails it changes nothing and answers null: finishRun then decides, as it
// always did (another finisher won, or a state this path does not handle). Locks are taken in finishRun's order
// (the run, then its hold, then the task), so the two paths cannot deadlock each other.
import { sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import { newId } from '../../core/ids.ts';
import { executePrepared } from '../../db/prepared.ts';
import { insertEventsSql } from '../events/record.ts';
import { insertRunEventsSql, type NewRunEvent } from './events.ts';
import type { RunOutcome } from './finish.ts';
import { RUNS_CHANNEL } from './signals.ts';

/** Where the run stands: what finishRun's caller and its after-commit work need of the ended run. */
export interface EndedRun {
  id: string;
  orgId: string;
  agentId: string | null;
  holdId: string | null;
  status: string;
  reason: string | null;
}

type Succeeded = Extract<RunOutcome, { status: 'succeeded' }>;

export async function finishSucceededFast(
  services: AppServices,
  run: { id: string; orgId: string; taskId: string; agentId: string | null },
  outcome: Succeeded,
): Promise<EndedRun | null> {
  // A run without an agent, or with an explicitly unknown model, is rare: left to finishRun.
  if (!run.agentId || outcome.model === null) return null;
  const db = services.database.db;
  const holder = `agent:${run.agentId}`;
  const events: NewRunEvent[] = [...(outcome.events ?? []), { type: 'result', data: { result: outcome.result } }];
  const usage = outcome.usage;
  const summary = { run_id: run.id, task_id: run.taskId, agent_id: run.agentId, status: 'succeeded' };
  // What this run spent: its hold's amount if this statement committed it (h), else nothing.
  const spent = sql`coalesce((select amount from h), 0)`;
  const taskData = sql`jsonb_build_object('number', t.number, 'title', t.title, 'status', t.status, 'run_id', ${run.id}::text,
    'changed', '["status","resolution"]'::jsonb)`;
  // `settled`: the hold's amount as this statement committed it (a bigint: text from the driver), null when it did not.
  const rows = await executePrepared<{ hold_id: string | null; settled: string | null }>(
    db,
    'run_finish_succeeded',
    sql`
    with r as (
      update runs set status = 'succeeded', reason = null, result = ${outcome.result}, error = null,
             tokens_in = coalesce(${usage?.input_tokens ?? null}::bigint, tokens_in), tokens_out = coalesce(${usage?.output_tokens ?? null}::bigint, tokens_out),
             steps = coalesce(${outcome.steps ?? null}::int, steps), rule_ids = coalesce(${outcome.ruleIds ? sql.param(outcome.ruleIds) : null}::text[], rule_ids),
             model = coalesce(${outcome.model ?? null}::text, model), finished_at = clock_timestamp(), lease_expires_at = null,
             credits_spent = case when hold_id is null then 0 else credits end, last_seq = last_seq + ${events.length + 1}
       where id = ${run.id} and status in ('queued', 'running')
         and (hold_id is null or exists (select 1 from holds where id = runs.hold_id and status = 'open'))
      returning hold_id, last_seq),
    h as (
      update holds set status = 'committed', settled_at = now()
       where id = (select hold_id from r) and status = 'open'
      returning amount),
    -- Where success leaves the task: the agent's runtime_config on_success (one row, whatever the agent).
    o as (
      select coalesce((select case when runtime_config->>'on_success' = 'done' then 'done' else 'in_review' end
                         from agents where id = ${run.agentId}), 'in_review') as status),
    t as (
      update tasks set status = o.status, resolution = ${outcome.result.slice(0, 10_000)}, run_failures = 0, retry_after = null,
             completed_at = case when o.status = 'done' then now() end, lease_expires_at = null, lease_holder = null, updated_at = now()
        from o
       where tasks.id = ${run.taskId} and tasks.status = 'in_progress' and tasks.lease_holder = ${holder} and exists (select 1 from r)
      returning tasks.id, tasks.number, tasks.title, tasks.status),
    a as (
      update agents set status = 'active', updated_at = now()
       where id = ${run.agentId} and status = 'running' and exists (select 1 from r)
         and not exists (select 1 from runs where agent_id = ${run.agentId} and status = 'running' and id <> ${run.id})),
    ev as (${insertEventsSql(sql`
      select ${newId('event')}, ${run.orgId}, 'task.updated', t.id, ${taskData} from t
      union all select ${newId('event')}, ${run.orgId}, 'task.completed', t.id, ${taskData} from t where t.status = 'done'
      union all select ${newId('event')}, ${run.orgId}, 'run.succeeded', ${run.id}, ${JSON.stringify(summary)}::jsonb || jsonb_build_object('credits_spent', ${spent}) from r`)}),
    act as (
      insert into activity_log (id, org_id, actor_type, actor_id, action, entity_type, entity_id, metadata, request_id)
      select ${newId('activity')}, ${run.orgId}, 'agent', ${run.agentId}, 'run.succeeded', 'run', ${run.id},
             ${JSON.stringify(summary)}::jsonb || jsonb_build_object('credits_spent', ${spent}), 'run' from r),
    re as (${insertRunEventsSql(run, sql.raw('r'), events, 1)}),
    st as (
      insert into run_events (run_id, seq, org_id, type, data)
      select ${run.id}, r.last_seq, ${run.orgId}, 'status', jsonb_build_object('status', 'succeeded', 'credits_spent', ${spent}) from r)
    select r.hold_id, (select amount from h) as settled, pg_notify(${RUNS_CHANNEL}, ${`e:${run.id}`}) from r`,
  );
  const row = rows[0];
  if (!row) return null;
  if (row.hold_id && row.settled === null) {
    // Its hold was settled by someone else between the guard's read and the commit (only an expired hold's sweep
    // could): nothing was charged by this run, which the events already say; the run's column is made to agree.
    services.log.error({ run: run.id, hold: row.hold_id }, "a run's hold was settled elsewhere as it ended: recorded as spending nothing");
    await db.execute(sql`update runs set credits_spent = 0 where id = ${run.id}`);
  }
  return { id: run.id, orgId: run.orgId, agentId: run.agentId, holdId: row.hold_id, status: 'succeeded', reason: null };
}
