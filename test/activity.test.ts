// Activity log (issue 2, scope 9): writing entries as the caller, filtering, cursor pagination, stats, tenancy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

interface Entry {
  id: string;
  org_id: string;
  actor_type: string;
  actor_id: string;
  action: string;
  entity_type: string;
  entity_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
}

async function post(key: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<Entry> {
  const res = await app.request('POST', '/api/v1/activity-log', { key, body, headers });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function list(t: Tenant, query: string): Promise<Entry[]> {
  const res = await app.request('GET', `/api/v1/activity-log?${query}`, { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

test('POST /activity-log records the caller as the actor', async () => {
  const t = await app.tenant('Writer');
  const byKey = await post(t.key, { action: 'deploy.finished', entity_type: 'deployment', entity_id: 'dep_42', metadata: { version: '1.2.3' } });
  assert.match(byKey.id, /^act_/);
  assert.equal(byKey.org_id, t.orgId);
  assert.equal(byKey.actor_type, 'system');
  assert.equal(byKey.actor_id, t.keyId);
  assert.equal(byKey.action, 'deploy.finished');
  assert.equal(byKey.entity_type, 'deployment');
  assert.equal(byKey.entity_id, 'dep_42');
  assert.equal(byKey.metadata.version, '1.2.3');
  assert.ok(Math.abs(Date.parse(byKey.created_at) - Date.now()) < 60_000);

  const bySession = await post(t.sessionToken, { action: 'note.added', entity_type: 'note' }, { 'x-org-id': t.orgId });
  assert.equal(bySession.actor_type, 'user');
  assert.equal(bySession.actor_id, t.userId);
  assert.equal(bySession.entity_id, null);
  assert.deepEqual(bySession.metadata, {});

  // The body cannot name another actor or org.
  const spoof = await post(t.key, { action: 'spoof.tried', entity_type: 'x', actor_type: 'user', actor_id: 'usr_someone', org_id: 'org_other' });
  assert.equal(spoof.actor_type, 'system');
  assert.equal(spoof.actor_id, t.keyId);
  assert.equal(spoof.org_id, t.orgId);

  for (const bad of [{ entity_type: 'x' }, { action: 'has spaces', entity_type: 'x' }, { action: 'ok', entity_type: 'x', metadata: 'str' }]) {
    const res = await app.request('POST', '/api/v1/activity-log', { key: t.key, body: bad });
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.equal(res.body.error, 'invalid_request');
  }
  // A key without activity:write cannot write.
  const reader = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'r', scopes: ['activity:read'] } });
  assert.equal((await app.request('POST', '/api/v1/activity-log', { key: reader.body.secret, body: { action: 'a', entity_type: 'b' } })).status, 403);
  assert.equal((await app.request('GET', '/api/v1/activity-log', { key: reader.body.secret })).status, 200);
});

test('list filters by actor_type, actor_id, action and entity_type', async () => {
  const t = await app.tenant('Filters');
  const second = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'second', scopes: ['*'] } });
  assert.equal(second.status, 201);
  const k2 = second.body as { id: string; secret: string };
  const inOrg = { 'x-org-id': t.orgId };
  await post(t.key, { action: 'f.ship', entity_type: 'order', entity_id: 'o1' });
  await post(t.key, { action: 'f.ship', entity_type: 'order', entity_id: 'o2' });
  await post(k2.secret, { action: 'f.refund', entity_type: 'order', entity_id: 'o1' });
  await post(t.sessionToken, { action: 'f.ship', entity_type: 'parcel', entity_id: 'p1' }, inOrg);

  // Order is checked by the pagination test; here only which rows match.
  const ids = (rows: Entry[]) => rows.map((r) => r.entity_id).sort();
  assert.deepEqual(ids(await list(t, 'action=f.ship')), ['o1', 'o2', 'p1']);
  assert.deepEqual(ids(await list(t, 'action=f.refund')), ['o1']);
  assert.deepEqual(ids(await list(t, 'entity_type=parcel')), ['p1']);
  assert.deepEqual(ids(await list(t, 'entity_type=order&action=f.ship')), ['o1', 'o2']);
  assert.deepEqual(ids(await list(t, `actor_id=${k2.id}`)), ['o1']);
  assert.deepEqual(ids(await list(t, `actor_type=user&action=f.ship`)), ['p1']);
  assert.deepEqual(ids(await list(t, `actor_type=system&action=f.ship`)), ['o1', 'o2']);
  assert.deepEqual(ids(await list(t, 'entity_type=order&entity_id=o1')), ['o1', 'o1']);
  // Every user-made row in this org so far is the owner's.
  const users = await list(t, 'actor_type=user');
  assert.ok(users.length >= 2);
  assert.ok(users.every((r) => r.actor_type === 'user' && r.actor_id === t.userId));
  assert.deepEqual(await list(t, 'action=f.nothing'), []);
  const bad = await app.request('GET', '/api/v1/activity-log?actor_type=robot', { key: t.key });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_request');
});

