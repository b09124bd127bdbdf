// Domain events and notifications (issue 4, scopes 4 and 6): events recorded with their cause, the catalog, the
// dispatcher's rules (idempotent), read / read-all / unread counts, who sees what, and org isolation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newId } from '../src/core/ids.ts';
import { dispatchEvents, MAX_DISPATCH_ATTEMPTS } from '../src/modules/events/dispatch.ts';
import { EVENT_TYPES, recordEvent } from '../src/modules/events/record.ts';
import { closeDb, sql } from './helpers/db.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const dispatch = () => dispatchEvents(app.app.services);
const events = async (t: Tenant, query = '') => (await app.request('GET', `/api/v1/events${query}`, { key: t.key })).body;
const session = (t: Tenant, org: Tenant = t) => ({ key: t.sessionToken, headers: { 'x-org-id': org.orgId } });

test('events.types lists the catalog, each with a description', async () => {
  const t = await app.tenant('Catalog');
  const res = await app.request('GET', '/api/v1/events/types', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const types = res.body.data.map((d: { type: string }) => d.type);
  for (const type of [
    'org.member_added',
    'org.member_removed',
    'key.created',
    'key.revoked',
    'credits.low',
    'credits.exhausted',
    'payment.succeeded',
    'plan.changed',
    'job.failed',
  ]) {
    assert.ok(types.includes(type), type);
  }
  assert.deepEqual(types, EVENT_TYPES);
  for (const d of res.body.data) assert.ok(d.description.length > 10, d.type);
  // Scope: events:read.
  const other = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'n', scopes: ['notifications:read'] } });
  assert.equal((await app.request('GET', '/api/v1/events/types', { key: other.body.secret })).status, 403);
});

