// Agents (issue 11): create, list, get, update. Lifecycle (start, stop, restart, delete) is in lifecycle.ts.
import { and, eq, or } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { encrypt } from '../../core/crypto.ts';
import { conflict, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { type AgentRuntime, type AgentStatus, agents } from '../../db/schema/agents.ts';
import { apiKeys } from '../../db/schema/keys.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { type MonthStats, monthStats } from '../runs/budget.ts';
import { createAgentKey, updateAgentKey } from './identity.ts';
import { assertAgentSlot } from './limit.ts';
import { type LlmRuntimeConfig, validateRuntimeConfig } from './runtime-config.ts';
import type { AgentOut, CreateAgentInput, UpdateAgentInput } from './schemas.ts';
import { agentScopes, assertModelSettings, resolveManager, resolveTemplate, toolOperations } from './validate.ts';

export type AgentRow = typeof agents.$inferSelect;

export function presentAgent(a: AgentRow, keyId: string | null = null, month?: MonthStats): AgentOut {
  return {
    id: a.id,
    org_id: a.orgId,
    name: a.name,
    display_name: a.displayName,
    role: a.role,
    title: a.title,
    reports_to: a.reportsTo,
    emoji: a.emoji,
    color: a.color,
    template_id: a.templateId,
    runtime: a.runtime,
    runtime_config: a.runtimeConfig,
    model: a.model,
    has_provider_api_key: a.providerKeyEncrypted !== null,
    instructions: a.instructions,
    tools: a.tools,
    scopes: a.scopes,
    key_id: keyId,
    interval_sec: a.intervalSec,
    max_concurrent_runs: a.maxConcurrentRuns,
    budget: { monthly_credits: a.monthlyCredits, monthly_tokens: a.monthlyTokens, alert_at_pct: a.alertAtPct },
    status: a.status,
    status_reason: a.statusReason,
    runs_this_month: month?.runs ?? 0,
    credits_this_month: month?.credits ?? 0,
    tokens_this_month: month?.tokens ?? 0,
    completion_rate: month?.finished ? Math.round((month.succeeded / month.finished) * 1000) / 1000 : null,
    last_heartbeat_at: iso(a.lastHeartbeatAt),
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

/** An agent of ctx's org by id or name (`opsbase agents start writer`); 404 otherwise. */
export async function findAgent(ctx: Ctx, ref: string, opts: { forUpdate?: boolean } = {}): Promise<AgentRow> {
  const q = ctx.db
    .select()
    .from(agents)
    .where(and(eq(agents.orgId, requireOrg(ctx)), or(eq(agents.id, ref), eq(agents.name, ref))));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Agent');
  return row;
}

async function keyIdOf(ctx: Ctx, agentId: string) {
  const [k] = await ctx.db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.agentId, agentId));
  return k?.id ?? null;
}

export async function presentWithKey(ctx: Ctx, a: AgentRow) {
  // One after the other: inside a mutation ctx.db is one connection, which runs one query at a time.
  const keyId = await keyIdOf(ctx, a.id);
  const month = await monthStats(ctx.db, [a.id]);
  return presentAgent(a, keyId, month.get(a.id));
}

async function assertNameFree(ctx: Ctx, name: string, except?: string) {
  const [taken] = await ctx.db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.orgId, requireOrg(ctx)), eq(agents.name, name)));
  if (taken && taken.id !== except) throw conflict(`An agent named \`${name}\` already exists in this org.`, { field: 'name' });
}

/** The llm settings to check: the config's provider and URL, the model, whether a key is (or stays) set. */
function checkLlm(ctx: Ctx, runtime: AgentRuntime, config: Record<string, unknown>, model: string | null, hasKey: boolean) {
  if (runtime !== 'llm') return;
  const c = config as LlmRuntimeConfig;
  // A key named in the vault counts as a key (its existence was checked with the config).
  assertModelSettings(ctx, { provider: c.provider, base_url: c.base_url, model, hasKey: hasKey || Boolean(c.api_key_credential) });
}

export async function createAgent(ctx: Ctx, input: CreateAgentInput) {
  const orgId = requireOrg(ctx);
  await assertNameFree(ctx, input.name);
  const template = input.template_id ? await resolveTemplate(ctx, input.template_id) : null;
  const tools = input.tools ?? template?.tools ?? [];
  const scopes = agentScopes(ctx, await toolOperations(tools), input.scopes);
  const runtimeConfig = await validateRuntimeConfig(ctx, input.runtime, input.runtime_config);
  const model = input.model ?? template?.model ?? null;
  checkLlm(ctx, input.runtime, runtimeConfig, model, !!input.provider_api_key);
  const id = newId('agent');
  const reportsTo = input.reports_to ? await resolveManager(ctx, null, input.reports_to) : null;
  const status: AgentStatus = input.status ?? 'active';
  // Last of the checks, so a bad request is told what is wrong with it rather than that the plan is full.
  await assertAgentSlot(ctx);
  const keySecretEncrypted = await createAgentKey(ctx, { id, orgId, name: input.name, scopes });
  const [row] = await ctx.db
    .insert(agents)
    .values({
      id,
      orgId,
      name: input.name,
      displayName: input.display_name ?? null,
      role: input.role ?? null,
      title: input.title ?? null,
      reportsTo,
      emoji: input.emoji ?? null,
      color: input.color ?? null,
      templateId: template?.id ?? null,
      runtime: input.runtime,
      runtimeConfig,
      model,
      providerKeyEncrypted: input.provider_api_key ? encrypt(input.provider_api_key, ctx.services.masterKey) : null,
      instructions: input.instructions ?? null,
      tools: [...new Set(tools)],
      scopes,
      intervalSec: input.interval_sec ?? template?.intervalSec ?? null,
      maxConcurrentRuns: input.max_concurrent_runs ?? 1,
      monthlyCredits: input.budget?.monthly_credits ?? null,
      monthlyTokens: input.budget?.monthly_tokens ?? null,
      alertAtPct: input.budget?.alert_at_pct ?? 80,
      status,
      keySecretEncrypted,
    })
    .returning();
  await recordActivity(ctx, { action: 'agent.created', entityType: 'agent', entityId: id, metadata: { name: row.name, runtime: row.runtime, scopes } });
  await recordEvent(ctx.db, { orgId, type: 'agent.created', subject: id, data: { agent_id: id, name: row.name, runtime: row.runtime } });
  return presentWithKey(ctx, row);
}

