// Workspace records (issue 12, BizBasics): idempotent upsert by (org, source_product, record_type, source_ref) —
// 201 created, 200 updated/unchanged, a revision only when the content changes, one row and one revision under 50
// concurrent identical calls — list with filters (limit/offset and cursor), get, delete, tenancy, bad input; and
// files and records as agent tools.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentExecutor, agentTools } from '../src/ai/tools.ts';
import { operations } from '../src/operations.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { runProcess } from './helpers/run-process.ts';

let app: TestApp;
let t: Tenant;
let other: Tenant;
before(async () => {
  app = await startTestApp();
  t = await app.tenant('Records');
  other = await app.tenant('Other');
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const upsert = (body: Record<string, unknown>, key = t.key) => app.request('POST', '/api/v1/records', { key, body });
const deal = { source_product: 'crm', record_type: 'deal', source_ref: 'deal_1', title: 'Acme — $42k', meta: { stage: 'negotiation', amount: 42000 } };
const revisions = async (id: string) => (await sql(app, 'select revision, title from workspace_record_revisions where record_id = $1 order by revision', [id])).map((r) => r.revision);

test('201 created, then 200 unchanged (no revision), then 200 updated (a revision); the event and index follow', async () => {
  const first = await upsert(deal);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.status, 'created');
  assert.match(first.body.workspace_record_id, /^rec_/);
  assert.equal(first.body.record.status, 'active');
  assert.equal(first.body.record.revision, 1);
  const id = first.body.workspace_record_id;

  // Same content with meta keys in another order: unchanged.
  const again = await upsert({ ...deal, meta: { amount: 42000, stage: 'negotiation' } });
  assert.equal(again.status, 200);
  assert.equal(again.body.status, 'unchanged');
  assert.equal(again.body.workspace_record_id, id);
  assert.deepEqual(await revisions(id), [1]);

  const changed = await upsert({ ...deal, title: 'Acme — $45k', summary_text: 'Renewal; awaiting legal review.' });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.status, 'updated');
  assert.equal(changed.body.record.revision, 2);
  assert.deepEqual(await revisions(id), [1, 2]);

  const listed = await app.request('GET', `/api/v1/records/${id}/revisions`, { key: t.key });
  assert.deepEqual(
    listed.body.data.map((r: { title: string }) => r.title),
    ['Acme — $42k', 'Acme — $45k'],
  );
  const events = await sql(app, "select data from events where type = 'record.upserted' and subject = $1 order by id", [id]);
  assert.deepEqual(
    events.map((e) => e.data.status),
    ['created', 'updated'],
  );
  const [entry] = await sql(app, "select title, body, meta from search_entries where kind = 'record' and object_id = $1", [id]);
  assert.equal(entry.title, 'Acme — $45k');
  assert.match(entry.body, /awaiting legal review/);
  assert.deepEqual(entry.meta, { record_type: 'deal', source_product: 'crm', source_ref: 'deal_1' });
  const activity = await sql(app, "select action from activity_log where entity_id = $1 order by id", [id]);
  assert.deepEqual(
    activity.map((a) => a.action),
    ['record.created', 'record.updated'],
  );
});

test('50 concurrent identical upserts: one row, one revision, one created', async () => {
  const body = { source_product: 'billing', record_type: 'invoice', source_ref: 'inv_777', title: 'Invoice 777', summary_text: 'Due 2027-01-31' };
  const results = await Promise.all(Array.from({ length: 50 }, () => upsert(body)));
  assert.ok(
    results.every((r) => r.status === 200 || r.status === 201),
    JSON.stringify(results.filter((r) => r.status >= 300).map((r) => r.body)),
  );
  assert.equal(results.filter((r) => r.body.status === 'created').length, 1);
  assert.equal(results.filter((r) => r.body.status === 'unchanged').length, 49);
  assert.equal(new Set(results.map((r) => r.body.workspace_record_id)).size, 1);
  const rows = await sql(app, "select id from workspace_records where org_id = $1 and source_ref = 'inv_777'", [t.orgId]);
  assert.equal(rows.length, 1);
  assert.deepEqual(await revisions(rows[0].id), [1]);
});

test('the BizBasics path and body shape work too; an org id in the body never reaches another org', async () => {
  const res = await app.request('POST', '/api/v1/workspace-records', {
    key: t.key,
    body: { org_id: t.orgId, source_product: 'my-product', record_type: 'deal', source_ref: 'deal_abc123', title: 'Acme Inc — $42k', subtitle: 'Closing 2026-03-15', app_href: 'https://my-product.example.com/deals/abc123' },
  });
  assert.equal(res.status, 201);
  assert.equal(res.body.record.app_href, 'https://my-product.example.com/deals/abc123');
  // The org is the key's: an org id in the body cannot aim the write at another org.
  const aimed = await upsert({ ...deal, source_ref: 'x', org_id: other.orgId });
  assert.equal(aimed.status, 201);
  assert.equal(aimed.body.record.org_id, t.orgId);
  assert.equal((await app.request('GET', '/api/v1/records', { key: other.key })).body.data.length, 0);
  const list = await app.request('GET', '/api/v1/workspace-records?source_product=my-product', { key: t.key });
  assert.equal(list.body.data.length, 1);
});

