// The idle check: what a heartbeat of this agent would do, decided from the database alone — no model call. Its
// startable tasks are the tasks pool's (`todoPool`, `expiredPool`: its own todo tasks nothing blocks, and its own
// whose claim lapsed) less those a run is already queued or running on.
import { and, count, eq, inArray, or, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { type DbOrTx, together } from '../../db/client.ts';
import { runs } from '../../db/schema/runs.ts';
import { tasks } from '../../db/schema/tasks.ts';
import { agentSpend, capUse, exhausted } from '../runs/budget.ts';
import { expiredPool, todoPool, urgency } from '../tasks/claim.ts';
import type { IDLE_REASONS, IdleCheck as IdleCheckOut } from './schemas.ts';
import type { AgentRow } from './service.ts';

export type IdleReason = (typeof IDLE_REASONS)[number];

/** Statuses a heartbeat wakes: the others (paused, offline, error) wait for someone to start the agent. */
export const WAKEABLE = ['active', 'idle', 'running'] as const;

const noOpenRun = sql`not exists (select 1 from runs r where r.task_id = ${tasks.id} and r.status in ('queued', 'running'))`;
/** Not waiting after a failed run (runs/retry.ts). */
const notBackingOff = sql`(${tasks.retryAfter} is null or ${tasks.retryAfter} <= now())`;

/** Tasks the agent could start now (the caller orders and limits them). */
export function startable(orgId: string, agentId: string) {
  const a = { type: 'agent' as const, id: agentId };
  return and(or(todoPool(orgId, a, false), expiredPool(orgId, a, false)), noOpenRun, notBackingOff);
}

export async function openRuns(db: DbOrTx, agentId: string): Promise<number> {
  const [r] = await db
    .select({ n: count() })
    .from(runs)
    .where(and(eq(runs.agentId, agentId), inArray(runs.status, ['queued', 'running'])));
  return r.n;
}

export type IdleCheck = z.output<typeof IdleCheckOut>;

/**
 * Why there is nothing to start, said plainly: heartbeats take only tasks assigned to the agent (the issue's `next`
 * for an assignee), so unassigned work is never picked up by itself; and a task waiting after failed runs says until
 * when. The extra read happens only when there is no work.
 */
async function noWorkMessage(db: DbOrTx, agent: AgentRow): Promise<string> {
  const a = { type: 'agent' as const, id: agent.id };
  const [waiting] = await db
    .select({ number: tasks.number, retryAfter: tasks.retryAfter, runFailures: tasks.runFailures })
    .from(tasks)
    .where(and(todoPool(agent.orgId, a, false), noOpenRun, sql`${tasks.retryAfter} > now()`))
    .orderBy(tasks.retryAfter)
    .limit(1);
  const base =
    `No todo task assigned to ${agent.name} is ready to start: heartbeats pick up only tasks assigned to the agent ` +
    `(\`opsbase tasks update <number> --assignee agent:${agent.name}\`).`;
  if (!waiting?.retryAfter) return base;
  return `${base} Task #${waiting.number} waits until ${waiting.retryAfter.toISOString()} after ${waiting.runFailures} failed run${waiting.runFailures === 1 ? '' : 's'} in a row.`;
}

export async function idleCheck(db: DbOrTx, agent: AgentRow): Promise<IdleCheck> {
  const [[next], open] = await together(
    db,
    () =>
      db
        .select({ id: tasks.id, number: tasks.number })
        .from(tasks)
        .where(startable(agent.orgId, agent.id))
        .orderBy(...urgency)
        .limit(1),
    () => openRuns(db, agent.id),
  );
  const out = (reason: IdleReason, message: string): IdleCheck => ({
    agent_id: agent.id,
    idle: !next,
    next_task_id: next?.id ?? null,
    next_task_number: next?.number ?? null,
    reason,
    message,
    open_runs: open,
    max_concurrent_runs: agent.maxConcurrentRuns,
  });
  if (!(WAKEABLE as readonly string[]).includes(agent.status)) {
    const why = agent.statusReason ? ` (${agent.statusReason})` : '';
    return out(agent.status as IdleReason, `Agent ${agent.name} is ${agent.status}${why}: it takes no work until it is started.`);
  }
  if (!next) return out('no_work', await noWorkMessage(db, agent));
  if (open >= agent.maxConcurrentRuns) {
    return out('at_capacity', `Agent ${agent.name} has ${open} of ${agent.maxConcurrentRuns} runs open; task #${next.number} waits.`);
  }
  if (agent.monthlyCredits !== null || agent.monthlyTokens !== null) {
    const full = capUse(agent, await agentSpend(db, agent.id)).find(exhausted);
    if (full) return out('over_budget', `Agent ${agent.name} has used ${full.used} of its ${full.limit} ${full.budget.replace('_', ' ')}.`);
  }
  return out('ready', `Agent ${agent.name} would start task #${next.number}.`);
}
