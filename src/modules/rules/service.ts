// Rules (issue 11): standing instructions for every agent of the org (`scope: all`) or one agent. Every enabled rule
// covering an agent goes into its llm runs' system prompt (agents/prompt.ts). A permanent rule cannot be deleted or
// disabled (403): make it non-permanent first, deliberately.
import { and, eq, isNull, or } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { forbidden, notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { agents } from '../../db/schema/agents.ts';
import { rules } from '../../db/schema/rules.ts';
import { recordActivity } from '../activity/record.ts';

type RuleRow = typeof rules.$inferSelect;

export function presentRule(r: RuleRow) {
  return {
    id: r.id,
    org_id: r.orgId,
    scope: r.agentId ?? 'all',
    agent_id: r.agentId,
    category: r.category,
    text: r.text,
    permanent: r.permanent,
    enabled: r.enabled,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/** `all` → null; an agent id or name of the org → its id; anything else 422 (or, for filters, `notFound`). */
async function agentOf(ctx: Ctx, ref: string, field: string): Promise<string | null> {
  if (ref === 'all') return null;
  const [a] = await ctx.db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.orgId, requireOrg(ctx)), or(eq(agents.id, ref), eq(agents.name, ref))));
  if (!a) throw unprocessable(`\`${ref}\` is neither \`all\` nor an agent of this org.`, { field });
  return a.id;
}

async function findRule(ctx: Ctx, id: string) {
  const [row] = await ctx.db
    .select()
    .from(rules)
    .where(and(eq(rules.id, id), eq(rules.orgId, requireOrg(ctx))))
    .for('update');
  if (!row) throw notFound('Rule');
  return row;
}

export interface RuleFields {
  text?: string;
  scope?: string;
  category?: string | null;
  permanent?: boolean;
  enabled?: boolean;
}

export async function createRule(ctx: Ctx, input: RuleFields & { text: string }) {
  const agentId = await agentOf(ctx, input.scope ?? 'all', 'scope');
  const [row] = await ctx.db
    .insert(rules)
    .values({
      id: newId('rule'),
      orgId: requireOrg(ctx),
      agentId,
      category: input.category ?? null,
      text: input.text,
      permanent: input.permanent ?? false,
      enabled: input.enabled ?? true,
    })
    .returning();
  await recordActivity(ctx, { action: 'rule.created', entityType: 'rule', entityId: row.id, metadata: { scope: agentId ?? 'all', permanent: row.permanent } });
  return presentRule(row);
}

export interface RuleFilters extends PageInput {
  scope?: string;
  agent?: string;
  category?: string;
  permanent?: boolean;
  enabled?: boolean;
}

export async function listRules(ctx: Ctx, input: RuleFilters) {
  // `scope`: exactly that scope; `agent`: what covers the agent (its own rules and the org-wide ones).
  const scopeId = input.scope === undefined ? undefined : await agentOf(ctx, input.scope, 'scope');
  const agentId = input.agent === undefined ? undefined : await agentOf(ctx, input.agent, 'agent');
  return listNewestFirst(
    ctx.db,
    rules,
    input,
    [
      eq(rules.orgId, requireOrg(ctx)),
      scopeId === undefined ? undefined : scopeId === null ? isNull(rules.agentId) : eq(rules.agentId, scopeId),
      agentId === undefined ? undefined : agentId === null ? isNull(rules.agentId) : or(isNull(rules.agentId), eq(rules.agentId, agentId)),
      input.category ? eq(rules.category, input.category) : undefined,
      input.permanent === undefined ? undefined : eq(rules.permanent, input.permanent),
      input.enabled === undefined ? undefined : eq(rules.enabled, input.enabled),
    ],
    presentRule,
  );
}

export async function updateRule(ctx: Ctx, input: RuleFields & { id: string }) {
  const current = await findRule(ctx, input.id);
  const permanent = input.permanent ?? current.permanent;
  if (permanent && input.enabled === false) {
    throw forbidden('A permanent rule cannot be disabled. Make it non-permanent first (PATCH permanent: false).');
  }
  const agentId = input.scope === undefined ? current.agentId : await agentOf(ctx, input.scope, 'scope');
  const [row] = await ctx.db
    .update(rules)
    .set({
      agentId,
      ...(input.text !== undefined && { text: input.text }),
      ...(input.category !== undefined && { category: input.category }),
      ...(input.permanent !== undefined && { permanent: input.permanent }),
      ...(input.enabled !== undefined && { enabled: input.enabled }),
      updatedAt: new Date(),
    })
    .where(eq(rules.id, current.id))
    .returning();
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'rule.updated', entityType: 'rule', entityId: row.id, metadata: { changed } });
  return presentRule(row);
}

export async function deleteRule(ctx: Ctx, id: string) {
  const current = await findRule(ctx, id);
  if (current.permanent) throw forbidden('A permanent rule cannot be deleted. Make it non-permanent first (PATCH permanent: false).');
  await ctx.db.delete(rules).where(eq(rules.id, current.id));
  await recordActivity(ctx, { action: 'rule.deleted', entityType: 'rule', entityId: id, metadata: { text: current.text.slice(0, 200) } });
  return { id, deleted: true as const };
}