test('events are recorded with their cause: members added / removed, keys created / revoked, jobs dead-lettered', async () => {
  const a = await app.tenant('EventsA');
  const b = await app.tenant('EventsB');
  const add = await app.request('POST', '/api/v1/org/members', { key: a.key, body: { user_id: b.userId, role: 'member' } });
  assert.equal(add.status, 201, JSON.stringify(add.body));
  const added = await events(a, '?type=org.member_added');
  assert.equal(added.data.length, 1);
  assert.equal(added.data[0].subject, b.userId);
  assert.equal(added.data[0].data.role, 'member');
  assert.equal(added.data[0].org_id, a.orgId);
  assert.equal(added.data[0].dispatched_at, null);
  assert.equal((await app.request('DELETE', `/api/v1/org/members/${b.userId}`, { key: a.key })).status, 200);
  assert.equal((await events(a, '?type=org.member_removed')).data[0].subject, b.userId);

  const key = await app.request('POST', '/api/v1/keys', { key: a.key, body: { name: 'ev' } });
  assert.equal((await events(a, `?type=key.created&subject=${key.body.id}`)).data.length, 1);
  assert.equal((await app.request('POST', `/api/v1/keys/${key.body.id}/revoke`, { key: a.key })).status, 200);
  assert.equal((await app.request('POST', `/api/v1/keys/${key.body.id}/revoke`, { key: a.key })).status, 200);
  assert.equal((await events(a, `?type=key.revoked`)).data.length, 1, 'revoking twice records one event');

  // A job failing on its last attempt is dead-lettered: job.failed.
  const job = await app.request('POST', '/api/v1/queue/jobs', { key: a.key, body: { queue: 'ev', task_type: 'boom', max_attempts: 1 } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  const claim = await app.request('POST', '/api/v1/queue/claim', { key: a.key, body: { worker_id: 'w1', queue: 'ev' } });
  assert.equal(claim.body.data?.[0]?.id ?? claim.body.jobs?.[0]?.id, job.body.id, JSON.stringify(claim.body));
  const fail = await app.request('POST', `/api/v1/queue/jobs/${job.body.id}/fail`, { key: a.key, body: { worker_id: 'w1', error: 'kaput' } });
  assert.equal(fail.status, 200, JSON.stringify(fail.body));
  const failed = await events(a, '?type=job.failed');
  assert.equal(failed.data.length, 1);
  assert.equal(failed.data[0].subject, job.body.id);
  assert.equal(failed.data[0].data.task_type, 'boom');

  // Pagination and isolation: B's events hold none of A's.
  const page = await events(a, '?limit=2');
  assert.equal(page.data.length, 2);
  assert.equal(page.meta.has_more, true);
  const next = await events(a, `?limit=2&cursor=${page.meta.next_cursor}`);
  assert.ok(next.data.every((e: { id: string }) => e.id < page.data[1].id));
  const bEvents = await events(b);
  assert.ok(bEvents.data.every((e: { org_id: string }) => e.org_id === b.orgId));
  assert.equal((await events(b, `?subject=${job.body.id}`)).data.length, 0);
});

test('dispatch: rules notify the right members, once, however often it runs', async () => {
  const a = await app.tenant('DispatchA');
  const admin = await app.tenant('DispatchAdmin');
  const viewer = await app.tenant('DispatchViewer');
  const other = await app.tenant('DispatchOther');
  await dispatch(); // what came before this test is not its business
  for (const [t, role] of [
    [admin, 'admin'],
    [viewer, 'viewer'],
  ] as const) {
    const res = await app.request('POST', '/api/v1/org/members', { key: a.key, body: { user_id: t.userId, role } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const db = app.app.services.database.db;
  await recordEvent(db, { orgId: a.orgId, type: 'credits.low', subject: a.orgId, data: { available: 5, threshold: 10 } });
  await recordEvent(db, { orgId: a.orgId, type: 'plan.changed', subject: a.orgId, data: { from: 'free', to: 'pro' } });
  await recordEvent(db, { orgId: other.orgId, type: 'credits.exhausted', subject: other.orgId, data: { available: 0 } });

  const first = await dispatch();
  assert.equal(first.busy, false);
  assert.ok(first.dispatched >= 5, JSON.stringify(first));
  const second = await dispatch();
  assert.equal(second.dispatched, 0);
  // Even a redone pass (events marked pending again, as after a crash) adds no duplicates.
  await sql(app, 'update events set dispatched_at = null where org_id = $1', [a.orgId]);
  const redo = await dispatch();
  assert.ok(redo.dispatched >= 4);
  assert.equal(redo.notifications, 0);

  const rows = await sql<{ user_id: string; type: string; event_id: string }>(
    app,
    'select user_id, type, event_id from notifications where org_id = $1 order by type, user_id',
    [a.orgId],
  );
  const byType = (type: string) =>
    rows
      .filter((r) => r.type === type)
      .map((r) => r.user_id)
      .sort();
  // member_added → owners and admins, not the member it is about; credits.low → owners and admins; plan → owners.
  assert.deepEqual(byType('org.member_added'), [a.userId, a.userId, admin.userId].sort());
  assert.deepEqual(byType('credits.low'), [a.userId, admin.userId].sort());
  assert.deepEqual(byType('plan.changed'), [a.userId]);
  assert.ok(
    rows.every((r) => r.user_id !== viewer.userId),
    'a viewer gets none of these',
  );
  assert.equal((await sql(app, 'select 1 from events where org_id = $1 and dispatched_at is null', [a.orgId])).length, 0);

  // Each person sees their own in the API; the other org's owner got the exhausted one, A's people did not.
  const mine = await app.request('GET', '/api/v1/notifications?type=credits.low', session(admin, a));
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  assert.equal(mine.body.data.length, 1);
  assert.equal(mine.body.data[0].title, 'Credits are running low');
  assert.match(mine.body.data[0].body, /5 credits left/);
  assert.equal(mine.body.data[0].user_id, admin.userId);
  const otherList = await app.request('GET', '/api/v1/notifications', session(other));
  assert.deepEqual(
    otherList.body.data.map((n: { type: string }) => n.type),
    ['credits.exhausted'],
  );
  const viewerList = await app.request('GET', '/api/v1/notifications', session(viewer, a));
  assert.equal(viewerList.body.data.length, 0);
  assert.equal(viewerList.body.unread, 0);
});

test('create, list, unread count, read and read-all; a session sees org-wide and its own, a key the org-wide', async () => {
  const a = await app.tenant('NotifA');
  const member = await app.tenant('NotifMember');
  await app.request('POST', '/api/v1/org/members', { key: a.key, body: { user_id: member.userId, role: 'member' } });
  const create = (body: Record<string, unknown>) => app.request('POST', '/api/v1/notifications', { key: a.key, body });
  const orgWide = await create({ title: 'Maintenance tonight', body: '22:00 UTC', type: 'system.maintenance' });
  assert.equal(orgWide.status, 201, JSON.stringify(orgWide.body));
  assert.equal(orgWide.body.user_id, null);
  assert.equal(orgWide.body.read, false);
  const forOwner = await create({ title: 'For the owner', user_id: a.userId });
  assert.equal(forOwner.status, 201);
  assert.equal(forOwner.body.type, 'custom');
  const forMember = await create({ title: 'For the member', user_id: member.userId, data: { x: 1 } });
  assert.equal(forMember.body.data.x, 1);
  // Not a member of the org → 422; bad input → 400.
  const stranger = await app.tenant('Stranger');
  assert.equal((await create({ title: 'x', user_id: stranger.userId })).status, 422);
  assert.equal((await create({ title: '' })).status, 400);

  const owner = session(a);
  const ownerList = await app.request('GET', '/api/v1/notifications', owner);
  assert.equal(ownerList.status, 200);
  assert.deepEqual(
    ownerList.body.data.map((n: { id: string }) => n.id),
    [forOwner.body.id, orgWide.body.id],
  );
  assert.equal(ownerList.body.unread, 2);
  assert.equal(ownerList.body.meta.has_more, false);
  const keyList = await app.request('GET', '/api/v1/notifications', { key: a.key });
  assert.deepEqual(
    keyList.body.data.map((n: { id: string }) => n.id),
    [orgWide.body.id],
  );
  assert.equal(keyList.body.unread, 1);
  const memberList = await app.request('GET', '/api/v1/notifications', session(member, a));
  assert.deepEqual(
    memberList.body.data.map((n: { id: string }) => n.id),
    [forMember.body.id, orgWide.body.id],
  );
  // The owner cannot read (or see) the member's own notification.
  assert.equal((await app.request('POST', `/api/v1/notifications/${forMember.body.id}/read`, owner)).status, 404);

  assert.deepEqual((await app.request('GET', '/api/v1/notifications/unread-count', owner)).body, { unread: 2 });
  const read = await app.request('POST', `/api/v1/notifications/${forOwner.body.id}/read`, owner);
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.equal(read.body.read, true);
  assert.ok(read.body.read_at);
  const again = await app.request('POST', `/api/v1/notifications/${forOwner.body.id}/read`, owner);
  assert.equal(again.body.read_at, read.body.read_at, 'reading twice keeps the first time');
  assert.deepEqual((await app.request('GET', '/api/v1/notifications/unread-count', owner)).body, { unread: 1 });
  const unreadOnly = await app.request('GET', '/api/v1/notifications?read=false', owner);
  assert.deepEqual(
    unreadOnly.body.data.map((n: { id: string }) => n.id),
    [orgWide.body.id],
  );
  const readOnly = await app.request('GET', '/api/v1/notifications?read=true', owner);
  assert.deepEqual(
    readOnly.body.data.map((n: { id: string }) => n.id),
    [forOwner.body.id],
  );
  const typed = await app.request('GET', '/api/v1/notifications?type=system.maintenance', owner);
  assert.equal(typed.body.data.length, 1);

  const all = await app.request('PATCH', '/api/v1/notifications/read-all', owner);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.deepEqual(all.body, { updated: 1, unread: 0 });
  // The member's own notification is untouched; the org-wide one is read for everyone.
  const memberAfter = await app.request('GET', '/api/v1/notifications/unread-count', session(member, a));
  assert.deepEqual(memberAfter.body, { unread: 1 });

  // Scopes: notifications:read cannot write.
  const reader = await app.request('POST', '/api/v1/keys', { key: a.key, body: { name: 'r', scopes: ['notifications:read'] } });
  assert.equal((await app.request('GET', '/api/v1/notifications', { key: reader.body.secret })).status, 200);
  assert.equal((await app.request('POST', '/api/v1/notifications', { key: reader.body.secret, body: { title: 'x' } })).status, 403);
  assert.equal((await app.request('PATCH', '/api/v1/notifications/read-all', { key: reader.body.secret })).status, 403);
});

test("org isolation: another org's notifications are neither listed nor readable (404)", async () => {
  const a = await app.tenant('IsoA');
  const b = await app.tenant('IsoB');
  const n = await app.request('POST', '/api/v1/notifications', { key: a.key, body: { title: 'A only' } });
  for (const opts of [{ key: b.key }, session(b), { key: b.key, headers: { 'x-org-id': a.orgId } }]) {
    const res = await app.request('POST', `/api/v1/notifications/${n.body.id}/read`, opts);
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.equal(res.body.error, 'not_found');
    const list = await app.request('GET', '/api/v1/notifications', opts);
    assert.ok(!list.body.data?.some((x: { id: string }) => x.id === n.body.id));
  }
  const bAll = await app.request('PATCH', '/api/v1/notifications/read-all', { key: b.key });
  assert.equal(bAll.body.updated, 0);
  const aCount = await app.request('GET', '/api/v1/notifications/unread-count', { key: a.key });
  assert.deepEqual(aCount.body, { unread: 1 });
  assert.equal((await events(b, `?subject=${a.keyId}`)).data.length, 0);
});

// Issue 8 item 8: one bad event must not stall every org. A poison event — a `credits.low` row whose data is JSON
// null, so the real notification rule throws reading it — is set aside: the events behind it, of its org and of
// others, are dispatched; it is retried with backoff, then parked with its error, shown by `GET /events`.
test('a poison event does not stop the next events of its org and others; it is retried with backoff, then parked with its error', async () => {
  const a = await app.tenant('PoisonA');
  const b = await app.tenant('PoisonB');
  await dispatch();
  const poison = newId('event');
  await sql(app, `insert into events (id, org_id, type, subject, data) values ($1, $2, 'credits.low', $2, 'null'::jsonb)`, [poison, a.orgId]);
  const db = app.app.services.database.db;
  const nextA = await recordEvent(db, { orgId: a.orgId, type: 'plan.changed', subject: a.orgId, data: { from: 'free', to: 'pro' } });
  const nextB = await recordEvent(db, { orgId: b.orgId, type: 'credits.exhausted', subject: b.orgId, data: { available: 0 } });

  const first = await dispatch();
  assert.equal(first.failed, 1, JSON.stringify(first));
  assert.ok(first.dispatched >= 2, JSON.stringify(first));
  const notified = await sql(app, `select event_id from notifications where event_id = any($1) order by event_id`, [[nextA.id, nextB.id]]);
  assert.deepEqual(notified.map((n) => n.event_id).sort(), [nextA.id, nextB.id].sort(), 'the events behind it fanned out');

  const read = async () => {
    const res = await app.request('GET', `/api/v1/events?type=credits.low&subject=${a.orgId}`, { key: a.key });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.find((e: { id: string }) => e.id === poison);
  };
  const once = await read();
  assert.equal(once.dispatched_at, null);
  assert.equal(once.dispatch_attempts, 1);
  assert.match(once.dispatch_error, /Cannot read properties of null/);
  assert.equal(once.parked_at, null);
  const wait = (Date.parse(once.next_dispatch_at) - Date.now()) / 1000;
  assert.ok(wait > 5 && wait <= 10, `retried in about 10 s (${wait})`);
  assert.ok((await app.request('GET', '/api/v1/events?state=dispatched', { key: a.key })).body.data.some((e: { id: string }) => e.id === nextA.id));

  // Not before its backoff: a pass now leaves it alone.
  assert.equal((await dispatch()).failed, 0);
  assert.equal((await read()).dispatch_attempts, 1);

  // Time passes (its retry comes due, each time): retried until its last attempt, then parked.
  for (let attempt = 2; attempt <= MAX_DISPATCH_ATTEMPTS; attempt++) {
    await sql(app, `update events set next_dispatch_at = now() where id = $1`, [poison]);
    const r = await dispatch();
    assert.equal(r.failed, 1, `attempt ${attempt}`);
    // Others still flow in between.
    const more = await recordEvent(db, { orgId: b.orgId, type: 'plan.changed', subject: b.orgId, data: { to: `t${attempt}` } });
    await dispatch();
    assert.ok((await sql(app, 'select dispatched_at from events where id = $1', [more.id]))[0].dispatched_at, `event behind attempt ${attempt}`);
  }
  const parked = await read();
  assert.equal(parked.dispatch_attempts, MAX_DISPATCH_ATTEMPTS);
  assert.ok(parked.parked_at, 'parked');
  assert.equal(parked.next_dispatch_at, null);
  assert.equal(parked.dispatched_at, null);
  assert.match(parked.dispatch_error, /Cannot read properties of null/);
  const listed = await app.request('GET', '/api/v1/events?state=parked', { key: a.key });
  assert.deepEqual(
    listed.body.data.map((e: { id: string }) => e.id),
    [poison],
  );
  assert.equal((await app.request('GET', '/api/v1/events?state=parked', { key: b.key })).body.data.length, 0, "another org's list");

  // Parked means left alone.
  await sql(app, `update events set next_dispatch_at = now() where id = $1`, [poison]);
  assert.equal((await dispatch()).failed, 0);
  assert.equal((await read()).dispatch_attempts, MAX_DISPATCH_ATTEMPTS);
});