export interface AgentFilters extends PageInput {
  status?: AgentStatus;
  role?: string;
  runtime?: AgentRuntime;
}

export async function listAgents(ctx: Ctx, input: AgentFilters) {
  const page = await listNewestFirst(
    ctx.db,
    agents,
    input,
    [
      eq(agents.orgId, requireOrg(ctx)),
      input.status ? eq(agents.status, input.status) : undefined,
      input.role ? eq(agents.role, input.role) : undefined,
      input.runtime ? eq(agents.runtime, input.runtime) : undefined,
    ],
    (a) => a,
  );
  const ids = page.data.map((a) => a.id);
  const keys = ids.length
    ? await ctx.db.select({ id: apiKeys.id, agentId: apiKeys.agentId }).from(apiKeys).where(and(eq(apiKeys.orgId, requireOrg(ctx)), or(...ids.map((i) => eq(apiKeys.agentId, i)))))
    : [];
  const keyOf = new Map(keys.map((k) => [k.agentId, k.id]));
  // One grouped query for the whole page's runs this month.
  const month = await monthStats(ctx.db, ids);
  return { data: page.data.map((a) => presentAgent(a, keyOf.get(a.id) ?? null, month.get(a.id))), meta: page.meta };
}

export async function getAgent(ctx: Ctx, ref: string) {
  return presentWithKey(ctx, await findAgent(ctx, ref));
}

export async function updateAgent(ctx: Ctx, input: UpdateAgentInput) {
  const current = await findAgent(ctx, input.id, { forUpdate: true });
  if (input.name !== undefined && input.name !== current.name) await assertNameFree(ctx, input.name, current.id);
  const template =
    input.template_id === undefined ? undefined : input.template_id === null ? null : await resolveTemplate(ctx, input.template_id);
  const tools = input.tools ?? current.tools;
  const ops = await toolOperations(tools);
  // Scopes are recomputed when tools change and none are given; given scopes replace them.
  const scopes = input.scopes || input.tools ? agentScopes(ctx, ops, input.scopes ?? (input.tools ? undefined : current.scopes)) : current.scopes;
  const runtime = input.runtime ?? current.runtime;
  const runtimeConfig =
    input.runtime_config !== undefined || input.runtime !== undefined
      ? await validateRuntimeConfig(ctx, runtime, input.runtime_config ?? current.runtimeConfig)
      : current.runtimeConfig;
  const model = input.model === undefined ? current.model : input.model;
  const hasKey = input.provider_api_key === undefined ? current.providerKeyEncrypted !== null : input.provider_api_key !== null;
  checkLlm(ctx, runtime, runtimeConfig, model, hasKey);
  const reportsTo =
    input.reports_to === undefined ? current.reportsTo : input.reports_to === null ? null : await resolveManager(ctx, current.id, input.reports_to);
  const [row] = await ctx.db
    .update(agents)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.display_name !== undefined && { displayName: input.display_name }),
      ...(input.role !== undefined && { role: input.role }),
      ...(input.title !== undefined && { title: input.title }),
      ...(input.emoji !== undefined && { emoji: input.emoji }),
      ...(input.color !== undefined && { color: input.color }),
      ...(input.instructions !== undefined && { instructions: input.instructions }),
      // A new interval counts from now: the next sweep wakes it, not the end of the old interval.
      ...(input.interval_sec !== undefined && { intervalSec: input.interval_sec, heartbeatDueAt: null }),
      ...(input.max_concurrent_runs !== undefined && { maxConcurrentRuns: input.max_concurrent_runs }),
      ...(input.budget?.monthly_credits !== undefined && { monthlyCredits: input.budget.monthly_credits }),
      ...(input.budget?.monthly_tokens !== undefined && { monthlyTokens: input.budget.monthly_tokens }),
      ...(input.budget?.alert_at_pct !== undefined && { alertAtPct: input.budget.alert_at_pct }),
      // A new budget gets its own alert this month.
      ...(input.budget !== undefined && { budgetAlertedAt: null }),
      ...(input.provider_api_key !== undefined && {
        providerKeyEncrypted: input.provider_api_key === null ? null : encrypt(input.provider_api_key, ctx.services.masterKey),
      }),
      ...(template !== undefined && { templateId: template?.id ?? null }),
      reportsTo,
      runtime,
      runtimeConfig,
      model,
      tools: [...new Set(tools)],
      scopes,
      updatedAt: new Date(),
    })
    .where(eq(agents.id, current.id))
    .returning();
  const scopesChanged = scopes.join(' ') !== current.scopes.join(' ');
  if (scopesChanged || row.name !== current.name) await updateAgentKey(ctx, row.id, { scopes, name: row.name });
  // Never the key itself in the log: only that it changed.
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'agent.updated', entityType: 'agent', entityId: row.id, metadata: { changed, ...(scopesChanged && { scopes }) } });
  return presentWithKey(ctx, row);
}
