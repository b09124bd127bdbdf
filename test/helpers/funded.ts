// A tenant with credits to spend on paid operations (granted by the instance admin), and the small request helpers
// the run and agent tests share.
import assert from 'node:assert/strict';
import type { Response, Tenant, TestApp } from './harness.ts';

/**
 * A tenant with `credits` to spend, on a tier with room for its agents (`roomForAgents`). Tests of the free tier's
 * own limits use `app.tenant`.
 */
export async function funded(app: TestApp, name: string, credits = 100): Promise<Tenant> {
  const t = await roomForAgents(app, await app.tenant(name));
  const g = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, credits } });
  assert.ok(g.status < 300, JSON.stringify(g.body));
  return t;
}

/**
 * Moves the tenant's org to the `workforce` test tier: the free tier's limits but 50 agents (free allows 2). A tier of
 * the test's own rather than `business`, which includes monthly credits: the hourly grant job would change the
 * balances the tests compare. The instance admin defines it (PUT is idempotent); the owner switches to it.
 */
export async function roomForAgents(app: TestApp, t: Tenant): Promise<Tenant> {
  const tier = {
    name: 'Workforce (test)',
    price_cents: 0,
    limits: { tasks_per_day: 20, agents: 50, seats: 3, storage_bytes: 1024 ** 3, credits_per_month: 0, ai_calls: 1_000, api_calls: 10_000 },
  };
  const put = await app.request('PUT', '/api/v1/billing/tiers/workforce', { key: app.admin.sessionToken, body: tier });
  assert.ok(put.status < 300, JSON.stringify(put.body));
  const res = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'workforce' } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return t;
}

/** `api(t, 'GET', '/runs')`: a request under /api/v1 with a tenant's key (or any bearer token). */
export const apiOf =
  (app: TestApp) =>
  (t: Tenant | string, method: string, path: string, body?: unknown): Promise<Response> =>
    app.request(method, `/api/v1${path}`, { key: typeof t === 'string' ? t : t.key, body });

export type Api = ReturnType<typeof apiOf>;

/** The body of a response that must have this status (201 by default). */
export async function ok(res: { status: number; body: any }, status = 201) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

/** An llm agent's body on the fake OpenAI-compatible vendor at `fakeUrl` (extra fields and runtime_config merged in). */
export function fakeAgentBody(fakeUrl: string, name: string, extra: Record<string, unknown> = {}) {
  const { runtime_config, ...rest } = extra;
  return {
    name,
    model: 'fake-model',
    provider_api_key: 'sk-fake',
    runtime_config: { provider: 'openai-compatible', base_url: fakeUrl, ...((runtime_config as object) ?? {}) },
    ...rest,
  };
}
