// Templates (archive = soft delete, defaults for agents), rules (scope, permanent), the system prompt an llm run
// gets from them, and the public v1 paths (Orkosi) serving the same operations.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { agents } from '../src/db/schema/agents.ts';
import { systemPromptFor } from '../src/modules/agents/prompt.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const post = (t: Tenant, path: string, body: unknown) => app.request('POST', `/api/v1${path}`, { key: t.key, body });
const agentRow = async (id: string) => (await app.app.services.database.db.select().from(agents).where(eq(agents.id, id)))[0];

test('templates: slug from the name, unique while live; archive hides and frees it; agents take their defaults', async () => {
  const t = await app.tenant('Templates');
  const res = await post(t, '/templates', {
    name: 'Content Writer',
    identity: 'You are a careful content writer.',
    model: 'opsbase-offline-1',
    interval_sec: 3600,
    tools: ['notifications.create'],
    capabilities: ['writing'],
    config: { tone: 'plain' },
    featured: true,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const tpl = res.body;
  assert.match(tpl.id, /^tpl_/);
  assert.equal(tpl.slug, 'content-writer');
  assert.equal((await app.request('GET', '/api/v1/templates/content-writer', { key: t.key })).body.id, tpl.id);
  assertEnvelope(await post(t, '/templates', { name: 'Content Writer' }), 409, 'conflict', 'slug taken');
  const badTool = await post(t, '/templates', { name: 'Bad', tools: ['keys.roll'] });
  assertEnvelope(badTool, 422, 'unprocessable', 'a template with a forbidden tool');
  assert.equal(badTool.body.details.field, 'tools');

  const agent = await post(t, '/agents', { name: 'scribe', template_id: 'content-writer' });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  assert.equal(agent.body.template_id, tpl.id);
  assert.equal(agent.body.model, 'opsbase-offline-1');
  assert.equal(agent.body.interval_sec, 3600);
  assert.deepEqual(agent.body.tools, ['notifications.create']);
  assert.deepEqual(agent.body.scopes, ['notifications:write']);
  // Explicit values win over the template's.
  const own = await post(t, '/agents', { name: 'scribe2', template_id: tpl.id, model: 'other', tools: [] });
  assert.equal(own.body.model, 'other');
  assert.deepEqual(own.body.tools, []);

  const featured = await app.request('GET', '/api/v1/templates?featured=true', { key: t.key });
  assert.deepEqual(
    featured.body.data.map((x: { id: string }) => x.id),
    [tpl.id],
  );
  const archived = await app.request('DELETE', `/api/v1/templates/${tpl.id}`, { key: t.key });
  assert.equal(archived.status, 200);
  assert.ok(archived.body.archived_at);
  assert.equal((await app.request('GET', '/api/v1/templates', { key: t.key })).body.data.length, 0);
  assert.equal((await app.request('GET', '/api/v1/templates?archived=true', { key: t.key })).body.data.length, 1);
  assert.equal((await app.request('GET', `/api/v1/templates/${tpl.id}`, { key: t.key })).status, 200, 'still readable by id');
  assertEnvelope(await post(t, '/agents', { name: 'late', template_id: tpl.id }), 422, 'unprocessable', 'an archived template');
  assert.equal((await post(t, '/templates', { name: 'Content Writer' })).status, 201, 'the slug is free again');
  assert.equal((await app.request('GET', '/api/v1/agents/scribe', { key: t.key })).body.template_id, tpl.id, 'agents keep theirs');
  const acts = await app.request('GET', '/api/v1/activity-log?entity_type=template', { key: t.key });
  assert.deepEqual(acts.body.data.map((a: { action: string }) => a.action).sort(), ['template.archived', 'template.created', 'template.created']);
});

test('rules: org-wide or one agent; permanent ones cannot be deleted or disabled (403); list filters', async () => {
  const t = await app.tenant('Rules');
  const a = (await post(t, '/agents', { name: 'alpha' })).body;
  const b = (await post(t, '/agents', { name: 'beta' })).body;
  const all = (await post(t, '/rules', { text: 'Never share credentials.', category: 'security', permanent: true })).body;
  const mine = (await post(t, '/rules', { text: 'Write in British English.', scope: 'alpha', category: 'style' })).body;
  const theirs = (await post(t, '/rules', { text: 'Only touch billing.', scope: b.id })).body;
  assert.equal(all.scope, 'all');
  assert.equal(mine.scope, a.id);
  assert.equal(mine.agent_id, a.id);
  assertEnvelope(await post(t, '/rules', { text: 'x', scope: 'nobody' }), 422, 'unprocessable', 'unknown agent scope');

  const forAlpha = await app.request('GET', '/api/v1/rules?agent=alpha', { key: t.key });
  assert.deepEqual(forAlpha.body.data.map((r: { id: string }) => r.id).sort(), [all.id, mine.id].sort());
  const universal = await app.request('GET', '/api/v1/rules?scope=all', { key: t.key });
  assert.deepEqual(
    universal.body.data.map((r: { id: string }) => r.id),
    [all.id],
  );
  const perm = await app.request('GET', '/api/v1/rules?permanent=true&category=security', { key: t.key });
  assert.equal(perm.body.data.length, 1);

  const del = await app.request('DELETE', `/api/v1/rules/${all.id}`, { key: t.key });
  assertEnvelope(del, 403, 'forbidden', 'deleting a permanent rule');
  assertEnvelope(await app.request('PATCH', `/api/v1/rules/${all.id}`, { key: t.key, body: { enabled: false } }), 403, 'forbidden', 'disabling it');
  assert.equal((await app.request('PATCH', `/api/v1/rules/${all.id}`, { key: t.key, body: { text: 'Never share credentials or keys.' } })).status, 200);
  // Deliberately: non-permanent first, then delete.
  assert.equal((await app.request('PATCH', `/api/v1/rules/${all.id}`, { key: t.key, body: { permanent: false } })).body.permanent, false);
  assert.equal((await app.request('DELETE', `/api/v1/rules/${all.id}`, { key: t.key })).status, 200);
  assert.equal((await app.request('DELETE', `/api/v1/rules/${theirs.id}`, { key: t.key })).status, 200);
  assertEnvelope(await app.request('DELETE', `/api/v1/rules/${theirs.id}`, { key: t.key }), 404, 'not_found', 'deleted twice');
  const acts = await app.request('GET', '/api/v1/activity-log?entity_type=rule', { key: t.key });
  assert.equal(acts.body.data.filter((x: { action: string }) => x.action === 'rule.deleted').length, 2);
});

test("systemPromptFor: the template's identity, the agent's instructions, every enabled rule covering it, and their ids", async () => {
  const t = await app.tenant('Prompt');
  const tpl = (await post(t, '/templates', { name: 'Support', identity: 'You are the support desk of Acme.' })).body;
  const agent = (await post(t, '/agents', { name: 'desk', template_id: tpl.id, instructions: 'Answer within a day.' })).body;
  const other = (await post(t, '/agents', { name: 'other', title: 'Analyst', role: 'finance' })).body;
  const r1 = (await post(t, '/rules', { text: 'Be polite.', category: 'style' })).body;
  const r2 = (await post(t, '/rules', { text: 'Escalate refunds over 100 EUR.', scope: 'desk' })).body;
  await post(t, '/rules', { text: 'Disabled rule.', enabled: false });
  await post(t, '/rules', { text: 'Rule for another agent.', scope: 'other' });

  const p = await systemPromptFor(app.app.services.database.db, await agentRow(agent.id));
  assert.equal(
    p.prompt,
    'You are the support desk of Acme.\n\nInstructions:\nAnswer within a day.\n\nRules (always follow them):\n- [style] Be polite.\n- Escalate refunds over 100 EUR.',
  );
  assert.deepEqual(p.rule_ids, [r1.id, r2.id]);
  assert.equal(p.template_id, tpl.id);
  // Without a template: a plain identity from its name, title and role; only the rules covering it.
  const q = await systemPromptFor(app.app.services.database.db, await agentRow(other.id));
  assert.match(q.prompt, /^You are other, Analyst, finance, an agent of this organisation/);
  assert.match(q.prompt, /- Rule for another agent\.$/);
  assert.ok(!q.prompt.includes('Escalate refunds'));
  assert.equal(q.rule_ids.length, 2);
  // Disabling a rule takes it out of the next prompt.
  await app.request('PATCH', `/api/v1/rules/${r1.id}`, { key: t.key, body: { enabled: false } });
  assert.deepEqual((await systemPromptFor(app.app.services.database.db, await agentRow(agent.id))).rule_ids, [r2.id]);
});

test('public v1 (Orkosi paths): agents and templates with the same scopes; health without a credential', async () => {
  const t = await app.tenant('PublicV1');
  const created = await app.request('POST', '/api/v1/public/agents', { key: t.key, body: { name: 'pub', role: 'ops' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await app.request('GET', '/api/v1/public/agents?role=ops', { key: t.key })).body.data[0].id, created.body.id);
  assert.equal((await app.request('GET', `/api/v1/public/agents/${created.body.id}`, { key: t.key })).body.name, 'pub');
  assert.equal((await app.request('PATCH', '/api/v1/public/agents/pub', { key: t.key, body: { emoji: '🤖' } })).body.emoji, '🤖');
  assert.equal((await app.request('DELETE', '/api/v1/public/agents/pub', { key: t.key })).body.status, 'offline');
  const tpl = await app.request('POST', '/api/v1/public/templates', { key: t.key, body: { name: 'Pub', slug: 'pub' } });
  assert.equal(tpl.status, 201);
  assert.equal((await app.request('GET', '/api/v1/public/templates/pub', { key: t.key })).body.id, tpl.body.id);
  const weak = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'weak', scopes: ['tasks:read'] } });
  assertEnvelope(await app.request('GET', '/api/v1/public/agents', { key: weak.body.secret }), 403, 'forbidden', 'scope applies to the alias');
  assertEnvelope(await app.request('GET', '/api/v1/public/agents'), 401, 'unauthorized', 'no credential');
  const health = await app.request('GET', '/api/v1/public/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  // Aliases stay out of the OpenAPI document.
  const doc = await app.request('GET', '/api/openapi.json');
  assert.ok(doc.body.paths['/api/v1/agents']);
  assert.ok(!doc.body.paths['/api/v1/public/agents']);
});
