// Agents: create / read / update with per-runtime validation, the reporting tree, tools and scopes, their own
// identity (a tool call by an agent is attributed to it), lifecycle, and the provider key kept encrypted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runModelLoop } from '../src/ai/loop.ts';
import { eq } from 'drizzle-orm';
import { readConfig } from '../src/config.ts';
import { agents } from '../src/db/schema/agents.ts';
import { agentCredential } from '../src/modules/agents/identity.ts';
import { llmRunSetup } from '../src/modules/agents/llm-run.ts';
import { modelFor } from '../src/modules/agents/model.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { roomForAgents } from './helpers/funded.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let strict: TestApp;
let fake: FakeOpenAI;
before(async () => {
  app = await startTestApp();
  // Private hosts refused, process agents allowed: the other side of both switches.
  strict = await startTestApp({ env: { OPSBASE_ALLOW_PRIVATE_NETWORK: 'false', OPSBASE_ALLOW_PROCESS_AGENTS: 'true' } });
  fake = await startFakeOpenAI();
});
after(async () => {
  await fake.close();
  await closeDb(app);
  await app.close();
  await strict.close();
});

const create = (t: Tenant, body: Record<string, unknown>, on = app) => on.request('POST', '/api/v1/agents', { key: t.key, body });
const activity = async (t: Tenant, action: string) =>
  (await app.request('GET', `/api/v1/activity-log?action=${action}`, { key: t.key })).body.data as {
    actor_type: string;
    actor_id: string;
    entity_id: string;
    metadata: Record<string, unknown>;
  }[];

