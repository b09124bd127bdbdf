// Ending a run, exactly once: the run row moves from queued/running to a final status in a conditional update, and
// only the caller whose update matched settles the hold (commit on success; release on failure, timeout or cancel),
// moves the task on and records the events. A second finisher (a retried job, the reaper, a late cancel) matches
// nothing and changes nothing — so the credit is settled once whatever races happen.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Usage } from '../../ai/loop.ts';
import { type Ctx, systemCtx } from '../../core/context.ts';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { agents } from '../../db/schema/agents.ts';
import { type RunStatus, runs } from '../../db/schema/runs.ts';
import { tasks } from '../../db/schema/tasks.ts';
import { recordActivity } from '../activity/record.ts';
import { postSoon, settle } from '../billing/holds.ts';
import { recordEvent } from '../events/record.ts';
import { createComment } from '../tasks/comments.ts';
import { enforceBudget } from './budget.ts';
import { appendRunEvents, type NewRunEvent } from './events.ts';
import { afterFailure, countsAgainstTask } from './retry.ts';
import type { RunRow } from './service.ts';
import type { EndedRun } from './finish-fast.ts';

/** What the run did, whatever the outcome: recorded with it. */
interface RunFacts {
  usage?: Usage;
  steps?: number;
  ruleIds?: string[];
  model?: string | null;
  /** Events the runtime left to be written with the outcome, before it (RuntimeResult.events). */
  events?: NewRunEvent[];
}

export type RunOutcome =
  | ({ status: 'succeeded'; result: string } & RunFacts)
  | ({ status: Exclude<RunStatus, 'queued' | 'running' | 'succeeded'>; reason: string; message: string } & RunFacts);

/** The context work done on an agent's behalf by the system is recorded under: the agent is the actor. */
export function agentCtx(services: AppServices, db: DbOrTx, orgId: string, agentId: string | null): Ctx {
  return { ...systemCtx(services, db, orgId), actorType: agentId ? 'agent' : 'system', actorId: agentId, requestId: 'run' };
}

/** Where a successful run leaves its task: the agent's runtime_config `on_success` (default `in_review`). */
async function successStatus(db: DbOrTx, agentId: string | null): Promise<'in_review' | 'done'> {
  if (!agentId) return 'in_review';
  const [a] = await db.select({ rc: agents.runtimeConfig }).from(agents).where(eq(agents.id, agentId));
  return a?.rc?.on_success === 'done' ? 'done' : 'in_review';
}

async function moveTask(ctx: Ctx, run: RunRow, outcome: RunOutcome) {
  const holder = run.agentId ? `agent:${run.agentId}` : null;
  const [task] = await ctx.db.select().from(tasks).where(eq(tasks.id, run.taskId)).for('update');
  // Only a task this run is working on moves: one someone moved meanwhile (cancelled, reassigned) stays as it is.
  if (task?.status !== 'in_progress' || task.leaseHolder !== holder) return;
  const done = outcome.status === 'succeeded';
  // A failure of the task's own (not a cancel, not the agent's budget) makes heartbeats wait, or blocks it (retry.ts).
  const failed = outcome.status !== 'succeeded' && countsAgainstTask(outcome.status, outcome.reason) ? afterFailure(task.runFailures) : null;
  const status = done ? await successStatus(ctx.db, run.agentId) : (failed?.status ?? 'todo');
  const [row] = await ctx.db
    .update(tasks)
    .set({
      status,
      ...(done && { resolution: outcome.result.slice(0, 10_000) }),
      ...(done && { runFailures: 0, retryAfter: null }),
      ...(failed && {
        runFailures: failed.runFailures,
        retryAfter: failed.retryInSeconds === null ? null : sql`now() + make_interval(secs => ${failed.retryInSeconds})`,
      }),
      completedAt: status === 'done' ? new Date() : null,
      leaseExpiresAt: null,
      leaseHolder: null,
      updatedAt: new Date(),
    })
    .where(eq(tasks.id, task.id))
    .returning();
  const changed = done ? ['status', 'resolution'] : failed ? ['status', 'run_failures', 'retry_after'] : ['status'];
  const data = {
    number: row.number,
    title: row.title,
    status,
    run_id: run.id,
    changed,
    ...(failed && { run_failures: row.runFailures, retry_after: row.retryAfter?.toISOString() ?? null }),
  };
  await recordEvent(ctx.db, { orgId: run.orgId, type: 'task.updated', subject: row.id, data });
  if (status === 'done') await recordEvent(ctx.db, { orgId: run.orgId, type: 'task.completed', subject: row.id, data });
  if (failed?.status === 'blocked' && outcome.status !== 'succeeded') {
    // The error where a person looking at the blocked task sees it, by the agent whose runs failed.
    await createComment(ctx, {
      id: row.id,
      body:
        `Blocked after ${row.runFailures} failed runs in a row. The last, ${run.id}, ended ${outcome.status} (${outcome.reason}): ${outcome.message.slice(0, 2000)}\n\n` +
        `Fix the cause, then move the task back to todo for the agent's heartbeat, or run it now with \`opsbase tasks run ${row.number}\`.`,
    });
  }
}

