// wallet.transactions: the ledger of both wallets over HTTP, newest first, filtered by wallet, kind and time, in
// cursor pages; another org's entries are invisible; bad filters are 400 in the error envelope.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let t: Tenant;
const PATH = '/api/v1/wallet/transactions';

before(async () => {
  app = await startTestApp();
  t = await app.tenant('Ledger');
  const grant = async (body: object) => {
    const res = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, ...body } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  await grant({ credits: 500, reason: 'first' });
  await grant({ tokens: 300 });
  const spent = await app.request('POST', '/api/v1/tokens/consume', { key: t.key, body: { amount: 40, action: 'summarise', reference_id: 'r1' } });
  assert.equal(spent.status, 200, JSON.stringify(spent.body));
});
after(() => app?.close());

const list = (query: string, key = t.key) => app.request('GET', `${PATH}${query}`, { key });
type Entry = { id: string; currency: string; type: string; amount: number; balance_after: number; created_at: string };
const kinds = (data: Entry[]) => data.map((e) => `${e.currency}:${e.type}:${e.amount}`);

test('both wallets, newest first; or one wallet, one kind', async () => {
  const all = await list('');
  assert.equal(all.status, 200);
  assert.deepEqual(kinds(all.body.data), ['tokens:consume:-40', 'tokens:admin_grant:300', 'credits:admin_grant:500']);
  assert.deepEqual(kinds((await list('?currency=credits')).body.data), ['credits:admin_grant:500']);
  assert.deepEqual(kinds((await list('?currency=tokens&type=consume')).body.data), ['tokens:consume:-40']);
  assert.equal((await list('?currency=tokens')).body.data[0].balance_after, 260);
});

test('since is inclusive, until exclusive', async () => {
  const [newest, , oldest] = (await list('')).body.data as Entry[];
  const q = (since?: string, until?: string) =>
    list(`?${new URLSearchParams({ ...(since ? { since } : {}), ...(until ? { until } : {}) })}`).then((r) => kinds(r.body.data));
  assert.equal((await q(oldest.created_at)).length, 3);
  assert.deepEqual(await q(undefined, oldest.created_at), []);
  assert.deepEqual(await q(newest.created_at, new Date(Date.parse(newest.created_at) + 1).toISOString()), ['tokens:consume:-40']);
  assert.deepEqual(await q(new Date(Date.now() + 60_000).toISOString()), []);
  // An offset is accepted as well as Z.
  assert.equal((await q('2000-01-01T02:00:00+02:00')).length, 3);
});

test('cursor pages walk the whole ledger once', async () => {
  const first = await list('?limit=2');
  assert.equal(first.body.data.length, 2);
  assert.equal(first.body.meta.has_more, true);
  const second = await list(`?limit=2&cursor=${first.body.meta.next_cursor}`);
  assert.deepEqual(kinds(second.body.data), ['credits:admin_grant:500']);
  assert.equal(second.body.meta.has_more, false);
  assert.equal(second.body.meta.next_cursor, null);
});

test("another org sees none of this org's entries", async () => {
  const other = await app.tenant('Elsewhere');
  const res = await list('', other.key);
  assert.equal(res.status, 200);
  assert.ok(!(res.body.data as Entry[]).some((e) => ['admin_grant', 'consume'].includes(e.type)), JSON.stringify(res.body.data));
  // Nor by walking from this org's cursor.
  const cursor = (await list('?limit=1')).body.meta.next_cursor;
  assert.deepEqual((await list(`?cursor=${cursor}`, other.key)).body.data, []);
});

test('bad filters are 400 invalid_request naming the field, never a 500', async () => {
  for (const [query, field] of [
    ['?currency=dollars', 'currency'],
    ['?type=gift', 'type'],
    ['?since=yesterday', 'since'],
    ['?until=2030-13-01T00:00:00Z', 'until'],
    ['?since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z', 'until'],
    ['?since=2030-01-01T00:00:00Z&until=2030-01-01T00:00:00Z', 'until'],
    ['?limit=0', 'limit'],
  ]) {
    const res = await list(query);
    assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'invalid_request');
    assert.ok(res.body.request_id, 'the envelope carries the request id');
    assert.ok(
      (res.body.details as { field: string }[]).some((d) => d.field === field),
      `${query}: ${JSON.stringify(res.body.details)}`,
    );
  }
  assert.equal((await list('?cursor=not-a-cursor')).status, 400);
});
