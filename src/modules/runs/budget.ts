// An agent's spend this UTC month, read from what happened — never estimated (DESIGN §9): credits reserved by runs
// still going plus credits committed by finished ones (so concurrent runs count before they settle), and the tokens
// runs recorded from the provider's usage (running runs keep theirs current after every model call).
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';

export interface AgentSpend {
  runs: number;
  credits: number;
  tokens: number;
}

export const MONTH_START = sql`(date_trunc('month', now() at time zone 'utc') at time zone 'utc')`;

export async function agentSpend(db: DbOrTx, agentId: string): Promise<AgentSpend> {
  const { rows } = await db.execute<{ runs: string; credits: string; tokens: string }>(sql`
    select count(*) as runs,
           coalesce(sum(case when status in ('queued', 'running') then credits else credits_spent end), 0) as credits,
           coalesce(sum(tokens_in + tokens_out), 0) as tokens
      from runs where agent_id = ${agentId} and queued_at >= ${MONTH_START}`);
  return { runs: Number(rows[0].runs), credits: Number(rows[0].credits), tokens: Number(rows[0].tokens) };
}

/**
 * Whether an agent may make another model call: null when it may, else why not. The next call is assumed to cost at
 * least what the last one did (input grows with every step), so the run stops *before* a call that would take the
 * agent past its monthly tokens, not after.
 */
export async function budgetVerdict(
  db: DbOrTx,
  agent: { id: string; monthlyTokens: number | null; monthlyCredits: number | null },
  lastStep: { total_tokens: number } | null,
): Promise<string | null> {
  if (agent.monthlyTokens === null) return null;
  const spend = await agentSpend(db, agent.id);
  const next = lastStep?.total_tokens ?? 0;
  if (spend.tokens + next > agent.monthlyTokens) {
    return `budget: ${spend.tokens} of ${agent.monthlyTokens} monthly tokens used, and the next call would take about ${next} more`;
  }
  return null;
}