test('list filters by record_type, source_product, status; pages by offset and by cursor', async () => {
  for (const n of [1, 2, 3, 4]) {
    await upsert({ source_product: 'pm', record_type: 'ticket', source_ref: `t${n}`, title: `Ticket ${n}`, status: n === 4 ? 'closed' : 'open' });
  }
  const open = await app.request('GET', '/api/v1/records?record_type=ticket&status=open', { key: t.key });
  assert.deepEqual(
    open.body.data.map((r: { source_ref: string }) => r.source_ref),
    ['t3', 't2', 't1'],
  );
  const p1 = await app.request('GET', '/api/v1/records?source_product=pm&limit=3', { key: t.key });
  assert.equal(p1.body.meta.has_more, true);
  const p2 = await app.request('GET', `/api/v1/records?source_product=pm&limit=3&cursor=${p1.body.meta.next_cursor}`, { key: t.key });
  assert.deepEqual(
    p2.body.data.map((r: { source_ref: string }) => r.source_ref),
    ['t1'],
  );
  const off = await app.request('GET', '/api/v1/records?source_product=pm&limit=2&offset=2', { key: t.key });
  assert.deepEqual(
    off.body.data.map((r: { source_ref: string }) => r.source_ref),
    ['t2', 't1'],
  );
  assert.equal((await app.request('GET', '/api/v1/records?source_product=pm', { key: other.key })).body.data.length, 0);
});

test("get and delete; another org's record is a 404; bad input is a 400 that changes nothing", async () => {
  const made = await upsert({ ...deal, source_ref: 'deal_del' });
  const id = made.body.workspace_record_id;
  for (const [method, path] of [
    ['GET', `/api/v1/records/${id}`],
    ['GET', `/api/v1/records/${id}/revisions`],
    ['DELETE', `/api/v1/records/${id}`],
  ]) {
    assertEnvelope(await app.request(method, path, { key: other.key }), 404, 'not_found', `${method} ${path}`);
  }
  // The other org upserting the same key makes its own record: keys are per org.
  const theirs = await upsert({ ...deal, source_ref: 'deal_del' }, other.key);
  assert.equal(theirs.status, 201);
  assert.notEqual(theirs.body.workspace_record_id, id);

  const before = (await sql(app, 'select count(*)::int as n from workspace_records'))[0].n;
  for (const [body, field] of [
    [{ ...deal, title: '' }, 'title'],
    [{ ...deal, source_product: undefined }, 'source_product'],
    [{ ...deal, source_ref: 'has space' }, 'source_ref'],
    [{ ...deal, meta: 'not an object' }, 'meta'],
    [{ ...deal, tags: 'x' }, 'tags'],
  ] as const) {
    const res = await upsert(body as Record<string, unknown>);
    assertEnvelope(res, 400, 'invalid_request', field);
    assert.match(JSON.stringify(res.body.details), new RegExp(field));
  }
  assert.equal((await sql(app, 'select count(*)::int as n from workspace_records'))[0].n, before);

  assert.equal((await app.request('GET', `/api/v1/records/${id}`, { key: t.key })).body.title, deal.title);
  assert.equal((await app.request('DELETE', `/api/v1/records/${id}`, { key: t.key })).status, 200);
  assert.equal((await app.request('GET', `/api/v1/records/${id}`, { key: t.key })).status, 404);
  assert.equal((await sql(app, 'select 1 from workspace_record_revisions where record_id = $1', [id])).length, 0);
  assert.equal((await sql(app, "select 1 from search_entries where kind = 'record' and object_id = $1", [id])).length, 0);
});

test('files and records are agent tools: an agent may be given them, and calling them acts in its org', async () => {
  const tools = ['files.create', 'files.search', 'files.get', 'records.upsert', 'records.list'];
  const agent = await app.request('POST', '/api/v1/agents', { key: t.key, body: { name: 'archivist', tools } });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  assert.deepEqual([...agent.body.scopes].sort(), ['files:read', 'files:write', 'records:read', 'records:write']);

  const set = agentTools({ allow: tools, operations, executor: agentExecutor(app.app.server, t.key), allowPrivateNetwork: true });
  const call = (name: string, args: Record<string, unknown>) => (set[name] as { execute: (a: unknown, o: unknown) => Promise<any> }).execute(args, { toolCallId: name, messages: [] });
  const rec = await call('records_upsert', { source_product: 'agent', record_type: 'note', source_ref: 'n1', title: 'Noted by an agent' });
  assert.equal(rec.status, 'created');
  const file = await call('files_create', { name: 'memo.txt', content_base64: Buffer.from('agent memo').toString('base64') });
  assert.equal(file.result, 'created');
  const got = await call('files_get', { id: file.id });
  assert.equal(got.name, 'memo.txt');
});

test('CLI: `records upsert` publishes, and again reports unchanged', async () => {
  const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key };
  const args = ['--json', 'records', 'upsert', '--source-product', 'crm', '--record-type', 'deal', '--source-ref', 'deal_cli', '--title', 'Acme — $42k'];
  const first = await runProcess(args, env);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).status, 'created');
  const second = await runProcess(args, env);
  assert.equal(JSON.parse(second.stdout).status, 'unchanged');
});
