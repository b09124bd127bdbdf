// Search over a real PostgreSQL: ranked words (title above body), the last word as a prefix, substrings of URLs and
// codes through pg_trgm, snippets escaped with the matches marked, counts capped, groups only for what the caller
// may read, and another org's entries never found. Entries go in through indexEntry, as the owning modules do.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { indexEntry } from '../src/modules/search/entries.ts';
import { BIG_ORG_SHARE, RANK_CAP } from '../src/modules/search/postgres-fts.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let other: Tenant;
const db = () => app.app.services.database.db;
const get = (path: string, key = app.admin.key) => app.request('GET', `/api/v1${path}`, { key });

before(async () => {
  app = await startTestApp();
  other = await app.tenant('other');
  const org = app.admin.orgId;
  await indexEntry(db(), {
    orgId: org,
    kind: 'document',
    objectId: 'doc_refundpolicy',
    title: 'Refund policy',
    body: 'Customers may ask for a refund within 30 days. See https://help.acme.example/billing/refund-window-2026 for the form. <script>alert(1)</script>',
    meta: { folder: 'Policies' },
  });
  await indexEntry(db(), {
    orgId: org,
    kind: 'document',
    objectId: 'doc_onboarding',
    title: 'Onboarding checklist',
    body: 'Set up the account. Refunds are handled by billing, not by onboarding.',
    meta: { folder: 'Guides' },
  });
  await indexEntry(db(), {
    orgId: org,
    kind: 'record',
    objectId: 'wrec_deal1',
    title: 'Acme — $42k',
    body: 'Deal INV-2024-0042 for the annual plan',
    meta: { record_type: 'deal', source_product: 'crm' },
  });
  await indexEntry(db(), { orgId: other.orgId, kind: 'document', objectId: 'doc_theirs', title: 'Refund policy of the other org', body: 'refund' });
});
after(() => app?.close());

test('retrieve ranks a title match above a body match, with an escaped snippet marking the words', async () => {
  const res = await get('/org/retrieve?q=refund');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(
    res.body.data.map((h: { id: string }) => h.id),
    ['doc_refundpolicy', 'doc_onboarding'],
    'the other org’s document is never found; the title match comes first',
  );
  const [first] = res.body.data;
  assert.deepEqual(first.where, { folder: 'Policies' });
  assert.match(first.snippet, /<mark>refund<\/mark>/i);
  assert.doesNotMatch(first.snippet, /<script>/, 'body text is escaped');
  assert.deepEqual(res.body.total, { value: 2, capped: false, label: '2' });
});

test('a partial last word is found (prefix), and so is a part of a URL or a code (substring)', async () => {
  const partial = await get('/org/retrieve?q=onboard%20checkl');
  assert.deepEqual(
    partial.body.data.map((h: { id: string }) => h.id),
    ['doc_onboarding'],
  );
  const url = await get(`/org/retrieve?q=${encodeURIComponent('refund-window-2026')}`);
  assert.equal(url.body.data[0]?.id, 'doc_refundpolicy', JSON.stringify(url.body));
  assert.equal(url.body.data[0].matched, 'substring');
  assert.match(url.body.data[0].snippet, /<mark>refund-window-2026<\/mark>/);
  const code = await get('/org/retrieve?q=2024-0042');
  assert.deepEqual(
    code.body.data.map((h: { id: string }) => h.id),
    ['wrec_deal1'],
  );
});

test('record_type and product narrow retrieve to records', async () => {
  const deals = await get('/org/retrieve?q=annual&record_type=deal&product=crm');
  assert.deepEqual(
    deals.body.data.map((h: { id: string; kind: string }) => [h.kind, h.id]),
    [['record', 'wrec_deal1']],
  );
  const none = await get('/org/retrieve?q=annual&record_type=invoice');
  assert.deepEqual(none.body.data, []);
});

