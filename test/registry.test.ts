// Generic tests over the whole operation registry (DESIGN §3–5): every operation gets the shared auth, scope,
// bad-input and tenancy checks, so a new operation is covered the moment it is registered.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Operation } from '../src/core/operation.ts';
import { routePath } from '../src/core/http-request.ts';
import { operations } from '../src/operations.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Response, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  // A high default limit: these tests send hundreds of requests with a few credentials.
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000', OPSBASE_AUTH_FAILURES_PER_MINUTE: '100000' } });
});
after(() => app.close());

const ID_PREFIX: Record<string, string> = { keys: 'key', orgs: 'org', users: 'usr', agents: 'agt', templates: 'tpl', rules: 'rule', tasks: 'task', documents: 'doc', folders: 'fld' };

/** A well-formed id of the right kind that names nothing. */
function fakeId(op: Operation, param: string): string {
  const prefix = param === 'user_id' ? 'usr' : (ID_PREFIX[op.id.split('.')[0]] ?? 'obj');
  return `${prefix}_0000000000000000000000000a`;
}

function pathFor(op: Operation, params: Record<string, string> = {}): string {
  return routePath(op).replace(/:([a-z_]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? fakeId(op, name)));
}

interface CallOptions {
  key?: string;
  params?: Record<string, string>;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** Calls `op`; a non-GET operation gets a JSON body (`{}` unless told otherwise). */
function call(op: Operation, o: CallOptions = {}): Promise<Response> {
  const takesBody = op.method !== 'GET';
  return app.request(op.method, pathFor(op, o.params), {
    key: o.key,
    headers: o.headers,
    raw: takesBody ? o.raw : undefined,
    body: takesBody && o.raw === undefined ? (o.body ?? {}) : undefined,
  });
}

/** Body fields of an operation (its input minus path parameters). */
function bodyFields(op: Operation): string[] {
  return Object.keys(op.input.shape).filter((k) => !op.pathParams.includes(k));
}

function requiredBodyFields(op: Operation): string[] {
  return bodyFields(op).filter((k) => !(op.input.shape[k] as { safeParse: (v: unknown) => { success: boolean } }).safeParse(undefined).success);
}

/** The credential an operation needs: a session for user / instance-admin operations, the org's key otherwise. */
function credentialFor(op: Operation, t: Tenant): string | undefined {
  if (op.auth === 'public') return undefined;
  if (op.instanceAdmin) return app.admin.sessionToken;
  return op.auth === 'user' ? t.sessionToken : t.key;
}

const nonPublic = operations.filter((op) => op.auth !== 'public');
const withBody = operations.filter((op) => op.method !== 'GET');

async function createKey(t: Tenant, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'k', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

// Real objects of an org, for operations that name one by path (tenancy tests, queries on real objects).
interface OrgAObjects {
  tenant: Tenant;
  /** A second key of org A, the one B's calls aim at (A's own `*` key stays usable for checks). */
  key: { id: string; secret: string };
  /** A job and a schedule of org A's queue (tenancy test only). */
  queue?: { jobId: string; scheduleId: string };
  /** An org-wide notification of org A (tenancy test only). */
  notificationId?: string;
  /** A webhook endpoint of org A and a (test) delivery of it. */
  webhook?: { webhookId: string; deliveryId: string };
  /** An agent of org A, a template and a rule (tenancy test only). */
  agents?: { agentId: string; templateId: string; ruleId: string };
  /** Two tasks of org A (the second, number 2, is what the first's dependency names). */
  tasks?: { id: string; otherId: string };
  /** A (queued) run of org A. */
  runId?: string;
  /** A team of org A (its owner in it) and the name of a credential in A's vault. */
  team?: { id: string; credential: string };
  /** A file and a workspace record of org A (tenancy test only). */
  knowledge?: { fileId: string; recordId: string };
  /** A folder of org A and a document in it. */
  documents?: { folderId: string; docId: string };
}

async function documentObjects(t: Tenant): Promise<{ folderId: string; docId: string }> {
  const folder = await app.request('POST', '/api/v1/folders', { key: t.key, body: { name: 'A folder' } });
  assert.equal(folder.status, 201, JSON.stringify(folder.body));
  const doc = await app.request('POST', '/api/v1/documents', { key: t.key, body: { title: 'A document of A', folder_id: folder.body.id, summary: 'Of A.' } });
  assert.equal(doc.status, 201, JSON.stringify(doc.body));
  return { folderId: folder.body.id, docId: doc.body.id };
}

/** A run of org A: credits granted, an agent, a task assigned to it, run (no worker here: it stays queued). */
async function runObject(t: Tenant): Promise<string> {
  const grant = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, credits: 5 } });
  assert.ok(grant.status < 300, JSON.stringify(grant.body));
  const agent = await app.request('POST', '/api/v1/agents', { key: t.key, body: { name: 'a-runner' } });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  const task = await app.request('POST', '/api/v1/tasks', { key: t.key, body: { title: 'A run of A', assignee: 'agent:a-runner' } });
  assert.equal(task.status, 201, JSON.stringify(task.body));
  const run = await app.request('POST', `/api/v1/tasks/${task.body.id}/run`, { key: t.key, body: {} });
  assert.equal(run.status, 202, JSON.stringify(run.body));
  return run.body.id;
}