test('create an agent: defaults, its own identity, an activity row and an event; readable by id and by name', async () => {
  const t = await app.tenant('Agents');
  const res = await create(t, { name: 'writer', display_name: 'Writer', role: 'content', emoji: '✍️', color: '#3b82f6' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const a = res.body;
  assert.match(a.id, /^agt_[0-9a-z]{26}$/);
  assert.equal(a.runtime, 'llm');
  assert.equal(a.status, 'active');
  assert.deepEqual(a.budget, { monthly_credits: null, monthly_tokens: null, alert_at_pct: 80 });
  assert.equal(a.max_concurrent_runs, 1);
  assert.equal(a.runs_this_month, 0);
  assert.equal(a.last_heartbeat_at, null);
  assert.equal(a.has_provider_api_key, false);
  assert.match(a.key_id, /^key_/);
  assert.deepEqual(a.scopes, []);
  for (const ref of [a.id, 'writer']) {
    const got = await app.request('GET', `/api/v1/agents/${ref}`, { key: t.key });
    assert.equal(got.status, 200);
    assert.equal(got.body.id, a.id);
  }
  const [row] = await activity(t, 'agent.created');
  assert.equal(row.entity_id, a.id);
  assert.equal(row.actor_type, 'system');
  const events = await sql(app, 'select type, subject from events where org_id = $1 and type like $2', [t.orgId, 'agent.%']);
  assert.deepEqual(events, [{ type: 'agent.created', subject: a.id }]);
  // The agent's key is its identity, not one of the org's keys to manage.
  const keys = await app.request('GET', '/api/v1/keys', { key: t.key });
  assert.ok(!keys.body.data.some((k: { id: string }) => k.id === a.key_id));
  assertEnvelope(await app.request('GET', `/api/v1/keys/${a.key_id}`, { key: t.key }), 404, 'not_found', 'agent key via keys.get');
  // Names are unique in the org, and slugs.
  assertEnvelope(await create(t, { name: 'writer' }), 409, 'conflict', 'duplicate name');
  const bad = await create(t, { name: 'Not A Slug' });
  assertEnvelope(bad, 400, 'invalid_request', 'bad name');
  assert.equal(bad.body.details[0].field, 'name');
  // Another org cannot see it, by id or by name.
  const other = await app.tenant('Other');
  for (const ref of [a.id, 'writer']) assertEnvelope(await app.request('GET', `/api/v1/agents/${ref}`, { key: other.key }), 404, 'not_found', ref);
  assert.equal((await create(other, { name: 'writer' })).status, 201, 'the same name in another org is fine');
});

test('runtime_config is validated per runtime: 400 naming the field; process and private URLs refused with 422', async () => {
  const t = await app.tenant('Runtimes');
  const unknown = await create(t, { name: 'l1', runtime_config: { temprature: 1 } });
  assertEnvelope(unknown, 400, 'invalid_request', 'unknown llm field');
  assert.deepEqual(
    unknown.body.details.map((d: { field: string }) => d.field),
    ['runtime_config.temprature'],
  );
  const range = await create(t, { name: 'l2', runtime_config: { max_steps: 0 } });
  assertEnvelope(range, 400, 'invalid_request', 'max_steps 0');
  assert.equal(range.body.details[0].field, 'runtime_config.max_steps');
  const noUrl = await create(t, { name: 'h1', runtime: 'http', runtime_config: {} });
  assertEnvelope(noUrl, 400, 'invalid_request', 'http without url');
  assert.equal(noUrl.body.details[0].field, 'runtime_config.url');
  const proc = await create(t, { name: 'p1', runtime: 'process', runtime_config: { command: 'echo' } });
  assertEnvelope(proc, 422, 'unprocessable', 'process not allowed');
  assert.equal(proc.body.details.field, 'runtime');
  assert.match(proc.body.message, /OPSBASE_ALLOW_PROCESS_AGENTS/);
  const ok = await create(t, { name: 'h2', runtime: 'http', runtime_config: { url: 'http://127.0.0.1:9/agent', timeout_sec: 30 } });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.runtime_config, { url: 'http://127.0.0.1:9/agent', timeout_sec: 30 });
  // Switching the runtime re-validates the config against the new one.
  const switched = await app.request('PATCH', '/api/v1/agents/h2', { key: t.key, body: { runtime: 'llm' } });
  assertEnvelope(switched, 400, 'invalid_request', 'http config under llm');
  assert.ok(switched.body.details.some((d: { field: string }) => d.field === 'runtime_config.url'));
  // Model settings that cannot make a model are refused up front.
  const vendor = await create(t, { name: 'l3', runtime_config: { provider: 'openai' } });
  assertEnvelope(vendor, 422, 'unprocessable', 'openai without a key');
  assert.equal(vendor.body.details.field, 'provider_api_key');
  const local = await create(t, { name: 'l4', runtime_config: { provider: 'openai-compatible', base_url: fake.url } });
  assertEnvelope(local, 422, 'unprocessable', 'openai-compatible without a model');
  assert.equal(local.body.details.field, 'model');

  const s = await strict.tenant('Strict');
  const priv = await create(s, { name: 'h', runtime: 'http', runtime_config: { url: 'http://127.0.0.1:9/agent' } }, strict);
  assertEnvelope(priv, 422, 'unprocessable', 'private http url');
  assert.equal(priv.body.details.field, 'runtime_config.url');
  const privLlm = await create(s, { name: 'l', model: 'm', runtime_config: { provider: 'openai-compatible', base_url: 'http://10.0.0.5/v1' } }, strict);
  assertEnvelope(privLlm, 422, 'unprocessable', 'private llm base url');
  assert.equal(privLlm.body.details.field, 'runtime_config.base_url');
  const allowed = await create(s, { name: 'p', runtime: 'process', runtime_config: { command: 'node', args: ['agent.js'], env: { MODE: 'x' } } }, strict);
  assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
  const badEnv = await create(s, { name: 'p2', runtime: 'process', runtime_config: { command: 'node', env: { 'bad-name': 'x' } } }, strict);
  assertEnvelope(badEnv, 400, 'invalid_request', 'bad env name');
  assert.equal(badEnv.body.details[0].field, 'runtime_config.env.bad-name');
});

test('reports_to makes a tree: unknown manager, self and cycles are 422', async () => {
  // Three agents: more than the free tier's two.
  const t = await roomForAgents(app, await app.tenant('Tree'));
  const ceo = (await create(t, { name: 'ceo' })).body;
  const cto = (await create(t, { name: 'cto', reports_to: 'ceo' })).body;
  assert.equal(cto.reports_to, ceo.id);
  const dev = (await create(t, { name: 'dev', reports_to: cto.id })).body;
  assert.equal(dev.reports_to, cto.id);
  const cycle = await app.request('PATCH', '/api/v1/agents/ceo', { key: t.key, body: { reports_to: 'dev' } });
  assertEnvelope(cycle, 422, 'unprocessable', 'cycle');
  assert.match(cycle.body.message, /cycle/);
  assertEnvelope(await app.request('PATCH', '/api/v1/agents/ceo', { key: t.key, body: { reports_to: 'ceo' } }), 422, 'unprocessable', 'self');
  assertEnvelope(await create(t, { name: 'x', reports_to: 'nobody' }), 422, 'unprocessable', 'unknown manager');
  const other = await app.tenant('TreeOther');
  const foreign = await create(other, { name: 'y', reports_to: ceo.id });
  assertEnvelope(foreign, 422, 'unprocessable', "another org's agent as manager");
  // Re-parenting that keeps a tree is fine; clearing too.
  const moved = await app.request('PATCH', '/api/v1/agents/dev', { key: t.key, body: { reports_to: 'ceo' } });
  assert.equal(moved.body.reports_to, ceo.id);
  assert.equal((await app.request('PATCH', '/api/v1/agents/dev', { key: t.key, body: { reports_to: null } })).body.reports_to, null);
  assert.equal((await app.request('GET', '/api/v1/agents/ceo', { key: t.key })).body.reports_to, null, 'the refused change left nothing');
});

test('tools are allow-listed operations; scopes default to what they need, never beyond the caller', async () => {
  const t = await app.tenant('Tools');
  const a = await create(t, { name: 'notifier', tools: ['notifications.create', 'notifications.list', 'http_fetch'] });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.deepEqual(a.body.scopes.sort(), ['notifications:read', 'notifications:write']);
  for (const [tool, why] of [
    ['keys.create', /API keys/],
    ['auth.login', /user or the instance/],
    ['no.such_op', /not an operation/],
  ] as const) {
    const res = await create(t, { name: `bad-${tool.replace(/\W/g, '')}`, tools: [tool] });
    assertEnvelope(res, 422, 'unprocessable', tool);
    assert.match(res.body.message, why);
    assert.equal(res.body.details.tool, tool);
  }
  const uncovered = await create(t, { name: 'uncovered', tools: ['webhooks.list'], scopes: ['notifications:read'] });
  assertEnvelope(uncovered, 422, 'unprocessable', 'scopes not covering a tool');
  assert.deepEqual(uncovered.body.details.missing_scopes, ['webhooks:read']);
  // A key that holds only agents:write and notifications:* cannot hand an agent more.
  const weak = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'weak', scopes: ['agents:write', 'notifications:write'] } });
  const escalate = await app.request('POST', '/api/v1/agents', { key: weak.body.secret, body: { name: 'root', scopes: ['*'] } });
  assertEnvelope(escalate, 403, 'forbidden', 'escalation');
  const fine = await app.request('POST', '/api/v1/agents', { key: weak.body.secret, body: { name: 'small', tools: ['notifications.create'] } });
  assert.equal(fine.status, 201, JSON.stringify(fine.body));
  // Changing tools recomputes the scopes, and the identity follows at once.
  const up = await app.request('PATCH', '/api/v1/agents/notifier', { key: t.key, body: { tools: ['webhooks.list'] } });
  assert.deepEqual(up.body.scopes, ['webhooks:read']);
  const [key] = await sql(app, 'select scopes from api_keys where agent_id = $1', [a.body.id]);
  assert.deepEqual(key.scopes, ['webhooks:read']);
});