test('global search groups by type; a key without a resource’s read scope gets no group for it', async () => {
  await app.request('POST', '/api/v1/tasks', { key: app.admin.key, body: { title: 'Process the refund for Acme' } });
  const all = await get('/search?q=refund');
  assert.equal(all.status, 200, JSON.stringify(all.body));
  const byKind = Object.fromEntries(all.body.groups.map((g: { kind: string }) => [g.kind, g]));
  assert.deepEqual(Object.keys(byKind).sort(), ['agent', 'document', 'file', 'record', 'task']);
  assert.equal(byKind.task.hits[0].title, 'Process the refund for Acme');
  assert.match(byKind.task.hits[0].path, /^\/tasks\/\d+$/);
  assert.equal(byKind.document.total.value, 2);
  assert.equal(byKind.file.total.value, 0);

  const key = await app.request('POST', '/api/v1/keys', { key: app.admin.key, body: { name: 'search only', scopes: ['search:read', 'documents:read'] } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const narrow = await get('/search?q=refund', key.body.secret);
  assert.deepEqual(
    narrow.body.groups.map((g: { kind: string }) => g.kind),
    ['document'],
  );
  const noScope = await get('/search?q=refund', (await app.request('POST', '/api/v1/keys', { key: app.admin.key, body: { name: 'tasks', scopes: ['tasks:read'] } })).body.secret);
  assert.equal(noScope.status, 403, 'search:read is needed');
  const searchOnly = (await app.request('POST', '/api/v1/keys', { key: app.admin.key, body: { name: 'bare', scopes: ['search:read'] } })).body.secret;
  const bare = await get('/org/retrieve?q=refund', searchOnly);
  assert.equal(bare.status, 403, 'nothing readable: said, not an empty answer');
  assert.match(bare.body.message, /documents:read/);
});

test('counts stop at the cap: past it the label says so instead of counting', async () => {
  const rows = Array.from({ length: RANK_CAP + 5 }, (_, i) => `('${app.admin.orgId}', 'record', 'wrec_bulk${i}', 'Bulk ${i}', 'common widget text')`);
  await app.app.services.database.pool.query(`insert into search_entries (org_id, kind, object_id, title, body) values ${rows.join(',')}`);
  const res = await get('/org/retrieve?q=widget&limit=5');
  assert.deepEqual(res.body.total, { value: RANK_CAP, capped: true, label: `${RANK_CAP.toLocaleString('en-US')}+` });
  assert.equal(res.body.data.length, 5);
  assert.equal(res.body.meta.has_more, true);
});

test('a common word (by the statistics) is looked for among the newest entries: their best come first, the count a lower bound', async () => {
  const owner = await app.tenant('common words');
  const org = owner.orgId;
  const rows = Array.from(
    { length: 3000 },
    (_, i) => `('${org}', 'document', 'doc_cw${i}', 'Note ${i}', 'a walrus ${i % 2 ? 'walrus walrus' : 'and more'}', now() - make_interval(secs => ${i}))`,
  );
  const pool = app.app.services.database.pool;
  await pool.query(`insert into search_entries (org_id, kind, object_id, title, body, updated_at) values ${rows.join(',')}`);
  await pool.query('analyze search_entries');
  await pool.query(`select opsbase_refresh_term_stats('search_entries', 'tsv')`); // what the maintenance job does
  const { rows: share } = await pool.query(`select opsbase_text_share('search_entries', to_tsquery('english', 'walrus')) as s`);
  assert.ok(share[0].s >= 0.005, `walrus is common: ${share[0].s}`);
  const res = await app.request('GET', '/api/v1/org/retrieve?q=walrus&limit=3', { key: owner.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.data.length, 3);
  assert.ok(
    res.body.data.every((h: { id: string }) => Number(h.id.slice('doc_cw'.length)) % 2 === 1),
    'the entries saying it three times rank first',
  );
  assert.equal(res.body.total.capped, true);
  assert.match(res.body.total.label, /^[\d,]+\+$/);
});

test('bad input is a 400 naming the field', async () => {
  const empty = await get('/org/retrieve?q=%20');
  assert.equal(empty.status, 400);
  assert.equal(empty.body.details[0].field, 'q', JSON.stringify(empty.body));
  const types = await get('/search?q=x&types=task,planets');
  assert.equal(types.status, 400);
  assert.equal(types.body.details[0].field, 'types', JSON.stringify(types.body));
  assert.match(types.body.message, /planets/);
});

test('a record upserted through the API is found by retrieve, narrowed by its type and product', async () => {
  const body = { source_product: 'crm', record_type: 'deal', source_ref: 'deal_77', title: 'Globex renewal', summary_text: 'Renewal of the kumquat plan' };
  const up = await app.request('POST', '/api/v1/records', { key: app.admin.key, body });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const hit = await get('/org/retrieve?q=kumquat&record_type=deal&product=crm');
  assert.deepEqual(
    hit.body.data.map((h: { kind: string; where: Record<string, unknown> }) => [h.kind, h.where.record_type, h.where.source_product]),
    [['record', 'deal', 'crm']],
  );
  const otherProduct = await get('/org/retrieve?q=kumquat&product=billing');
  assert.deepEqual(otherProduct.body.data, []);
});

test('an org holding most of the entries reads a rare word with the org as a filter: the same hits, never another org’s', async () => {
  const pool = app.app.services.database.pool;
  const big = await app.tenant('big org');
  const small = await app.tenant('small org');
  const { rows: before } = await pool.query<{ n: number }>('select count(*)::int as n from search_entries');
  // Twice what the table holds, so the org is most of it whatever the other tests left.
  await pool.query(
    `insert into search_entries (org_id, kind, object_id, title, body)
     select $1, 'document', 'doc_big' || g, 'Memo ' || g, case when g % 500 = 0 then 'the quokka report' else 'plain memo text' end
     from generate_series(1, $2::int) g`,
    [big.orgId, 2 * before[0].n + 1000],
  );
  for (const i of [1, 2, 3]) await indexEntry(db(), { orgId: small.orgId, kind: 'document', objectId: `doc_smallq${i}`, title: `Quokka ${i}`, body: 'quokka' });
  await pool.query('analyze search_entries');
  await pool.query(`select opsbase_refresh_term_stats('search_entries', 'tsv')`); // what the maintenance job does
  const share = async (org: string) => (await pool.query(`select opsbase_org_share('search_entries', $1) as s`, [org])).rows[0].s as number;
  assert.ok((await share(big.orgId)) >= BIG_ORG_SHARE, 'the big org is big by the statistics');
  assert.ok((await share(small.orgId)) < BIG_ORG_SHARE, 'the small org is not');

  const ids = async (key: string) => (await app.request('GET', '/api/v1/org/retrieve?q=quokka&limit=50', { key })).body.data.map((h: { id: string }) => h.id).sort();
  const bigIds = await ids(big.key);
  const { rows: expected } = await pool.query(`select object_id from search_entries where org_id = $1 and body like '%quokka%' order by 1`, [big.orgId]);
  assert.ok(expected.length >= 4);
  assert.deepEqual(bigIds, expected.map((r) => r.object_id).sort());
  assert.deepEqual(await ids(small.key), ['doc_smallq1', 'doc_smallq2', 'doc_smallq3']);
});
