// Seat limits (issue 3 §5): the tier's `limits.seats` is enforced when a member is added, an invite is sent and an
// invite is accepted; pending invites reserve seats; concurrent claims of the last seat → exactly one wins; the
// refusal is 422 `unprocessable` naming the limit, the count and how to upgrade; quota status reports the members.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Account, closeDb, register, sql } from './helpers/db.ts';
import { startWithTiers } from './helpers/billing-config.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import type { Response, Tenant, TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startWithTiers({ free: { seats: 2 }, team: { seats: 4 }, open: { seats: -1 } }, { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' });
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const addMember = (t: Tenant, userId: string) =>
  app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: userId, role: 'member' } });
const invite = (t: Tenant, email: string) => app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email } });
const accept = (who: Account, token: string) => app.request('POST', '/api/v1/invites/accept', { key: who.token, body: { token } });
const changePlan = async (t: Tenant, tier: string) => {
  const res = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
};
const members = async (t: Tenant) => Number((await sql(app, 'select count(*) from org_members where org_id = $1', [t.orgId]))[0].count);

function assertSeatRefusal(res: Response, seats: number, current: number, what: string) {
  assertEnvelope(res, 422, 'unprocessable', what);
  assert.match(res.body.message, new RegExp(`allows ${seats} seats and this org uses ${current}`), what);
  assert.match(res.body.message, /opsbase billing change-plan/, `${what}: says how to upgrade`);
  assert.equal(res.body.details.limit, 'seats');
  assert.equal(res.body.details.allowed, seats);
  assert.equal(res.body.details.current, current);
}

test('adding members stops at the seat limit with 422, and nothing is added', async () => {
  const t = await app.tenant('Full');
  const [a, b] = await Promise.all([register(app), register(app)]);
  assert.equal((await addMember(t, a.id)).status, 201, 'the second seat');
  const refused = await addMember(t, b.id);
  assertSeatRefusal(refused, 2, 2, 'a third member on 2 seats');
  assert.match(refused.body.message, /`free` tier/);
  assert.equal(await members(t), 2);
  const acts = await sql(app, `select 1 from activity_log where org_id = $1 and action = 'member.added'`, [t.orgId]);
  assert.equal(acts.length, 1, 'only the admitted member left an activity row');
  // Removing a member frees the seat.
  assert.equal((await app.request('DELETE', `/api/v1/org/members/${a.id}`, { key: t.key })).status, 200);
  assert.equal((await addMember(t, b.id)).status, 201);
});

test('a pending invite reserves a seat: a second invite or a direct add is refused while it is open', async () => {
  const t = await app.tenant('Reserve');
  const invitee = await register(app);
  const first = await invite(t, invitee.email);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const second = await invite(t, `other-${invitee.email}`);
  assertSeatRefusal(second, 2, 2, 'an invite past the seats');
  assert.equal(second.body.details.pending_invites, 1);
  assert.match(second.body.message, /1 members and 1 pending invites/);
  const outsider = await register(app);
  assertSeatRefusal(await addMember(t, outsider.id), 2, 2, 'a direct add while an invite holds the seat');
  // The reserved seat is there for the invitee.
  const ok = await accept(invitee, first.body.token);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(await members(t), 2);
  // An expired invite holds no seat.
  await changePlan(t, 'team');
  const late = await invite(t, `late-${invitee.email}`);
  assert.equal(late.status, 201);
  await sql(app, `update org_invites set expires_at = now() - interval '1 second' where id = $1`, [late.body.id]);
  assert.equal((await addMember(t, outsider.id)).status, 201, '2 members + 1 expired invite on 4 seats');
});

test('accepting is refused when the limit fell below the members since the invite was sent', async () => {
  const t = await app.tenant('Shrunk');
  await changePlan(t, 'team');
  const invitee = await register(app);
  const inv = await invite(t, invitee.email);
  assert.equal(inv.status, 201);
  await changePlan(t, 'free');
  const filler = await register(app);
  assert.equal((await addMember(t, filler.id)).status, 422, 'the open invite still holds the second seat');
  await sql(app, `insert into org_members (id, org_id, user_id, role) values ('mem_filler_' || md5(random()::text), $1, $2, 'member')`, [
    t.orgId,
    filler.id,
  ]);
  const refused = await accept(invitee, inv.body.token);
  assertSeatRefusal(refused, 2, 2, 'accepting with every seat taken');
  assert.match(refused.body.message, /\(2 members\)/);
  const [row] = await sql(app, 'select accepted_at from org_invites where id = $1', [inv.body.id]);
  assert.equal(row.accepted_at, null, 'the invite stays open');
});

test('two concurrent accepts for the last seat: exactly one succeeds', async () => {
  for (let round = 0; round < 3; round++) {
    const t = await app.tenant(`Race${round}`);
    await changePlan(t, 'team');
    const [x, y] = await Promise.all([register(app), register(app)]);
    const [ix, iy] = await Promise.all([invite(t, x.email), invite(t, y.email)]);
    assert.equal(ix.status, 201);
    assert.equal(iy.status, 201);
    // Down to 2 seats: the owner holds one, one is left for two invitees.
    await changePlan(t, 'free');
    const results = await Promise.all([accept(x, ix.body.token), accept(y, iy.body.token)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 422], JSON.stringify(results.map((r) => r.body)));
    assert.equal(await members(t), 2);
  }
});

test('ten concurrent adds for one free seat: exactly one is admitted', async () => {
  const t = await app.tenant('Rush');
  const users = await Promise.all(Array.from({ length: 10 }, () => register(app)));
  const results = await Promise.all(users.map((u) => addMember(t, u.id)));
  assert.equal(results.filter((r) => r.status === 201).length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results.filter((res) => res.status !== 201)) assertSeatRefusal(r, 2, 2, 'a losing add');
  assert.equal(await members(t), 2);
});

test('an unlimited tier (-1) admits any number; quota status counts seats as members', async () => {
  const t = await app.tenant('Open');
  await changePlan(t, 'open');
  const users = await Promise.all(Array.from({ length: 4 }, () => register(app)));
  for (const u of users) assert.equal((await addMember(t, u.id)).status, 201);
  const status = await app.request('GET', '/api/v1/quota/status', { key: t.key });
  assert.equal(status.status, 200);
  assert.deepEqual([status.body.quotas.seats.used, status.body.quotas.seats.limit, status.body.quotas.seats.remaining], [5, -1, -1]);
  // And a downgrade must fit the members (the existing rule), so the limit can never be below them by a plan change.
  const down = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'team' } });
  assertEnvelope(down, 422, 'unprocessable', 'downgrade below the members');
  const fresh = await app.tenant('Fresh');
  const s = await app.request('GET', '/api/v1/quota/status', { key: fresh.key });
  assert.deepEqual([s.body.quotas.seats.used, s.body.quotas.seats.limit, s.body.quotas.seats.remaining], [1, 2, 1]);
});
