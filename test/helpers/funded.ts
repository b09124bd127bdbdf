// A tenant with credits to spend on paid operations (granted by the instance admin), and the small request helpers
// the run and agent tests share.
import assert from 'node:assert/strict';
import type { Response, Tenant, TestApp } from './harness.ts';

export async function funded(app: TestApp, name: string, credits = 100): Promise<Tenant> {
  const t = await app.tenant(name);
  const g = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, credits } });
  assert.ok(g.status < 300, JSON.stringify(g.body));
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