test('an agent acts as itself: its tool calls run through the API with its scopes and are logged as the agent', async () => {
  const t = await app.tenant('Identity');
  const agent = (await create(t, { name: 'herald', tools: ['notifications.create'] })).body;
  const secret = await agentCredential(app.app.services.database.db, app.app.services.masterKey, agent.id);
  assert.ok(secret?.startsWith('obk_live_'));
  const credential = secret as string;
  // The stored secret is encrypted, not the plaintext.
  const [row] = await sql(app, 'select key_secret_encrypted from agents where id = $1', [agent.id]);
  assert.ok(!row.key_secret_encrypted.includes(credential));

  // What a run does: set up from the agent, then loop.
  const setup = await llmRunSetup(app.app.services, app.app.server, await agentRow(agent.id));
  assert.deepEqual(Object.keys(setup.tools), ['notifications_create']);
  assert.deepEqual(setup.limits, { maxSteps: 10, maxOutputTokens: undefined, temperature: undefined, timeoutMs: 300_000 });
  assert.match(setup.system.prompt, /^You are herald/);
  const r = await runModelLoop({ ...setup.limits, model: setup.model, system: setup.system.prompt, tools: setup.tools, prompt: 'The release is out.' });
  assert.equal(r.steps, 2);
  const list = await app.request('GET', '/api/v1/notifications', { key: t.key });
  assert.equal(list.body.data[0].title, 'The release is out.');
  const [logged] = await activity(t, 'notification.created');
  assert.equal(logged.actor_type, 'agent');
  assert.equal(logged.actor_id, agent.id);

  // Its scopes bound it like any key: no webhooks for this one.
  assertEnvelope(await app.request('GET', '/api/v1/webhooks', { key: credential }), 403, 'forbidden', 'agent outside its scopes');
  // Offline: the identity stops working at once; started again, it works again.
  const del = await app.request('DELETE', '/api/v1/agents/herald', { key: t.key });
  assert.equal(del.status, 200);
  assert.equal(del.body.status, 'offline');
  assertEnvelope(await app.request('GET', '/api/v1/whoami', { key: credential }), 401, 'unauthorized', 'offline agent');
  assert.equal((await app.request('GET', '/api/v1/agents/herald', { key: t.key })).body.status, 'offline', 'soft: still there');
  const started = await app.request('POST', '/api/v1/agents/herald/start', { key: t.key, body: {} });
  assert.equal(started.body.status, 'active');
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: credential })).status, 200);
});

