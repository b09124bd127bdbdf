// What an agent may be: tools that are real, allowed operations; scopes the caller holds and the tools need; a
// template and a manager of the same org; no cycle in the reporting tree; provider settings that can make a model.
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import { agentSettings, type AiProvider, instanceSettings, settingsProblem } from '../../ai/provider.ts';
import { HTTP_FETCH, toolRefusal } from '../../ai/tools.ts';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, unprocessable } from '../../core/errors.ts';
import type { Operation } from '../../core/operation.ts';
import { callerAllows, scopesAllow } from '../../core/scopes.ts';
import { agents } from '../../db/schema/agents.ts';
import { agentTemplates } from '../../db/schema/templates.ts';

// The registry imports this module (through agents/operations.ts): load it when first needed, not at import.
let registry: Promise<readonly Operation[]> | undefined;
export const allOperations = () => {
  registry ??= import('../../operations.ts').then((m) => m.operations);
  return registry;
};

/** The operations of an allow-list, or 422 naming the first id that cannot be a tool. */
export async function toolOperations(tools: readonly string[]): Promise<Operation[]> {
  const ops = await allOperations();
  const byId = new Map(ops.map((op) => [op.id, op]));
  const out: Operation[] = [];
  for (const id of tools) {
    if (id === HTTP_FETCH) continue;
    const op = byId.get(id);
    const refusal = toolRefusal(op, id);
    if (refusal || !op) throw unprocessable(`${refusal}.`, { field: 'tools', tool: id });
    out.push(op);
  }
  return out;
}

/** Scopes for an agent: given, or what its tools need; each one the caller holds; covering every tool. */
export function agentScopes(ctx: Ctx, ops: Operation[], given: string[] | undefined): string[] {
  const scopes = [...new Set(given ?? ops.flatMap((op) => op.scopes))];
  for (const s of scopes) {
    if (!callerAllows(ctx, s)) throw new AppError('forbidden', `You cannot give an agent the scope \`${s}\`: only scopes you hold.`, { field: 'scopes', scope: s });
  }
  for (const op of ops) {
    const missing = op.scopes.filter((s) => !scopesAllow(scopes, s));
    if (missing.length) {
      throw unprocessable(`The tool \`${op.id}\` needs the scope(s) ${missing.join(', ')}, which the agent's scopes do not include.`, {
        field: 'scopes',
        tool: op.id,
        missing_scopes: missing,
      });
    }
  }
  return scopes;
}

/** A live template of the org, by id or slug; 422 otherwise. */
export async function resolveTemplate(ctx: Ctx, ref: string) {
  const [row] = await ctx.db
    .select()
    .from(agentTemplates)
    .where(and(eq(agentTemplates.orgId, requireOrg(ctx)), isNull(agentTemplates.archivedAt), or(eq(agentTemplates.id, ref), eq(agentTemplates.slug, ref))));
  if (!row) throw unprocessable(`No template \`${ref}\` in this org (or it is archived).`, { field: 'template_id' });
  return row;
}

/**
 * The manager's id for `ref`, checking that making `agentId` report to it makes no cycle. Serialised per org by an
 * advisory lock, so two concurrent changes cannot each pass the check and together close a loop.
 */
export async function resolveManager(ctx: Ctx, agentId: string | null, ref: string): Promise<string> {
  const orgId = requireOrg(ctx);
  await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtext(${`agents-tree:${orgId}`}))`);
  const [manager] = await ctx.db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.orgId, orgId), or(eq(agents.id, ref), eq(agents.name, ref))));
  if (!manager) throw unprocessable(`No agent \`${ref}\` in this org to report to.`, { field: 'reports_to' });
  if (agentId === null) return manager.id;
  if (manager.id === agentId) throw unprocessable('An agent cannot report to itself.', { field: 'reports_to' });
  // Walk up from the new manager: meeting the agent itself means the change would close a loop.
  const chain = await ctx.db.execute<{ id: string }>(sql`
    with recursive up(id, reports_to, depth) as (
      select id, reports_to, 0 from agents where id = ${manager.id}
      union all
      select a.id, a.reports_to, up.depth + 1 from agents a join up on a.id = up.reports_to where up.depth < 1000
    )
    select id from up where id = ${agentId} limit 1`);
  if (chain.rows.length) throw unprocessable('That would make a cycle in the reporting tree.', { field: 'reports_to', reports_to: manager.id });
  return manager.id;
}

/** 422 when the agent's llm settings cannot make a model (no key for a vendor, no base URL for a local server). */
export function assertModelSettings(ctx: Ctx, s: { provider?: AiProvider; base_url?: string; model?: string | null; hasKey: boolean }) {
  const settings = agentSettings(instanceSettings(ctx.services.config), {
    provider: s.provider ?? null,
    model: s.model ?? null,
    baseUrl: s.base_url ?? null,
    // Only whether there is one matters here.
    apiKey: s.hasKey ? 'set' : null,
  });
  const problem = settingsProblem(settings);
  if (problem) {
    const field = problem.field === 'api_key' ? 'provider_api_key' : problem.field === 'base_url' ? 'runtime_config.base_url' : 'model';
    throw unprocessable(problem.message, { field });
  }
}