async function agentObjects(t: Tenant): Promise<{ agentId: string; templateId: string; ruleId: string }> {
  const template = await app.request('POST', '/api/v1/templates', { key: t.key, body: { name: 'A writer', identity: 'You write.' } });
  assert.equal(template.status, 201, JSON.stringify(template.body));
  const agent = await app.request('POST', '/api/v1/agents', { key: t.key, body: { name: 'a-writer', template_id: template.body.id } });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  const rule = await app.request('POST', '/api/v1/rules', { key: t.key, body: { text: 'Be brief.', scope: agent.body.id } });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  return { agentId: agent.body.id, templateId: template.body.id, ruleId: rule.body.id };
}

async function taskObjects(t: Tenant): Promise<{ id: string; otherId: string }> {
  const [first, second] = [
    await app.request('POST', '/api/v1/tasks', { key: t.key, body: { title: 'A task of A' } }),
    await app.request('POST', '/api/v1/tasks', { key: t.key, body: { title: 'Another task of A' } }),
  ];
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(second.body.number, 2, JSON.stringify(second.body));
  return { id: first.body.id, otherId: second.body.id };
}

async function webhookObjects(t: Tenant): Promise<{ webhookId: string; deliveryId: string }> {
  const hook = await app.request('POST', '/api/v1/webhooks', { key: t.key, body: { url: 'http://127.0.0.1:9/hook', event_types: ['*'] } });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  const delivery = await app.request('POST', `/api/v1/webhooks/${hook.body.id}/test`, { key: t.key, body: {} });
  assert.equal(delivery.status, 202, JSON.stringify(delivery.body));
  return { webhookId: hook.body.id, deliveryId: delivery.body.id };
}

async function knowledgeObjects(t: Tenant): Promise<{ fileId: string; recordId: string }> {
  const file = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'a.txt', content_base64: Buffer.from('of A').toString('base64') } });
  assert.equal(file.status, 201, JSON.stringify(file.body));
  const record = await app.request('POST', '/api/v1/records', { key: t.key, body: { source_product: 'crm', record_type: 'deal', source_ref: 'a', title: 'of A' } });
  assert.equal(record.status, 201, JSON.stringify(record.body));
  return { fileId: file.body.id, recordId: record.body.workspace_record_id };
}