const agentRow = async (id: string) => (await app.app.services.database.db.select().from(agents).where(eq(agents.id, id)))[0];

test('lifecycle: stop pauses (event), restart clears, list filters by status; each change is in the activity log', async () => {
  const t = await app.tenant('Lifecycle');
  const a = (await create(t, { name: 'worker' })).body;
  const stopped = await app.request('POST', '/api/v1/agents/worker/stop', { key: t.key, body: { note: 'maintenance' } });
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.status, 'paused');
  assert.equal(stopped.body.status_reason, 'maintenance');
  const paused = await sql(app, "select data from events where subject = $1 and type = 'agent.paused'", [a.id]);
  assert.equal(paused.length, 1);
  assert.equal(paused[0].data.reason, 'maintenance');
  const list = await app.request('GET', '/api/v1/agents?status=paused', { key: t.key });
  assert.deepEqual(
    list.body.data.map((x: { id: string }) => x.id),
    [a.id],
  );
  assert.equal((await app.request('GET', '/api/v1/agents?status=active', { key: t.key })).body.data.length, 0);
  const restarted = await app.request('POST', `/api/v1/agents/${a.id}/restart`, { key: t.key, body: {} });
  assert.equal(restarted.body.status, 'active');
  assert.equal(restarted.body.status_reason, null);
  for (const action of ['agent.created', 'agent.stopped', 'agent.restarted']) {
    assert.equal((await activity(t, action)).length, 1, action);
  }
  assertEnvelope(await app.request('POST', '/api/v1/agents/nobody/stop', { key: t.key, body: {} }), 404, 'not_found', 'unknown agent');
});

