// This month's spend against the agent's caps; no cap reads as ∞ (the numbers are always in the label).
import { UsageBar } from '../../ui/kit';
import type { Agent } from './api';

export function BudgetBars({ agent }: { agent: Agent }) {
  const { monthly_credits, monthly_tokens } = agent.budget;
  return (
    <div className="space-y-2">
      <UsageBar label={`Credits this month (${agent.name})`} used={agent.credits_this_month} limit={monthly_credits ?? -1} />
      <UsageBar label={`Tokens this month (${agent.name})`} used={agent.tokens_this_month} limit={monthly_tokens ?? -1} />
    </div>
  );
}