async function queueObjects(t: Tenant): Promise<{ jobId: string; scheduleId: string }> {
  const job = await app.request('POST', '/api/v1/queue/jobs', { key: t.key, body: { queue: 'a-queue', task_type: 'x' } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  const schedule = await app.request('POST', '/api/v1/queue/jobs/scheduled', {
    key: t.key,
    body: { queue: 'a-queue', task_type: 'x', every_seconds: 3600 },
  });
  assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
  return { jobId: job.body.id, scheduleId: schedule.body.id };
}

async function teamObjects(t: Tenant): Promise<{ id: string; credential: string }> {
  const team = await app.request('POST', '/api/v1/teams', { key: t.sessionToken, headers: { 'x-org-id': t.orgId }, body: { name: 'A team' } });
  assert.equal(team.status, 201, JSON.stringify(team.body));
  const cred = await app.request('POST', '/api/v1/credentials', { key: t.key, body: { name: 'A_SECRET', value: 'a-secret-value' } });
  assert.equal(cred.status, 201, JSON.stringify(cred.body));
  return { id: team.body.id, credential: 'A_SECRET' };
}

/** Path parameters that name an entry of a catalogue every org shares, not an object of one org: no tenancy 404. */
const NOT_ORG_OBJECTS = ['integrations.'];

/** Which real object of org A each operation's path parameters name, by operation id prefix (first match wins). */
const TENANCY_FIXTURES: { prefix: string; params: (a: OrgAObjects) => Record<string, string> }[] = [
  { prefix: 'orgs.members.', params: (a) => ({ user_id: a.tenant.userId }) },
  { prefix: 'orgs.', params: (a) => ({ id: a.tenant.orgId }) },
  { prefix: 'keys.', params: (a) => ({ id: a.key.id }) },
  { prefix: 'queue.schedules.', params: (a) => ({ id: a.queue?.scheduleId ?? '' }) },
  { prefix: 'queue.', params: (a) => ({ id: a.queue?.jobId ?? '' }) },
  { prefix: 'notifications.', params: (a) => ({ id: a.notificationId ?? '' }) },
  { prefix: 'webhooks.', params: (a) => ({ id: a.webhook?.webhookId ?? '' }) },
  { prefix: 'webhook_deliveries.', params: (a) => ({ id: a.webhook?.deliveryId ?? '' }) },
  { prefix: 'agents.', params: (a) => ({ id: a.agents?.agentId ?? '' }) },
  { prefix: 'templates.', params: (a) => ({ id: a.agents?.templateId ?? '' }) },
  { prefix: 'rules.', params: (a) => ({ id: a.agents?.ruleId ?? '' }) },
  { prefix: 'tasks.', params: (a) => ({ id: a.tasks?.id ?? '', depends_on: a.tasks?.otherId ?? '' }) },
  { prefix: 'runs.', params: (a) => ({ id: a.runId ?? '' }) },
  { prefix: 'teams.', params: (a) => ({ id: a.team?.id ?? '', user_id: a.tenant.userId }) },
  { prefix: 'credentials.', params: (a) => ({ name: a.team?.credential ?? '' }) },
  { prefix: 'files.', params: (a) => ({ id: a.knowledge?.fileId ?? '' }) },
  { prefix: 'records.', params: (a) => ({ id: a.knowledge?.recordId ?? '' }) },
  { prefix: 'folders.', params: (a) => ({ id: a.documents?.folderId ?? '' }) },
  { prefix: 'documents.', params: (a) => ({ id: a.documents?.docId ?? '', number: '1' }) },
];

/** Valid bodies, so that a 404 can only come from tenancy, never from validation. */
const TENANCY_BODIES: Record<string, unknown> = {
  'keys.update': { name: 'hijacked', active: false, scopes: ['nothing:read'] },
  'keys.rotate': { grace_hours: 0 },
  'orgs.update': { name: 'Hijacked' },
  'orgs.members.update': { role: 'viewer' },
  'queue.heartbeat': { worker_id: 'w' },
  'queue.complete': { worker_id: 'w', result: { hijacked: true } },
  'queue.fail': { worker_id: 'w', error: 'hijacked' },
  'webhooks.update': { description: 'hijacked', enabled: false, event_types: ['key.created'] },
  'agents.update': { display_name: 'Hijacked', instructions: 'hijacked' },
  'agents.stop': { note: 'hijacked' },
  'templates.update': { name: 'Hijacked', identity: 'hijacked' },
  'rules.update': { text: 'hijacked', enabled: false },
  'tasks.update': { title: 'Hijacked', status: 'cancelled' },
  'tasks.claim': { assignee: 'agent:a-writer' },
  'tasks.dependencies.add': { depends_on: '2' },
  'tasks.comments.create': { body: 'hijacked' },
  'runs.report': { events: [{ type: 'log', data: { message: 'hijacked' } }], usage: { input_tokens: 1, output_tokens: 1 } },
  'runs.complete': { result: 'hijacked', usage: { input_tokens: 1, output_tokens: 1 } },
  'runs.fail': { error: 'hijacked' },
  'teams.update': { name: 'Hijacked' },
  'teams.invites.create': { email: 'hijack@example.com' },
  'folders.update': { name: 'Hijacked' },
  'documents.update': { title: 'Hijacked', content_md: 'hijacked' },
};

/** A body naming another of org A's objects (not known before the objects are made). */
const bodyFor = (op: Operation, a: OrgAObjects): unknown => (op.id === 'teams.members.add' ? { user_id: a.tenant.userId } : TENANCY_BODIES[op.id]);

/** The path parameters naming `objects`' real object for `op`; fails for an operation no fixture knows. */
function realParams(op: Operation, objects: OrgAObjects): Record<string, string> {
  const fixture = TENANCY_FIXTURES.find((f) => op.id.startsWith(f.prefix));
  assert.ok(fixture, `${op.id} names an object by path (${op.path}) but has no fixture in TENANCY_FIXTURES (registry.test.ts): add one`);
  const params = fixture.params(objects);
  for (const p of op.pathParams) assert.ok(params[p], `${op.id}: the fixture for ${fixture.prefix} does not give :${p}`);
  return params;
}

test('the registry: unique ids, unique routes, every id in the `<domain>.<verb>` shape', () => {
  assert.ok(operations.length >= 40, `expected the foundation's operations, got ${operations.length}`);
  const ids = operations.map((op) => op.id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate operation id');
  const routes = operations.map((op) => `${op.method} ${routePath(op)}`);
  assert.equal(new Set(routes).size, routes.length, 'duplicate route');
  for (const op of operations) {
    assert.match(op.id, /^[a-z_]+(\.[a-z_]+)*$/, op.id);
    if (op.auth === 'org' && op.scopes.length === 0) assert.equal(op.id, 'whoami', `${op.id}: an org operation without a scope`);
  }
});

test('every non-public operation answers 401 to a missing, malformed, unknown or revoked credential', async () => {
  const t = await app.tenant('Auth401');

  // A key that worked (and so sits in the auth cache), then was revoked.
  const revoked = await createKey(t, { name: 'to-revoke' });
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: revoked.secret })).status, 200);
  const rv = await app.request('POST', `/api/v1/keys/${revoked.id}/revoke`, { key: t.key });
  assert.equal(rv.status, 200, JSON.stringify(rv.body));

  // A deleted key, likewise used first.
  const deleted = await createKey(t, { name: 'to-delete' });
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: deleted.secret })).status, 200);
  assert.equal((await app.request('DELETE', `/api/v1/keys/${deleted.id}`, { key: t.key })).status, 200);

  // A session that logged out.
  const login = await app.request('POST', '/api/v1/auth/login', { body: { email: t.email, password: t.password } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal((await app.request('GET', '/api/v1/auth/me', { key: login.body.token })).status, 200);
  assert.equal((await app.request('POST', '/api/v1/auth/logout', { key: login.body.token, body: {} })).status, 200);

  const credentials: [string, Record<string, string>][] = [
    ['no credential', {}],
    ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a garbage bearer', { authorization: 'Bearer not-a-real-token' }],
    ['an unknown API key', { authorization: `Bearer obk_live_${randomBytes(24).toString('base64url')}` }],
    ['an unknown session token', { authorization: `Bearer obs_${randomBytes(24).toString('base64url')}` }],
    ['a revoked API key', { authorization: `Bearer ${revoked.secret}` }],
    ['a deleted API key', { authorization: `Bearer ${deleted.secret}` }],
    ['a logged-out session', { authorization: `Bearer ${login.body.token}` }],
    ['an unknown session cookie', { cookie: `opsbase_session=obs_${randomBytes(24).toString('base64url')}` }],
  ];
  assert.ok(nonPublic.length >= 30);
  for (const [label, headers] of credentials) {
    const results = await Promise.all(nonPublic.map((op) => call(op, { headers }).then((res) => [op, res] as const)));
    for (const [op, res] of results) assertEnvelope(res, 401, 'unauthorized', `${op.id} with ${label}`);
  }
});

