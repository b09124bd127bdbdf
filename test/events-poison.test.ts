// Issue 8 item 8: one bad event must not stall every org. A poison event — a `credits.low` row whose data is JSON
// null, so the real notification rule throws reading it — is set aside: the events behind it, of its org and of
// others, are dispatched; it is retried with backoff, then parked with its error, shown by `GET /events`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newId } from '../src/core/ids.ts';
import { dispatchEvents, MAX_DISPATCH_ATTEMPTS } from '../src/modules/events/dispatch.ts';
import { recordEvent } from '../src/modules/events/record.ts';
import { closeDb, sql } from './helpers/db.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const dispatch = () => dispatchEvents(app.app.services);

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
