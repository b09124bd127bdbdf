// An agent's spend this UTC month, read from what happened — never estimated (DESIGN §9): credits reserved by runs
// still going plus credits committed by finished ones (so concurrent runs count before they settle), and the tokens
// runs recorded from the provider's usage (running runs keep theirs current after every model call).
// And what that spend does to the agent: at `alert_at_pct` of a cap one `agent.budget_alert` per month; at 100 % (or
// when the model loop stopped a run because its next call would pass the cap) the agent is paused, reason `budget`.
import { sql } from 'drizzle-orm';
import { systemCtx } from '../../core/context.ts';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';

export interface AgentSpend {
  runs: number;
  credits: number;
  tokens: number;
}

export interface MonthStats extends AgentSpend {
  /** Runs that ended this month, and how many of them succeeded. */
  finished: number;
  succeeded: number;
}

export const MONTH_START = sql`(date_trunc('month', now() at time zone 'utc') at time zone 'utc')`;

/** This month's runs of several agents in one grouped query (agents without runs are absent from the map). */
export async function monthStats(db: DbOrTx, agentIds: string[]): Promise<Map<string, MonthStats>> {
  if (agentIds.length === 0) return new Map();
  const { rows } = await db.execute<{ agent_id: string; runs: string; credits: string; tokens: string; finished: string; succeeded: string }>(sql`
    select agent_id, count(*) as runs,
           coalesce(sum(case when status in ('queued', 'running') then credits else credits_spent end), 0) as credits,
           coalesce(sum(tokens_in + tokens_out), 0) as tokens,
           count(*) filter (where status not in ('queued', 'running')) as finished,
           count(*) filter (where status = 'succeeded') as succeeded
      from runs where agent_id = any(${sql.param(agentIds)}::text[]) and queued_at >= ${MONTH_START}
     group by agent_id`);
  return new Map(
    rows.map((r) => [
      r.agent_id,
      { runs: Number(r.runs), credits: Number(r.credits), tokens: Number(r.tokens), finished: Number(r.finished), succeeded: Number(r.succeeded) },
    ]),
  );
}

export async function agentSpend(db: DbOrTx, agentId: string): Promise<AgentSpend> {
  const s = (await monthStats(db, [agentId])).get(agentId);
  return { runs: s?.runs ?? 0, credits: s?.credits ?? 0, tokens: s?.tokens ?? 0 };
}

interface BudgetedAgent {
  id: string;
  orgId: string;
  name: string;
  monthlyCredits: number | null;
  monthlyTokens: number | null;
  alertAtPct: number;
}

interface CapUse {
  budget: 'monthly_credits' | 'monthly_tokens';
  used: number;
  limit: number;
  /** Whole percent used (a cap of 0 counts as full). */
  pct: number;
}

/** Each cap the agent has, with its use; the fullest first. */
export function capUse(agent: BudgetedAgent, spend: AgentSpend): CapUse[] {
  const use = (budget: CapUse['budget'], used: number, limit: number | null): CapUse[] =>
    limit === null ? [] : [{ budget, used, limit, pct: limit === 0 ? 100 : Math.floor((used * 100) / limit) }];
  return [...use('monthly_credits', spend.credits, agent.monthlyCredits), ...use('monthly_tokens', spend.tokens, agent.monthlyTokens)].sort(
    (a, b) => b.pct - a.pct,
  );
}

/** A cap with nothing left: no credit for another run, or every token used. */
export const exhausted = (u: CapUse) => u.used >= u.limit;

/**
 * Sends `agent.budget_alert` (owners and admins are notified) when a cap reached its alert share — once per agent
 * per UTC month: the conditional update of `budget_alerted_at` lets exactly one concurrent caller through.
 */
export async function noteBudgetAlert(db: DbOrTx, agent: BudgetedAgent, spend: AgentSpend): Promise<boolean> {
  const [top] = capUse(agent, spend);
  if (!top || top.used * 100 < top.limit * agent.alertAtPct) return false;
  const { rows } = await db.execute(sql`update agents set budget_alerted_at = now()
    where id = ${agent.id} and (budget_alerted_at is null or budget_alerted_at < ${MONTH_START}) returning id`);
  if (rows.length === 0) return false;
  await recordEvent(db, {
    orgId: agent.orgId,
    type: 'agent.budget_alert',
    subject: agent.id,
    data: { agent_id: agent.id, name: agent.name, budget: top.budget, used: top.used, limit: top.limit, pct: top.pct, alert_at_pct: agent.alertAtPct },
  });
  return true;
}

/**
 * Checks an agent's budget after a run ended (and before a heartbeat starts one): alerts once per month at its
 * alert share; pauses it at 100 % of a cap, or when `stoppedByBudget` (the loop refused the next model call, so no
 * further run could make one). A paused agent gets no heartbeat and no new run until someone starts it again.
 */
export async function enforceBudget(services: AppServices, agentId: string, opts: { stoppedByBudget?: boolean } = {}) {
  const db = services.database.db;
  const { rows } = await db.execute<{
    id: string;
    org_id: string;
    name: string;
    monthly_credits: string | null;
    monthly_tokens: string | null;
    alert_at_pct: number;
  }>(sql`select id, org_id, name, monthly_credits, monthly_tokens, alert_at_pct from agents where id = ${agentId}`);
  const r = rows[0];
  if (!r || (r.monthly_credits === null && r.monthly_tokens === null)) return { alerted: false, paused: false };
  const num = (v: string | null) => (v === null ? null : Number(v));
  const agent: BudgetedAgent = {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    monthlyCredits: num(r.monthly_credits),
    monthlyTokens: num(r.monthly_tokens),
    alertAtPct: r.alert_at_pct,
  };
  const spend = await agentSpend(db, agent.id);
  const alerted = await noteBudgetAlert(db, agent, spend);
  const uses = capUse(agent, spend);
  const full = uses.find(exhausted) ?? (opts.stoppedByBudget ? uses.find((u) => u.budget === 'monthly_tokens') : undefined);
  if (!full) return { alerted, paused: false };
  const paused = await db.transaction(async (tx) => {
    const { rows: hit } = await tx.execute(sql`update agents set status = 'paused', status_reason = 'budget', budget_paused_at = now(), updated_at = now()
      where id = ${agent.id} and status in ('active', 'idle', 'running', 'error') returning id`);
    if (hit.length === 0) return false;
    const data = { agent_id: agent.id, name: agent.name, reason: 'budget', budget: full.budget, used: full.used, limit: full.limit };
    await recordEvent(tx, { orgId: agent.orgId, type: 'agent.paused', subject: agent.id, data });
    await recordActivity(systemCtx(services, tx, agent.orgId), { action: 'agent.paused', entityType: 'agent', entityId: agent.id, metadata: data });
    return true;
  });
  return { alerted, paused };
}

/**
 * Whether an agent may make another model call: null when it may, else why not. The next call is assumed to cost at
 * least what the last one did (input grows with every step), so the run stops *before* a call that would take the
 * agent past its monthly tokens, not after. Crossing the alert share mid-run sends the alert then.
 */
export async function budgetVerdict(
  db: DbOrTx,
  agent: BudgetedAgent,
  lastStep: { total_tokens: number } | null,
): Promise<string | null> {
  if (agent.monthlyTokens === null) return null;
  const spend = await agentSpend(db, agent.id);
  await noteBudgetAlert(db, agent, spend);
  const next = lastStep?.total_tokens ?? 0;
  if (spend.tokens + next > agent.monthlyTokens) {
    return `budget: ${spend.tokens} of ${agent.monthlyTokens} monthly tokens used, and the next call would take about ${next} more`;
  }
  return null;
}
