// An external agent (http or process runtime) talking back about its run: `runs.report` (events, usage so far, and a
// heartbeat that keeps the run's lease), `runs.complete` (its result) and `runs.fail` (its error). Only the run's own
// agent — or a caller holding runs:write, an operator stepping in — may do so. Complete and fail end the run through
// finishRun, so the credit is settled exactly once whoever else (the runtime's timeout, a cancel, the reaper) races.
import { and, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { conflict, forbidden } from '../../core/errors.ts';
import { callerAllows } from '../../core/scopes.ts';
import { agents } from '../../db/schema/agents.ts';
import { runs } from '../../db/schema/runs.ts';
import { appendRunEvents, type NewRunEvent } from './events.ts';
import { renewRunLease } from './execute.ts';
import { finishRun, type RunOutcome } from './finish.ts';
import { leaseSeconds } from './runtimes/external.ts';
import { findRun, presentRun, type RunRow } from './service.ts';

export interface ReportedUsage {
  input_tokens: number;
  output_tokens: number;
}

const usageOf = (u: ReportedUsage | undefined) => u && { input_tokens: u.input_tokens, output_tokens: u.output_tokens, total_tokens: u.input_tokens + u.output_tokens };

/** The run (of ctx's org: 404 otherwise), locked, once the caller may report on it: its own agent, or runs:write. */
async function reportable(ctx: Ctx, id: string): Promise<RunRow> {
  const run = await findRun(ctx, id, { forUpdate: true });
  if (ctx.actorType === 'agent') {
    if (ctx.actorId !== run.agentId) throw forbidden(`Run ${run.id} belongs to another agent: an agent reports only on its own runs.`);
  } else if (!callerAllows(ctx, 'runs:write')) {
    throw forbidden(`Reporting on run ${run.id} needs the scope \`runs:write\` (or the run's own agent).`);
  }
  if (run.status !== 'running') {
    throw conflict(
      run.status === 'queued' ? `Run ${run.id} has not started yet.` : `Run ${run.id} already ended: ${run.status}. Stop working on it.`,
      { status: run.status },
    );
  }
  return run;
}

export async function reportRun(ctx: Ctx, input: { id: string; events?: NewRunEvent[]; usage?: ReportedUsage }) {
  const run = await reportable(ctx, input.id);
  await appendRunEvents(ctx.db, run, input.events ?? []);
  const [agent] = run.agentId ? await ctx.db.select({ runtimeConfig: agents.runtimeConfig }).from(agents).where(eq(agents.id, run.agentId)) : [];
  const seconds = leaseSeconds(agent ?? { runtimeConfig: null });
  const [row] = await ctx.db
    .update(runs)
    .set({
      leaseExpiresAt: sql`now() + make_interval(secs => ${seconds})`,
      // Usage so far, as the agent's model reported it: budgets read it while the run goes on.
      ...(input.usage && { tokensIn: input.usage.input_tokens, tokensOut: input.usage.output_tokens }),
    })
    .where(and(eq(runs.id, run.id), eq(runs.status, 'running')))
    .returning();
  await renewRunLease(ctx.services, run, seconds, ctx.db);
  return {
    id: row.id,
    status: row.status,
    cancel_requested: row.cancelRequestedAt !== null,
    lease_expires_at: row.leaseExpiresAt?.toISOString() ?? null,
    last_seq: row.lastSeq,
  };
}

async function end(ctx: Ctx, run: RunRow, outcome: RunOutcome) {
  const ended = await finishRun(ctx.services, run.id, outcome, ctx.db);
  // The row is locked and running, so this finisher is the one; null only if that ever stops being so.
  if (!ended) throw conflict(`Run ${run.id} already ended.`);
  return presentRun(ended);
}

export async function completeRun(ctx: Ctx, input: { id: string; result: string; usage?: ReportedUsage; model?: string }) {
  const run = await reportable(ctx, input.id);
  if (input.model) await ctx.db.update(runs).set({ model: input.model }).where(eq(runs.id, run.id));
  return end(ctx, run, { status: 'succeeded', result: input.result, usage: usageOf(input.usage) });
}

export async function failRun(ctx: Ctx, input: { id: string; error: string; usage?: ReportedUsage }) {
  const run = await reportable(ctx, input.id);
  return end(ctx, run, { status: 'failed', reason: 'agent_error', message: input.error, usage: usageOf(input.usage) });
}
