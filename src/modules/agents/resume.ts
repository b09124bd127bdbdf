// A new month for agents their budget paused. Budgets are monthly (UTC), so an agent paused at 100 % of last month's
// cap has room again on the 1st: the heartbeat sweep (every 5 s) makes it `active` again, with event `agent.resumed`,
// and its next wake looks for work as usual. Only a budget's own pause resumes (`budget_paused_at`, set by
// enforceBudget and cleared by any start, stop, restart or delete by a person): an agent someone stopped stays stopped.
// An agent still without room (a cap of 0, or runs already spending this month) stays paused, marked as paused this
// month so the sweep does not look at it again until the next one. Mid-month nothing resumes by itself: raising an
// agent's budget and starting it is a person's decision.
import { sql } from 'drizzle-orm';
import { systemCtx } from '../../core/context.ts';
import type { AppServices } from '../../core/services.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { capUse, exhausted, MONTH_START, monthStats } from '../runs/budget.ts';

type Paused = {
  id: string;
  org_id: string;
  name: string;
  monthly_credits: string | null;
  monthly_tokens: string | null;
  alert_at_pct: number;
};

const num = (v: string | null) => (v === null ? null : Number(v));

/** Resumes the agents their budget paused before this UTC month that have room now (up to `limit`); returns their ids. */
export async function resumeBudgetPaused(services: AppServices, limit = 100): Promise<string[]> {
  return services.database.db.transaction(async (tx) => {
    // Nearly always none: the partial index holds only budget-paused agents, and this month's are skipped.
    const { rows } = await tx.execute<Paused>(sql`
      select id, org_id, name, monthly_credits, monthly_tokens, alert_at_pct from agents
       where budget_paused_at is not null and budget_paused_at < ${MONTH_START} and status = 'paused'
       order by budget_paused_at limit ${limit}
         for update skip locked`);
    if (rows.length === 0) return [];
    const month = await monthStats(
      tx,
      rows.map((r) => r.id),
    );
    const resumed: string[] = [];
    for (const r of rows) {
      const s = month.get(r.id);
      const agent = { id: r.id, orgId: r.org_id, name: r.name, monthlyCredits: num(r.monthly_credits), monthlyTokens: num(r.monthly_tokens), alertAtPct: r.alert_at_pct };
      const full = capUse(agent, { runs: s?.runs ?? 0, credits: s?.credits ?? 0, tokens: s?.tokens ?? 0 }).find(exhausted);
      if (full) {
        await tx.execute(sql`update agents set budget_paused_at = now() where id = ${r.id}`);
        continue;
      }
      // heartbeat_due_at null: the sweep that follows wakes it, rather than the end of an interval set a month ago.
      await tx.execute(sql`update agents set status = 'active', status_reason = null, budget_paused_at = null,
        heartbeat_due_at = null, updated_at = now() where id = ${r.id}`);
      const data = { agent_id: r.id, name: r.name, reason: 'new_month' };
      await recordEvent(tx, { orgId: r.org_id, type: 'agent.resumed', subject: r.id, data });
      await recordActivity(systemCtx(services, tx, r.org_id), { action: 'agent.resumed', entityType: 'agent', entityId: r.id, metadata: data });
      resumed.push(r.id);
    }
    return resumed;
  });
}