/** Ends the run with `outcome` unless it already ended; returns the ended run, or null when another finisher won. */
export async function finishRun(services: AppServices, runId: string, outcome: RunOutcome, inTx?: DbOrTx): Promise<RunRow | null> {
  const db = services.database.db;
  const end = async (tx: DbOrTx) => {
    const usage = outcome.usage;
    const [run] = await tx
      .update(runs)
      .set({
        status: outcome.status,
        reason: outcome.status === 'succeeded' ? null : outcome.reason,
        result: outcome.status === 'succeeded' ? outcome.result : null,
        error: outcome.status === 'succeeded' ? null : { code: outcome.reason, message: outcome.message },
        ...(usage && { tokensIn: usage.input_tokens, tokensOut: usage.output_tokens }),
        ...(outcome.steps !== undefined && { steps: outcome.steps }),
        ...(outcome.ruleIds && { ruleIds: outcome.ruleIds }),
        ...(outcome.model !== undefined && { model: outcome.model }),
        finishedAt: sql`clock_timestamp()`,
        leaseExpiresAt: null,
      })
      .where(and(eq(runs.id, runId), inArray(runs.status, ['queued', 'running'])))
      .returning();
    if (!run) return null;
    let spent = 0;
    if (run.holdId) {
      const hold = await settle(tx, run.holdId, outcome.status === 'succeeded' ? 'commit' : 'release');
      spent = hold.status === 'committed' ? hold.amount : 0;
    }
    const [row] = await tx.update(runs).set({ creditsSpent: spent }).where(eq(runs.id, run.id)).returning();
    const ctx = agentCtx(services, tx, run.orgId, run.agentId);
    await moveTask(ctx, row, outcome);
    // The agent is no longer running once its last running run ended.
    if (run.agentId) {
      await tx.execute(sql`update agents set status = 'active', updated_at = now()
        where id = ${run.agentId} and status = 'running'
          and not exists (select 1 from runs where agent_id = ${run.agentId} and status = 'running')`);
    }
    const summary = { run_id: run.id, task_id: run.taskId, agent_id: run.agentId, status: outcome.status, credits_spent: spent };
    const eventType = outcome.status === 'succeeded' ? 'run.succeeded' : outcome.status === 'cancelled' ? 'run.cancelled' : 'run.failed';
    await recordEvent(tx, {
      orgId: run.orgId,
      type: eventType,
      subject: run.id,
      data: { ...summary, ...(outcome.status !== 'succeeded' && { reason: outcome.reason, message: outcome.message }) },
    });
    await recordActivity(ctx, { action: eventType, entityType: 'run', entityId: run.id, metadata: summary });
    await appendRunEvents(tx, run, [
      ...(outcome.events ?? []),
      outcome.status === 'succeeded'
        ? { type: 'result', data: { result: outcome.result } }
        : { type: 'error', data: { code: outcome.reason, message: outcome.message } },
      { type: 'status', data: { status: outcome.status, credits_spent: spent, ...(outcome.status !== 'succeeded' && { reason: outcome.reason }) } },
    ]);
    return row;
  };
  // Inside the caller's transaction (a cancel), or in one of its own.
  const ended = inTx ? await end(inTx) : await db.transaction(end);
  // A cancel (inside the caller's transaction) only ever gives credits back: no budget to check.
  if (ended) await afterRunEnded(services, ended, { checkBudget: !inTx });
  return ended;
}

/**
 * After a run's end committed (finishRun, finish-fast.ts): its settled hold posted to the wallet soon; the agent's
 * budget after what the run spent — alert at its share, pause when full — read after the commit, so the spend read
 * is this run's settled one.
 */
export async function afterRunEnded(services: AppServices, ended: EndedRun, opts: { checkBudget: boolean }) {
  if (ended.holdId) postSoon(services.database.db, ended.orgId, 'credits');
  if (ended.agentId && opts.checkBudget) {
    await enforceBudget(services, ended.agentId, { stoppedByBudget: ended.reason === 'budget' }).catch((err) =>
      services.log.error({ err, run: ended.id }, 'budget check after a run failed'),
    );
  }
}