test("an agent's own provider key is stored encrypted, never shown or logged, and used for its model calls", async () => {
  const t = await app.tenant('ProviderKey');
  const res = await create(t, {
    name: 'local',
    model: 'llama3.1',
    provider_api_key: 'sk-agent-secret-123',
    runtime_config: { provider: 'openai-compatible', base_url: fake.url, max_steps: 3 },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.has_provider_api_key, true);
  assert.ok(!JSON.stringify(res.body).includes('sk-agent-secret'));
  const [row] = await sql(app, 'select * from agents where id = $1', [res.body.id]);
  assert.ok(row.provider_key_encrypted && !row.provider_key_encrypted.includes('sk-agent-secret'));
  const logged = await sql(app, 'select metadata from activity_log where org_id = $1', [t.orgId]);
  assert.ok(!JSON.stringify(logged).includes('sk-agent-secret'));

  // Where the instance does not allow private addresses, the agent's base URL is refused as the model call connects
  // (its DNS checked again then, not only when saved): nothing reaches the server on loopback.
  const calls = fake.requests.length;
  const refused = modelFor(await agentRow(res.body.id), readConfig({}), app.app.services.masterKey);
  await assert.rejects(runModelLoop({ model: refused, system: 's', prompt: 'p' }), /private address/);
  assert.equal(fake.requests.length, calls);
  fake.script({ kind: 'text', text: 'ok', usage: { prompt_tokens: 2, completion_tokens: 1 } });
  const config = readConfig({ OPSBASE_ALLOW_PRIVATE_NETWORK: 'true' });
  const r = await runModelLoop({ model: modelFor(await agentRow(res.body.id), config, app.app.services.masterKey), system: 's', prompt: 'p' });
  assert.equal(r.text, 'ok');
  assert.equal(fake.authorizations.at(-1), 'Bearer sk-agent-secret-123');
  assert.equal(fake.requests.at(-1)?.model, 'llama3.1');
  // null removes it.
  const cleared = await app.request('PATCH', '/api/v1/agents/local', { key: t.key, body: { provider_api_key: null, runtime_config: {} } });
  assert.equal(cleared.body.has_provider_api_key, false);
});

test("the plan's agents limit: a third agent on the free tier (2) is a 402 that changes nothing; offline ones do not count; coming back from offline takes a slot", async () => {
  const t = await app.tenant('AgentLimit');
  for (const name of ['one', 'two']) assert.equal((await create(t, { name })).status, 201);
  const refused = await create(t, { name: 'three' });
  assertEnvelope(refused, 402, 'quota_exceeded', 'a third agent on the free tier');
  assert.deepEqual([refused.body.details.resource, refused.body.details.limit, refused.body.details.used], ['agents', 2, 2]);
  assert.match(refused.body.message, /free.*2 agents/);
  assert.deepEqual(await sql(app, "select id from agents where org_id = $1 and name = 'three'", [t.orgId]), [], 'nothing created');
  assert.equal((await activity(t, 'agent.created')).length, 2);
  // Created paused, it still counts: a paused agent can be started at any time.
  assertEnvelope(await create(t, { name: 'three', status: 'paused' }), 402, 'quota_exceeded', 'paused counts');

  // Deleted (offline): it stops counting, so there is room again.
  assert.equal((await app.request('DELETE', '/api/v1/agents/two', { key: t.key })).status, 200);
  assert.equal((await create(t, { name: 'three' })).status, 201);
  const usage = (await app.request('GET', '/api/v1/billing/usage', { key: t.key })).body.usage.agents;
  assert.deepEqual([usage.used, usage.limit], [2, 2]);
  // Bringing `two` back would make three: refused, and it stays offline.
  assertEnvelope(await app.request('POST', '/api/v1/agents/two/start', { key: t.key, body: {} }), 402, 'quota_exceeded', 'start from offline');
  assertEnvelope(await app.request('POST', '/api/v1/agents/two/restart', { key: t.key, body: {} }), 402, 'quota_exceeded', 'restart from offline');
  assert.equal((await app.request('GET', '/api/v1/agents/two', { key: t.key })).body.status, 'offline');
  // Stopping and starting a live agent takes no new slot.
  assert.equal((await app.request('POST', '/api/v1/agents/one/stop', { key: t.key, body: {} })).status, 200);
  assert.equal((await app.request('POST', '/api/v1/agents/one/start', { key: t.key, body: {} })).status, 200);

  // Concurrent creates racing for the last slot of a fresh org: exactly one wins.
  const u = await app.tenant('AgentRace');
  assert.equal((await create(u, { name: 'first' })).status, 201);
  const race = await Promise.all(['a', 'b', 'c', 'd'].map((n) => create(u, { name: `racer-${n}` })));
  assert.deepEqual(race.map((r) => r.status).sort(), [201, 402, 402, 402]);
  const [{ n }] = await sql(app, "select count(*)::int as n from agents where org_id = $1 and status <> 'offline'", [u.orgId]);
  assert.equal(n, 2);
});