test('every scoped org operation answers 403 to a key without its scope, and not to a key with it', async () => {
  const t = await app.tenant('Scopes');
  const weak = await createKey(t, { name: 'weak', scopes: ['nothing:read'] });
  const scoped = nonPublic.filter((op) => op.auth === 'org' && op.scopes.length > 0);
  assert.ok(scoped.length >= 20);
  const params = (op: Operation) => (op.orgParam ? { [op.orgParam]: t.orgId } : {});

  const results = await Promise.all(scoped.map((op) => call(op, { key: weak.secret, params: params(op) }).then((res) => [op, res] as const)));
  for (const [op, res] of results) {
    assertEnvelope(res, 403, 'forbidden', `${op.id} with scope nothing:read`);
    for (const s of op.scopes) assert.ok(res.body.message.includes(s), `${op.id}: the message names the missing scope ${s}: ${res.body.message}`);
  }
  // The positive control: a key holding exactly the operation's scopes gets past the check (to a 2xx, 400 or 404).
  // Sequential, with the org's own deletion last.
  const ordered = [...scoped].sort((a, b) => Number(a.id === 'orgs.delete') - Number(b.id === 'orgs.delete'));
  for (const op of ordered) {
    const exact = await createKey(t, { name: `exact ${op.id}`, scopes: op.scopes });
    const res = await call(op, { key: exact.secret, params: params(op) });
    // A 403 may still come from a business rule (only a logged-in owner deletes an org), never from the scope.
    if (res.status === 403) assert.doesNotMatch(res.body.message, /scope/, `${op.id} with scopes ${op.scopes}: ${JSON.stringify(res.body)}`);
    assert.ok(res.status < 500, `${op.id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  // whoami needs no scope at all.
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: weak.secret })).status, 200);
});

test('key management never escalates: every change to a key by path needs every scope of that key (403 otherwise)', async () => {
  const t = await app.tenant('Escalation');
  const target = await createKey(t, { name: 'the-star-key', scopes: ['*'] });
  const attacker = await createKey(t, { name: 'keys-only', scopes: ['keys:read', 'keys:write'] });
  // Every mutation naming a key in its path: a future key-like operation is covered the moment it is registered.
  const keyMutations = operations.filter((op) => op.method !== 'GET' && /\/keys\/:[a-z_]+/.test(op.path));
  assert.ok(keyMutations.length >= 5, keyMutations.map((op) => op.id).join());
  for (const op of keyMutations) {
    const res = await call(op, { key: attacker.secret, params: { id: target.id }, body: TENANCY_BODIES[op.id] });
    assertEnvelope(res, 403, 'forbidden', `${op.id} by a keys:write key on a * key`);
    assert.equal(typeof res.body.secret, 'undefined', `${op.id} leaked no secret`);
  }
  // Nothing changed: the target still works with its old secret, unchanged.
  const after = await app.request('GET', `/api/v1/keys/${target.id}`, { key: t.key });
  assert.equal(after.body.name, 'the-star-key');
  assert.equal(after.body.status, 'active');
  assert.deepEqual(after.body.scopes, ['*']);
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: target.secret })).status, 200);
  // The positive control: the same caller may change a key whose scopes it holds.
  for (const op of keyMutations) {
    const lesser = await createKey(t, { name: 'lesser', scopes: ['keys:read'] });
    const body = op.id === 'keys.update' ? { name: 'renamed' } : TENANCY_BODIES[op.id];
    const res = await call(op, { key: attacker.secret, params: { id: lesser.id }, body });
    assert.ok(res.status < 300, `${op.id} on a lesser key: ${res.status} ${JSON.stringify(res.body)}`);
  }
});

/** Reads a session needs an owner or admin for (a decrypted credential value): a viewer gets 403. */
const ADMIN_READS = new Set(['credentials.get']);
/** Input fields a call cannot leave out that are not path parameters. */
const requiredQuery = (op: Operation) =>
  Object.entries(op.input.shape as Record<string, { isOptional: () => boolean }>)
    .filter(([name, field]) => !op.pathParams.includes(name) && !field.isOptional())
    .map(([name]) => name);

test("a viewer's session is refused every write (403) and allowed every read of its org", async () => {
  const t = await app.tenant('Roles');
  const viewer = await app.tenant('Viewer');
  const add = await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: viewer.userId, role: 'viewer' } });
  assert.equal(add.status, 201, JSON.stringify(add.body));
  const headers = { 'x-org-id': t.orgId };
  const orgOps = nonPublic.filter((op) => op.auth === 'org' && op.scopes.length > 0);
  const params = (op: Operation) => (op.orgParam ? { [op.orgParam]: t.orgId } : {});
  const results = await Promise.all(
    orgOps.map((op) => call(op, { key: viewer.sessionToken, headers, params: params(op) }).then((res) => [op, res] as const)),
  );
  for (const [op, res] of results) {
    const writes = op.scopes.some((s) => !s.endsWith(':read'));
    if (writes || ADMIN_READS.has(op.id)) assertEnvelope(res, 403, 'forbidden', `${op.id} as viewer`);
    // A read sent as POST (billing.validate_downgrade) gets past the role check to its body's validation: 400 for `{}`.
    else if (op.method !== 'GET' && res.status === 400) assertEnvelope(res, 400, 'invalid_request', `${op.id} as viewer`);
    // A read that needs a query (search's `q`) gets past the role check to its validation too.
    else if (requiredQuery(op).length && res.status === 400) assertEnvelope(res, 400, 'invalid_request', `${op.id} as viewer`);
    else assert.ok(res.status === 200 || res.status === 404, `${op.id} as viewer: ${res.status} ${JSON.stringify(res.body)}`);
  }
});

test('operations that act for a user refuse API keys (403); instance-admin operations refuse other users (403)', async () => {
  const t = await app.tenant('UserOnly');
  const userOps = operations.filter((op) => op.auth === 'user');
  assert.ok(userOps.length >= 8);
  const results = await Promise.all(userOps.map((op) => call(op, { key: t.key }).then((res) => [op, res] as const)));
  for (const [op, res] of results) {
    assertEnvelope(res, 403, 'forbidden', `${op.id} with an API key`);
    assert.match(res.body.message, /session|instance admin/i, op.id);
  }
  const adminOps = operations.filter((op) => op.instanceAdmin);
  assert.ok(adminOps.length >= 4);
  for (const op of adminOps) assertEnvelope(await call(op, { key: t.sessionToken }), 403, 'forbidden', `${op.id} as a non-admin user`);
  // The instance admin gets through.
  const list = await app.request('GET', '/api/v1/users', { key: app.admin.sessionToken });
  assert.equal(list.status, 200, JSON.stringify(list.body));
});

test('malformed JSON to every operation that takes a body → 400 invalid_request, never 5xx', async () => {
  const t = await app.tenant('BadJson');
  for (const raw of ['{bad', '{"a":', '']) {
    const results = await Promise.all(
      withBody.map((op) =>
        call(op, { key: credentialFor(op, t), raw, params: op.orgParam ? { [op.orgParam]: t.orgId } : {} }).then((res) => [op, res] as const),
      ),
    );
    for (const [op, res] of results) assertEnvelope(res, 400, 'invalid_request', `${op.id} with body ${JSON.stringify(raw)}`);
  }
  // The tenant is untouched: nothing ran.
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).status, 200);
});

test('a body of the wrong shape or with wrong types → 400 with `details` naming every field', async () => {
  const t = await app.tenant('BadTypes');
  const ops = withBody.filter((op) => bodyFields(op).length > 0);
  assert.ok(ops.length >= 15);
  const params = (op: Operation) => (op.orgParam ? { [op.orgParam]: t.orgId } : {});
  const fieldsNamed = (res: Response) => (res.body.details as { field: string }[]).map((d) => d.field);
  const names = (details: string[], field: string) => details.some((f) => f === field || f.startsWith(`${field}.`));

  // Every field of the wrong type (an array of arrays fits none of our field schemas).
  const wrong = await Promise.all(
    ops.map((op) =>
      call(op, { key: credentialFor(op, t), params: params(op), body: Object.fromEntries(bodyFields(op).map((f) => [f, [[]]])) }).then(
        (res) => [op, res] as const,
      ),
    ),
  );
  for (const [op, res] of wrong) {
    assertEnvelope(res, 400, 'invalid_request', `${op.id} with wrong types`);
    assert.ok(Array.isArray(res.body.details), `${op.id}: details is a list: ${JSON.stringify(res.body)}`);
    const fields = fieldsNamed(res);
    for (const f of bodyFields(op)) assert.ok(names(fields, f), `${op.id}: details names ${f}: ${JSON.stringify(res.body.details)}`);
    for (const d of res.body.details) assert.equal(typeof d.message, 'string', op.id);
  }

  // An empty object: every required field is listed.
  const required = ops.filter((op) => requiredBodyFields(op).length > 0);
  assert.ok(required.length >= 10);
  const empty = await Promise.all(
    required.map((op) => call(op, { key: credentialFor(op, t), params: params(op), body: {} }).then((res) => [op, res] as const)),
  );
  for (const [op, res] of empty) {
    assertEnvelope(res, 400, 'invalid_request', `${op.id} with {}`);
    const fields = fieldsNamed(res);
    for (const f of requiredBodyFields(op)) assert.ok(names(fields, f), `${op.id}: details names required ${f}: ${JSON.stringify(res.body.details)}`);
  }

  // JSON that is not an object at all.
  for (const raw of ['[]', '"text"', '42', 'null']) {
    const results = await Promise.all(
      ops.map((op) => call(op, { key: credentialFor(op, t), params: params(op), raw }).then((res) => [op, res] as const)),
    );
    for (const [op, res] of results) assertEnvelope(res, 400, 'invalid_request', `${op.id} with body ${raw}`);
  }
});

test('bad path ids and query strings → 400 or 404, never 5xx', async () => {
  const t = await app.tenant('BadIds');
  const withIds = operations.filter((op) => op.pathParams.length > 0 && op.auth !== 'public');
  assert.ok(withIds.length >= 10);
  const weird = ["' or 1=1 --", 'key_😀', '..%2f..', 'null', 'a'.repeat(64)];
  for (const id of weird) {
    const results = await Promise.all(
      withIds.map((op) =>
        call(op, { key: credentialFor(op, t), params: Object.fromEntries(op.pathParams.map((p) => [p, id])) }).then((res) => [op, res] as const),
      ),
    );
    for (const [op, res] of results) {
      assert.ok(res.status === 404 || res.status === 400, `${op.id} with id ${JSON.stringify(id)}: ${res.status} ${JSON.stringify(res.body)}`);
      assertEnvelope(res, res.status, res.status === 404 ? 'not_found' : 'invalid_request', `${op.id} with id ${JSON.stringify(id)}`);
    }
  }
  const tooLong = await Promise.all(
    withIds.map((op) =>
      call(op, { key: credentialFor(op, t), params: Object.fromEntries(op.pathParams.map((p) => [p, 'x'.repeat(65)])) }).then(
        (res) => [op, res] as const,
      ),
    ),
  );
  for (const [op, res] of tooLong) {
    // An org named in the path is checked against the caller before validation: to a key, any other org is a 404.
    if (op.orgParam) assertEnvelope(res, 404, 'not_found', `${op.id} with a 65-character org id`);
    else assertEnvelope(res, 400, 'invalid_request', `${op.id} with a 65-character id`);
  }

  const own: OrgAObjects = {
    tenant: t,
    key: { id: t.keyId, secret: t.key },
    webhook: await webhookObjects(t),
    tasks: await taskObjects(t),
    runId: await runObject(t),
    team: await teamObjects(t),
    documents: await documentObjects(t),
  };
  const lists = operations.filter((op) => op.method === 'GET' && 'limit' in op.input.shape);
  assert.ok(lists.length >= 6);
  for (const query of ['limit=abc', 'limit=0', 'limit=201', 'offset=-1', 'cursor=not-a-cursor']) {
    const results = await Promise.all(
      lists.map((op) =>
        app
          .request('GET', `${pathFor(op, op.pathParams.length ? realParams(op, own) : {})}?${query}`, { key: credentialFor(op, t) })
          .then((res) => [op, res] as const),
      ),
    );
    for (const [op, res] of results) assertEnvelope(res, 400, 'invalid_request', `${op.id}?${query}`);
  }
});

test('every operation, called with the right credential, ids that name nothing and an empty body, stays below 500', async () => {
  const t = await app.tenant('Sweep');
  // Logging out ends this tenant's session: last.
  const ordered = [...operations].sort((a, b) => Number(a.id === 'auth.logout') - Number(b.id === 'auth.logout'));
  for (const op of ordered) {
    const res = await call(op, { key: credentialFor(op, t) });
    assert.ok(res.status < 500, `${op.id}: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.status >= 400) assertEnvelope(res, res.status, res.body.error, op.id);
  }
});

