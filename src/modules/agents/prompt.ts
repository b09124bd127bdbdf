// An llm run's system prompt: the agent's template identity (or a plain one from its name and role), its own
// instructions, then every enabled rule covering it — the org-wide ones and its own, oldest first. The rule ids are
// returned so a run records exactly which rules it was given.
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { type DbOrTx, together } from '../../db/client.ts';
import type { agents } from '../../db/schema/agents.ts';
import { rules } from '../../db/schema/rules.ts';
import { agentTemplates } from '../../db/schema/templates.ts';

type AgentRow = typeof agents.$inferSelect;

export interface SystemPrompt {
  prompt: string;
  rule_ids: string[];
  template_id: string | null;
}

function plainIdentity(a: AgentRow): string {
  const who = a.displayName ?? a.name;
  const what = [a.title, a.role].filter(Boolean).join(', ');
  return `You are ${who}${what ? `, ${what}` : ''}, an agent of this organisation working through the Opsbase API.`;
}

export async function systemPromptFor(db: DbOrTx, agent: AgentRow): Promise<SystemPrompt> {
  // The template and the rules at once: two independent reads, on two connections when `db` is the pool.
  const [[template], covering] = await together(
    db,
    () =>
      agent.templateId
        ? db
            .select({ id: agentTemplates.id, identity: agentTemplates.identity })
            .from(agentTemplates)
            .where(and(eq(agentTemplates.id, agent.templateId), eq(agentTemplates.orgId, agent.orgId)))
        : Promise.resolve([]),
    () =>
      db
        .select({ id: rules.id, text: rules.text, category: rules.category })
        .from(rules)
        .where(and(eq(rules.orgId, agent.orgId), eq(rules.enabled, true), or(isNull(rules.agentId), eq(rules.agentId, agent.id))))
        .orderBy(asc(rules.createdAt), asc(rules.id)),
  );
  const sections = [template?.identity?.trim() || plainIdentity(agent)];
  if (agent.instructions?.trim()) sections.push(`Instructions:\n${agent.instructions.trim()}`);
  if (covering.length) {
    sections.push(`Rules (always follow them):\n${covering.map((r) => `- ${r.category ? `[${r.category}] ` : ''}${r.text}`).join('\n')}`);
  }
  return { prompt: sections.join('\n\n'), rule_ids: covering.map((r) => r.id), template_id: template?.id ?? null };
}
