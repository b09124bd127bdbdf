// `tasks.run`: a paid operation with deferred settlement. The registry has already reserved the run's credit
// (ctx.hold); this records the run with that hold and queues the job that executes it, in the request's
// transaction — so the run, its job and its hold's owner exist together or not at all. The job settles the hold.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, conflict, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { agents } from '../../db/schema/agents.ts';
import { runs } from '../../db/schema/runs.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { findAgent } from '../agents/service.ts';
import type { AgentRow } from '../agents/service.ts';
import { assertUnblocked, findTask, type TaskRow } from '../tasks/service.ts';
import { CLOSED } from '../tasks/transitions.ts';
import { agentSpend } from './budget.ts';
import { insertRunEventsSql } from './events.ts';
import { RUNS_CHANNEL } from './signals.ts';
import { executeRunJob } from './jobs.ts';
import { blockedByFailures } from './retry.ts';
import { presentRun } from './service.ts';

/** How long one run may take unless its task or agent says otherwise. */
export const DEFAULT_RUN_SECONDS = 300;
const JOB_MARGIN_SECONDS = 60;

export function runTimeoutSeconds(task: Pick<TaskRow, 'maxDurationSeconds'>, agent: Pick<AgentRow, 'runtimeConfig'>): number {
  const configured = agent.runtimeConfig?.timeout_sec;
  return task.maxDurationSeconds ?? (typeof configured === 'number' ? configured : DEFAULT_RUN_SECONDS);
}

async function agentFor(ctx: Ctx, task: TaskRow, ref: string | undefined): Promise<AgentRow> {
  if (ref) return findAgent(ctx, ref);
  if (task.assigneeType === 'agent' && task.assigneeId) return findAgent(ctx, task.assigneeId);
  throw unprocessable(
    `Task #${task.number} has no agent to run it: assign it to one (\`opsbase tasks update ${task.number} --assignee agent:<name>\`) or name one with \`agent\`.`,
    { field: 'agent' },
  );
}

async function assertBudget(ctx: Ctx, agent: AgentRow, cost: number) {
  if (agent.monthlyCredits === null && agent.monthlyTokens === null) return;
  const spend = await agentSpend(ctx.db, agent.id);
  if (agent.monthlyCredits !== null && spend.credits + cost > agent.monthlyCredits) {
    throw new AppError('quota_exceeded', `Agent ${agent.name} has spent ${spend.credits} of its ${agent.monthlyCredits} monthly credits: raise its budget or wait for next month.`, {
      budget: 'monthly_credits',
      used: spend.credits,
      limit: agent.monthlyCredits,
    });
  }
  if (agent.monthlyTokens !== null && spend.tokens >= agent.monthlyTokens) {
    throw new AppError('quota_exceeded', `Agent ${agent.name} has used ${spend.tokens} of its ${agent.monthlyTokens} monthly tokens: raise its budget or wait for next month.`, {
      budget: 'monthly_tokens',
      used: spend.tokens,
      limit: agent.monthlyTokens,
    });
  }
}

/** What must exist before a credit is held: the task, and the agent that would run it (404s, 422 without one). */
export async function runnable(ctx: Ctx, input: { id: string; agent?: string }) {
  await agentFor(ctx, await findTask(ctx, input.id), input.agent);
}

export async function startRun(ctx: Ctx, input: { id: string; agent?: string }) {
  const orgId = requireOrg(ctx);
  if (!ctx.hold) throw new Error('tasks.run is a paid operation: the registry reserves its hold');
  const task = await findTask(ctx, input.id, { forUpdate: true });
  if (task.archivedAt) throw unprocessable(`Task #${task.number} is archived.`, { archived_at: task.archivedAt.toISOString() });
  if (CLOSED.includes(task.status)) throw unprocessable(`Task #${task.number} is ${task.status}: reopen it (status todo) to run it again.`, { status: task.status });
  const agent = await agentFor(ctx, task, input.agent);
  // The agent's row is locked until the run is recorded: runs of one agent start one after another, so concurrent
  // starts cannot all pass the budget (or a heartbeat's concurrency) check on the same figures.
  await ctx.db.select({ id: agents.id }).from(agents).where(eq(agents.id, agent.id)).for('update');
  // Over budget is said first: an agent its budget paused gets the 402 that says why.
  await assertBudget(ctx, agent, ctx.hold.amount);
  if (agent.status === 'paused' || agent.status === 'offline') {
    throw new AppError('paused', `Agent ${agent.name} is ${agent.status}${agent.statusReason ? ` (${agent.statusReason})` : ''}: start it first (\`opsbase agents start ${agent.name}\`).`, {
      agent_status: agent.status,
    });
  }
  // A task its own failures blocked may still be run by hand: that is how a person retries it (retry.ts).
  await assertUnblocked(ctx, task, { byDependenciesOnly: blockedByFailures(task) });
  const [open] = await ctx.db
    .select({ id: runs.id, status: runs.status })
    .from(runs)
    .where(and(eq(runs.taskId, task.id), inArray(runs.status, ['queued', 'running'])))
    .limit(1);
  if (open) throw conflict(`Task #${task.number} already has a run ${open.status}: ${open.id}.`, { run_id: open.id, run_status: open.status });

  const id = newId('run');
  const timeout = runTimeoutSeconds(task, agent);
  // The job's own limit leaves the run's timeout room to fire first: a run past its time ends timed_out (refunded),
  // never as a retried job.
  const job = await enqueueJob(ctx.db, executeRunJob, { run_id: id }, { idempotencyKey: id, timeoutSeconds: timeout + JOB_MARGIN_SECONDS });
  await recordEvent(ctx.db, { orgId, type: 'run.queued', subject: id, data: { task_id: task.id, number: task.number, agent_id: agent.id } });
  await recordActivity(ctx, { action: 'run.queued', entityType: 'run', entityId: id, metadata: { task_id: task.id, number: task.number, agent_id: agent.id } });
  // The run row last (its queued_at is when the request commits), with its first event in the same statement (a CTE:
  // the event's reference to the run is checked at the statement's end, when the run exists).
  const queued = { status: 'queued', agent: agent.name, runtime: agent.runtime, timeout_sec: timeout };
  const firstEvent = ctx.db.$with('first_event', { seq: sql<number>`seq` }).as(sql`
    with s as (select 1 as last_seq) ${insertRunEventsSql({ id, orgId }, sql.raw('s'), [{ type: 'status', data: queued }])}
    returning seq, pg_notify(${RUNS_CHANNEL}, ${`e:${id}`})`);
  const [row] = await ctx.db
    .with(firstEvent)
    .insert(runs)
    .values({
      id,
      orgId,
      taskId: task.id,
      agentId: agent.id,
      runtime: agent.runtime,
      model: agent.runtime === 'llm' ? agent.model : null,
      jobId: job.id,
      holdId: ctx.hold.id,
      credits: ctx.hold.amount,
      // When it was queued, not when the request began.
      queuedAt: sql`clock_timestamp()`,
      createdByType: ctx.actorType,
      createdById: ctx.actorId,
      lastSeq: 1,
    })
    .returning();
  return presentRun(row);
}