test('cursor pagination walks every entry once, newest first', async () => {
  const t = await app.tenant('Pages');
  const made: string[] = [];
  for (let i = 0; i < 11; i++) made.push((await post(t.key, { action: 'page.step', entity_type: 'step', entity_id: `s${i}` })).id);

  const seen: Entry[] = [];
  let cursor: string | null = null;
  let pages = 0;
  for (;;) {
    const q: string = `action=page.step&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await app.request('GET', `/api/v1/activity-log?${q}`, { key: t.key });
    assert.equal(res.status, 200);
    assert.equal(res.body.meta.limit, 4);
    assert.ok(res.body.data.length <= 4);
    seen.push(...res.body.data);
    pages++;
    if (!res.body.meta.has_more) {
      assert.equal(res.body.meta.next_cursor, null);
      break;
    }
    assert.equal(res.body.data.length, 4);
    assert.equal(typeof res.body.meta.next_cursor, 'string');
    cursor = res.body.meta.next_cursor;
    assert.ok(pages < 10, 'pagination terminates');
  }
  assert.equal(pages, 3);
  // Ids are time-sortable: newest first is descending id order (ties within a millisecond included).
  const newestFirst = [...made].sort().reverse();
  assert.deepEqual(
    seen.map((e) => e.id),
    newestFirst,
    'every entry once, newest first',
  );
  assert.equal(new Set(seen.map((e) => e.id)).size, seen.length);
  for (let i = 1; i < seen.length; i++) assert.ok(Date.parse(seen[i - 1].created_at) >= Date.parse(seen[i].created_at));

  const badCursor = await app.request('GET', '/api/v1/activity-log?cursor=not-a-cursor', { key: t.key });
  assert.equal(badCursor.status, 400);
  const tooBig = await app.request('GET', '/api/v1/activity-log?limit=201', { key: t.key });
  assert.equal(tooBig.status, 400);
  // Offset paging works too.
  const offset = await list(t, 'action=page.step&limit=2&offset=9');
  assert.deepEqual(
    offset.map((e) => e.id),
    newestFirst.slice(9),
  );
});

test('stats count by action, actor type and entity type', async () => {
  const t = await app.tenant('Stats');
  const before = (await app.request('GET', '/api/v1/activity-log/stats', { key: t.key })).body;
  for (let i = 0; i < 3; i++) await post(t.key, { action: 'stat.alpha', entity_type: 'thing' });
  await post(t.key, { action: 'stat.beta', entity_type: 'widget' });
  await post(t.sessionToken, { action: 'stat.beta', entity_type: 'widget' }, { 'x-org-id': t.orgId });

  const res = await app.request('GET', '/api/v1/activity-log/stats', { key: t.key });
  assert.equal(res.status, 200);
  const s = res.body;
  assert.equal(s.period_days, 30);
  assert.equal(s.by_action['stat.alpha'], 3);
  assert.equal(s.by_action['stat.beta'], 2);
  assert.equal(s.by_entity_type.thing, 3);
  assert.equal(s.by_entity_type.widget, 2);
  assert.equal(s.total, before.total + 5);
  assert.equal(s.last_24h, s.total);
  assert.equal(s.in_period, s.total);
  assert.equal(s.by_actor_type.system, (before.by_actor_type.system ?? 0) + 4);
  assert.equal(s.by_actor_type.user, (before.by_actor_type.user ?? 0) + 1);
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  assert.equal(sum(s.by_action), s.total);
  assert.equal((await app.request('GET', '/api/v1/activity-log/stats?days=0', { key: t.key })).status, 400);
});

test("another org sees none of this org's activity", async () => {
  const a = await app.tenant('Alpha');
  const b = await app.tenant('Beta');
  const entry = await post(a.key, { action: 'secret.plan', entity_type: 'plan', entity_id: 'world-domination' });
  assert.deepEqual(await list(b, 'action=secret.plan'), []);
  assert.deepEqual(await list(b, 'entity_type=plan'), []);
  assert.deepEqual(await list(b, `actor_id=${a.keyId}`), []);
  const all = await list(b, 'limit=200');
  assert.ok(all.length > 0, 'B has its own entries');
  assert.ok(all.every((e) => e.org_id === b.orgId));
  assert.ok(!all.some((e) => e.id === entry.id));
  const stats = (await app.request('GET', '/api/v1/activity-log/stats', { key: b.key })).body;
  assert.equal(stats.by_action['secret.plan'], undefined);
  assert.equal(stats.total, all.length);
  // B's session, pointing X-Org-Id at A, is refused as not found.
  assert.equal((await app.request('GET', '/api/v1/activity-log', { key: b.sessionToken, headers: { 'x-org-id': a.orgId } })).status, 404);
  // A sees it.
  assert.deepEqual(
    (await list(a, 'action=secret.plan')).map((e) => e.id),
    [entry.id],
  );
});
