// Runs (issue 11): reading them. Starting one is start.ts, executing it execute.ts, ending it finish.ts.
import { and, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { notFound } from '../../core/errors.ts';
import { decodeCursor, type PageInput, toPage } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { type RunStatus, runs } from '../../db/schema/runs.ts';
import { findAgent } from '../agents/service.ts';
import { findTask } from '../tasks/service.ts';
import type { RunOut } from './schemas.ts';

export type RunRow = typeof runs.$inferSelect;

export function presentRun(r: RunRow): RunOut {
  return {
    id: r.id,
    org_id: r.orgId,
    task_id: r.taskId,
    agent_id: r.agentId,
    runtime: r.runtime,
    model: r.model,
    status: r.status,
    reason: r.reason,
    attempt: r.attempt,
    credits: r.credits,
    credits_spent: r.creditsSpent,
    tokens_in: r.tokensIn,
    tokens_out: r.tokensOut,
    steps: r.steps,
    result: r.result,
    error: r.error ?? null,
    rule_ids: r.ruleIds,
    last_seq: r.lastSeq,
    created_by: { type: r.createdByType, id: r.createdById },
    cancel_requested_at: iso(r.cancelRequestedAt),
    queued_at: r.queuedAt.toISOString(),
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    duration_ms: r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
  };
}

export async function findRun(ctx: Ctx, id: string, opts: { forUpdate?: boolean } = {}): Promise<RunRow> {
  const q = ctx.db
    .select()
    .from(runs)
    .where(and(eq(runs.orgId, requireOrg(ctx)), eq(runs.id, id)));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Run');
  return row;
}

export interface RunFilters extends PageInput {
  task?: string;
  agent?: string;
  status?: RunStatus[];
}

export async function listRuns(ctx: Ctx, input: RunFilters) {
  const orgId = requireOrg(ctx);
  const where: (SQL | undefined)[] = [eq(runs.orgId, orgId)];
  if (input.task) where.push(eq(runs.taskId, (await findTask(ctx, input.task)).id));
  if (input.agent) where.push(eq(runs.agentId, (await findAgent(ctx, input.agent)).id));
  if (input.status?.length) where.push(inArray(runs.status, input.status));
  const after = decodeCursor(input.cursor);
  if (after) where.push(lt(runs.id, after));
  const rows = await ctx.db
    .select()
    .from(runs)
    .where(and(...where))
    .orderBy(desc(runs.id))
    .limit(input.limit + 1)
    .offset(input.offset ?? 0);
  const page = toPage(rows, input.limit, (r) => r.id);
  return { data: page.data.map(presentRun), meta: page.meta };
}

