// Agent templates (issue 11): identity, default model, tool allow-list, capabilities and config agents are made
// from. Archive is a soft delete: the slug is free again, agents made from it keep their identity.
import { and, eq, isNotNull, isNull, or } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { conflict, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { agentTemplates } from '../../db/schema/templates.ts';
import { recordActivity } from '../activity/record.ts';
import { toolOperations } from '../agents/validate.ts';

type TemplateRow = typeof agentTemplates.$inferSelect;

export function presentTemplate(t: TemplateRow) {
  return {
    id: t.id,
    org_id: t.orgId,
    name: t.name,
    slug: t.slug,
    description: t.description,
    icon: t.icon,
    category: t.category,
    model: t.model,
    interval_sec: t.intervalSec,
    identity: t.identity,
    tools: t.tools,
    capabilities: t.capabilities,
    config: t.config,
    featured: t.featured,
    sort_order: t.sortOrder,
    archived_at: iso(t.archivedAt),
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

async function findTemplate(ctx: Ctx, ref: string, opts: { forUpdate?: boolean } = {}) {
  const q = ctx.db
    .select()
    .from(agentTemplates)
    .where(and(eq(agentTemplates.orgId, requireOrg(ctx)), or(eq(agentTemplates.id, ref), and(eq(agentTemplates.slug, ref), isNull(agentTemplates.archivedAt)))));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Template');
  return row;
}

async function assertSlugFree(ctx: Ctx, slug: string, except?: string) {
  const [taken] = await ctx.db
    .select({ id: agentTemplates.id })
    .from(agentTemplates)
    .where(and(eq(agentTemplates.orgId, requireOrg(ctx)), eq(agentTemplates.slug, slug), isNull(agentTemplates.archivedAt)));
  if (taken && taken.id !== except) throw conflict(`A template with the slug \`${slug}\` already exists in this org.`, { field: 'slug' });
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63) || 'template';

export interface TemplateFields {
  name?: string;
  slug?: string;
  description?: string | null;
  icon?: string | null;
  category?: string | null;
  model?: string | null;
  interval_sec?: number | null;
  identity?: string | null;
  tools?: string[];
  capabilities?: string[];
  config?: Record<string, unknown>;
  featured?: boolean;
  sort_order?: number;
}

function columnsOf(input: TemplateFields) {
  return {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.slug !== undefined && { slug: input.slug }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.icon !== undefined && { icon: input.icon }),
    ...(input.category !== undefined && { category: input.category }),
    ...(input.model !== undefined && { model: input.model }),
    ...(input.interval_sec !== undefined && { intervalSec: input.interval_sec }),
    ...(input.identity !== undefined && { identity: input.identity }),
    ...(input.tools !== undefined && { tools: [...new Set(input.tools)] }),
    ...(input.capabilities !== undefined && { capabilities: [...new Set(input.capabilities)] }),
    ...(input.config !== undefined && { config: input.config }),
    ...(input.featured !== undefined && { featured: input.featured }),
    ...(input.sort_order !== undefined && { sortOrder: input.sort_order }),
  };
}

export async function createTemplate(ctx: Ctx, input: TemplateFields & { name: string }) {
  const slug = input.slug ?? slugOf(input.name);
  await assertSlugFree(ctx, slug);
  if (input.tools) await toolOperations(input.tools);
  const [row] = await ctx.db
    .insert(agentTemplates)
    .values({ id: newId('template'), orgId: requireOrg(ctx), ...columnsOf(input), name: input.name, slug })
    .returning();
  await recordActivity(ctx, { action: 'template.created', entityType: 'template', entityId: row.id, metadata: { slug } });
  return presentTemplate(row);
}

export interface TemplateFilters extends PageInput {
  category?: string;
  featured?: boolean;
  archived?: boolean;
}

export async function listTemplates(ctx: Ctx, input: TemplateFilters) {
  return listNewestFirst(
    ctx.db,
    agentTemplates,
    input,
    [
      eq(agentTemplates.orgId, requireOrg(ctx)),
      input.archived ? isNotNull(agentTemplates.archivedAt) : isNull(agentTemplates.archivedAt),
      input.category ? eq(agentTemplates.category, input.category) : undefined,
      input.featured !== undefined ? eq(agentTemplates.featured, input.featured) : undefined,
    ],
    presentTemplate,
  );
}

export async function getTemplate(ctx: Ctx, ref: string) {
  return presentTemplate(await findTemplate(ctx, ref));
}

export async function updateTemplate(ctx: Ctx, input: TemplateFields & { id: string }) {
  const current = await findTemplate(ctx, input.id, { forUpdate: true });
  if (input.slug !== undefined && input.slug !== current.slug && !current.archivedAt) await assertSlugFree(ctx, input.slug, current.id);
  if (input.tools) await toolOperations(input.tools);
  const [row] = await ctx.db
    .update(agentTemplates)
    .set({ ...columnsOf(input), updatedAt: new Date() })
    .where(eq(agentTemplates.id, current.id))
    .returning();
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'template.updated', entityType: 'template', entityId: row.id, metadata: { changed } });
  return presentTemplate(row);
}

export async function archiveTemplate(ctx: Ctx, ref: string) {
  const current = await findTemplate(ctx, ref, { forUpdate: true });
  const [row] = await ctx.db
    .update(agentTemplates)
    .set({ archivedAt: current.archivedAt ?? new Date(), updatedAt: new Date() })
    .where(eq(agentTemplates.id, current.id))
    .returning();
  await recordActivity(ctx, { action: 'template.archived', entityType: 'template', entityId: row.id });
  return presentTemplate(row);
}