test("tenancy: org B's key and session get 404 on every operation that names org A's object", async () => {
  const a = await app.tenant('TenantA');
  const b = await app.tenant('TenantB');
  const notification = await app.request('POST', '/api/v1/notifications', { key: a.key, body: { title: 'for A' } });
  assert.equal(notification.status, 201, JSON.stringify(notification.body));
  const objects: OrgAObjects = {
    tenant: a,
    key: await createKey(a, { name: 'a-target' }),
    queue: await queueObjects(a),
    notificationId: notification.body.id,
    webhook: await webhookObjects(a),
    agents: await agentObjects(a),
    tasks: await taskObjects(a),
    runId: await runObject(a),
    team: await teamObjects(a),
    knowledge: await knowledgeObjects(a),
    documents: await documentObjects(a),
  };
  const mustCover = operations.filter((op) => op.auth === 'org' && op.pathParams.length > 0 && !NOT_ORG_OBJECTS.some((p) => op.id.startsWith(p)));
  assert.ok(mustCover.length >= 10);
  const exercised = new Set<string>();

  const paramsOf = (op: Operation) => realParams(op, objects);

  const callers: [string, CallOptions][] = [
    ["B's key", { key: b.key }],
    ["B's key naming A's org in X-Org-Id", { key: b.key, headers: { 'x-org-id': a.orgId } }],
    ["B's owner session", { key: b.sessionToken }],
    ["B's owner session naming A's org in X-Org-Id", { key: b.sessionToken, headers: { 'x-org-id': a.orgId } }],
  ];
  for (const op of mustCover) {
    const params = paramsOf(op);
    for (const [label, opts] of callers) {
      const res = await call(op, { ...opts, params, body: bodyFor(op, objects) });
      assertEnvelope(res, 404, 'not_found', `${op.id} by ${label} on A's ${JSON.stringify(params)}`);
      assert.doesNotMatch(res.body.message, /forbidden|not allowed|another org/i, `${op.id}: the 404 does not hint the object exists`);
    }
    exercised.add(op.id);
  }
  assert.deepEqual([...exercised].sort(), mustCover.map((op) => op.id).sort(), 'every operation with a path id was exercised');

  // Nothing of A changed.
  const key = await app.request('GET', `/api/v1/keys/${objects.key.id}`, { key: a.key });
  assert.equal(key.status, 200);
  assert.equal(key.body.name, 'a-target');
  assert.equal(key.body.status, 'active');
  assert.deepEqual(key.body.scopes, ['*']);
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: objects.key.secret })).status, 200, "A's targeted key still works");
  const hook = await app.request('GET', `/api/v1/webhooks/${objects.webhook?.webhookId}`, { key: a.key });
  assert.equal(hook.status, 200);
  assert.equal(hook.body.enabled, true);
  assert.deepEqual(hook.body.event_types, ['*']);
  assert.equal(hook.body.description, null);
  const agent = await app.request('GET', `/api/v1/agents/${objects.agents?.agentId}`, { key: a.key });
  assert.equal(agent.body.status, 'active');
  assert.equal(agent.body.display_name, null);
  const template = await app.request('GET', `/api/v1/templates/${objects.agents?.templateId}`, { key: a.key });
  assert.equal(template.body.archived_at, null);
  assert.equal(template.body.identity, 'You write.');
  const rules = await app.request('GET', '/api/v1/rules', { key: a.key });
  assert.deepEqual(
    rules.body.data.map((r: { text: string; enabled: boolean }) => [r.text, r.enabled]),
    [['Be brief.', true]],
  );
  const task = await app.request('GET', `/api/v1/tasks/${objects.tasks?.id}`, { key: a.key });
  assert.deepEqual([task.body.title, task.body.status, task.body.assignee, task.body.depends_on], ['A task of A', 'todo', null, []]);
  const doc = await app.request('GET', `/api/v1/documents/${objects.documents?.docId}`, { key: a.key });
  assert.deepEqual([doc.body.title, doc.body.revision, doc.body.folder_path], ['A document of A', 1, 'A folder']);
  const org = await app.request('GET', `/api/v1/orgs/${a.orgId}`, { key: a.key });
  assert.equal(org.status, 200);
  assert.doesNotMatch(org.body.name, /Hijacked/);
  const team = await app.request('GET', `/api/v1/teams/${objects.team?.id}`, { key: a.key });
  assert.deepEqual([team.body.name, team.body.member_count], ['A team', 1]);
  const secret = await app.request('GET', `/api/v1/credentials/${objects.team?.credential}`, { key: a.key });
  assert.equal(secret.body.value, 'a-secret-value');
  const members = await app.request('GET', '/api/v1/org/members', { key: a.key });
  assert.deepEqual(
    members.body.data.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
    [[a.userId, 'owner']],
  );

  // The positive control: A's own key reaches each of those objects (so B's 404s were about tenancy, not bad fixtures).
  // Destructive calls last, A's org deletion very last.
  const rank = (op: Operation) => (op.id === 'orgs.delete' ? 3 : op.id === 'keys.delete' ? 2 : op.method === 'GET' ? 0 : 1);
  for (const op of [...mustCover].sort((x, y) => rank(x) - rank(y))) {
    const res = await call(op, { key: a.key, params: paramsOf(op), body: bodyFor(op, objects) });
    assert.ok(res.status !== 404 && res.status < 500, `${op.id} by A on its own object: ${res.status} ${JSON.stringify(res.body)}`);
    if (op.method === 'GET') assert.equal(res.status, 200, op.id);
  }
});
