// Orgs (issue 2, scope 6): create, list, get, update, soft delete; members and the last-owner rule; invites;
// and the activity rows every mutation leaves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type Account, closeDb, lastMailTo, register, sql } from './helpers/db.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  // These tests are about membership, not seat limits (billing-seats.test.ts): lift the free tier's seats.
  const free = (await app.request('GET', '/api/v1/billing/tiers')).body.data.find((t: { id: string }) => t.id === 'free');
  const res = await app.request('PUT', '/api/v1/billing/tiers/free', {
    key: app.admin.sessionToken,
    body: { name: free.name, price_cents: free.price_cents, limits: { ...free.limits, seats: -1 } },
  });
  if (res.status !== 200) throw new Error(`lifting the seat limit failed: ${JSON.stringify(res.body)}`);
});
after(async () => {
  await closeDb(app);
  await app.close();
});

/** Acts in `orgId` with a user's session token. */
const as = (token: string, orgId: string) => ({ key: token, headers: { 'x-org-id': orgId } });
const tag = () => randomBytes(4).toString('hex');

async function member(t: Tenant, role: 'admin' | 'member' | 'viewer' | 'owner'): Promise<Account> {
  const u = await register(app);
  const res = await app.request('POST', '/api/v1/org/members', { ...as(t.sessionToken, t.orgId), body: { user_id: u.id, role } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return u;
}

async function activity(t: Tenant, query: string) {
  const res = await app.request('GET', `/api/v1/activity-log?${query}`, { key: t.key });
  assert.equal(res.status, 200);
  return res.body.data as {
    actor_type: string;
    actor_id: string;
    action: string;
    entity_type: string;
    entity_id: string;
    metadata: Record<string, unknown>;
  }[];
}

test('create: the creator owns it, the slug comes from the name, an explicit taken slug is 409', async () => {
  const u = await register(app);
  const t = tag();
  const res = await app.request('POST', '/api/v1/orgs', { key: u.token, body: { name: `Blue Whale Café ${t}` } });
  assert.equal(res.status, 201);
  assert.match(res.body.id, /^org_/);
  assert.equal(res.body.slug, `blue-whale-cafe-${t}`);
  assert.equal(res.body.role, 'owner');
  assert.equal(res.body.member_count, 1);
  assert.equal(res.body.plan, 'free');
  const who = await app.request('GET', '/api/v1/auth/me', { key: u.token });
  assert.deepEqual(who.body.orgs, [{ id: res.body.id, name: `Blue Whale Café ${t}`, slug: `blue-whale-cafe-${t}`, role: 'owner' }]);

  // The same name again gets a free slug of its own; an explicit taken slug is refused.
  const twin = await app.request('POST', '/api/v1/orgs', { key: u.token, body: { name: `Blue Whale Café ${t}` } });
  assert.equal(twin.status, 201);
  assert.notEqual(twin.body.slug, res.body.slug);
  assert.ok(twin.body.slug.startsWith(`blue-whale-cafe-${t}`));
  const taken = await app.request('POST', '/api/v1/orgs', { key: u.token, body: { name: 'Other', slug: res.body.slug } });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error, 'conflict');
  const bad = await app.request('POST', '/api/v1/orgs', { key: u.token, body: { name: 'Other', slug: 'Not A Slug' } });
  assert.equal(bad.status, 400);
  // An org is created by a user, not by a key.
  const t2 = await app.tenant();
  assert.equal((await app.request('POST', '/api/v1/orgs', { key: t2.key, body: { name: 'By key' } })).status, 403);
});

test('list mine shows only my orgs with my role', async () => {
  const u = await register(app);
  const a = (await app.request('POST', '/api/v1/orgs', { key: u.token, body: { name: 'Mine A' } })).body;
  const b = (await app.request('POST', '/api/v1/orgs', { key: u.token, body: { name: 'Mine B' } })).body;
  const other = await app.tenant('Not mine');
  const list = await app.request('GET', '/api/v1/orgs', { key: u.token });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((o: { id: string }) => o.id).sort(), [a.id, b.id].sort());
  assert.ok(list.body.data.every((o: { role: string }) => o.role === 'owner'));
  assert.equal(list.body.meta.has_more, false);
  const page = await app.request('GET', '/api/v1/orgs?limit=1', { key: u.token });
  assert.equal(page.body.data.length, 1);
  assert.equal(page.body.meta.has_more, true);
  const rest = await app.request('GET', `/api/v1/orgs?limit=1&cursor=${page.body.meta.next_cursor}`, { key: u.token });
  assert.equal(rest.body.data.length, 1);
  assert.notEqual(rest.body.data[0].id, page.body.data[0].id);
  assert.ok(!list.body.data.some((o: { id: string }) => o.id === other.orgId));
});

test('get shows the member count; update changes name, slug and avatar; 409 on a taken slug', async () => {
  const t = await app.tenant('Counted');
  await member(t, 'member');
  const got = await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: t.key });
  assert.equal(got.status, 200);
  assert.equal(got.body.id, t.orgId);
  assert.equal(got.body.member_count, 2);

  const slug = `renamed-${tag()}`;
  const upd = await app.request('PATCH', `/api/v1/orgs/${t.orgId}`, {
    key: t.key,
    body: { name: 'Renamed Inc', slug, avatar_url: 'https://cdn.example.com/a.png' },
  });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.name, 'Renamed Inc');
  assert.equal(upd.body.slug, slug);
  assert.equal(upd.body.avatar_url, 'https://cdn.example.com/a.png');
  const again = await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: t.sessionToken });
  assert.equal(again.body.name, 'Renamed Inc');
  assert.equal(again.body.role, 'owner');
  const clear = await app.request('PATCH', `/api/v1/orgs/${t.orgId}`, { key: t.key, body: { avatar_url: null } });
  assert.equal(clear.body.avatar_url, null);
  assert.equal(clear.body.name, 'Renamed Inc', 'fields not sent stay');

  const other = await app.tenant('Slug owner');
  const otherSlug = (await app.request('GET', `/api/v1/orgs/${other.orgId}`, { key: other.key })).body.slug;
  const taken = await app.request('PATCH', `/api/v1/orgs/${t.orgId}`, { key: t.key, body: { slug: otherSlug } });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error, 'conflict');
  // Keeping its own slug is not a conflict.
  assert.equal((await app.request('PATCH', `/api/v1/orgs/${t.orgId}`, { key: t.key, body: { slug } })).status, 200);
});

test("another org's id is not found, with a key or a non-member's session", async () => {
  const t = await app.tenant('Here');
  const other = await app.tenant('There');
  for (const key of [t.key, t.sessionToken]) {
    const get = await app.request('GET', `/api/v1/orgs/${other.orgId}`, { key });
    assert.equal(get.status, 404);
    assert.equal(get.body.error, 'not_found');
    assert.equal((await app.request('PATCH', `/api/v1/orgs/${other.orgId}`, { key, body: { name: 'Hijacked' } })).status, 404);
    assert.equal((await app.request('DELETE', `/api/v1/orgs/${other.orgId}`, { key })).status, 404);
  }
  // A session naming a foreign org in X-Org-Id gets 404 too.
  assert.equal((await app.request('GET', '/api/v1/org/members', as(t.sessionToken, other.orgId))).status, 404);
  assert.equal((await app.request('GET', `/api/v1/orgs/${other.orgId}`, { key: other.key })).body.name.startsWith('There'), true);
});

test('members: add by user id, change role, remove; 409 duplicate, 404 unknown user', async () => {
  const t = await app.tenant('Team');
  const u = await register(app);
  const add = await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: u.id, role: 'member' } });
  assert.equal(add.status, 201);
  assert.equal(add.body.user_id, u.id);
  assert.equal(add.body.role, 'member');
  assert.equal(add.body.email, u.email);
  const dup = await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: u.id, role: 'viewer' } });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error, 'conflict');
  const unknown = await app.request('POST', '/api/v1/org/members', {
    key: t.key,
    body: { user_id: 'usr_0000000000nosuchuser000000', role: 'member' },
  });
  assert.equal(unknown.status, 404);

  const list = await app.request('GET', '/api/v1/org/members', { key: t.key });
  assert.deepEqual(Object.fromEntries(list.body.data.map((m: { user_id: string; role: string }) => [m.user_id, m.role])), {
    [t.userId]: 'owner',
    [u.id]: 'member',
  });
  // The new member can act in the org with their own session.
  assert.equal((await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: u.token })).body.role, 'member');

  const upd = await app.request('PATCH', `/api/v1/org/members/${u.id}`, { key: t.key, body: { role: 'admin' } });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.role, 'admin');
  assert.equal((await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: u.token })).body.role, 'admin');
  assert.equal((await app.request('PATCH', '/api/v1/org/members/usr_nobody', { key: t.key, body: { role: 'admin' } })).status, 404);

  const rm = await app.request('DELETE', `/api/v1/org/members/${u.id}`, { key: t.key });
  assert.equal(rm.status, 200);
  assert.deepEqual(rm.body, { id: u.id, deleted: true });
  assert.equal((await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: u.token })).status, 404, 'a removed member loses access at once');
  assert.equal((await app.request('DELETE', `/api/v1/org/members/${u.id}`, { key: t.key })).status, 404);
});

test('the last owner can be neither removed nor demoted', async () => {
  const t = await app.tenant('Owned');
  const inOrg = as(t.sessionToken, t.orgId);
  const demote = await app.request('PATCH', `/api/v1/org/members/${t.userId}`, { ...inOrg, body: { role: 'admin' } });
  assert.equal(demote.status, 422);
  assert.equal(demote.body.error, 'unprocessable');
  const remove = await app.request('DELETE', `/api/v1/org/members/${t.userId}`, inOrg);
  assert.equal(remove.status, 422);
  assert.equal((await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: t.sessionToken })).body.role, 'owner');

  // With a second owner, the first may step down.
  const co = await member(t, 'owner');
  assert.equal((await app.request('PATCH', `/api/v1/org/members/${t.userId}`, { ...inOrg, body: { role: 'admin' } })).status, 200);
  // Now the co-owner is the last owner.
  const coIn = as(co.token, t.orgId);
  assert.equal((await app.request('DELETE', `/api/v1/org/members/${co.id}`, coIn)).status, 422);
  assert.equal((await app.request('PATCH', `/api/v1/org/members/${co.id}`, { ...coIn, body: { role: 'viewer' } })).status, 422);
});

test('viewers and members cannot manage members; only owners grant or take owner', async () => {
  const t = await app.tenant('Roles');
  const viewer = await member(t, 'viewer');
  const plain = await member(t, 'member');
  const admin = await member(t, 'admin');
  const outsider = await register(app);

  for (const u of [viewer, plain]) {
    const res = await app.request('POST', '/api/v1/org/members', { ...as(u.token, t.orgId), body: { user_id: outsider.id, role: 'viewer' } });
    assert.equal(res.status, 403, `${u.email} adding`);
    assert.equal(res.body.error, 'forbidden');
    assert.equal((await app.request('PATCH', `/api/v1/org/members/${viewer.id}`, { ...as(u.token, t.orgId), body: { role: 'admin' } })).status, 403);
    assert.equal((await app.request('DELETE', `/api/v1/org/members/${admin.id}`, as(u.token, t.orgId))).status, 403);
    assert.equal((await app.request('POST', '/api/v1/org/invites', { ...as(u.token, t.orgId), body: { email: 'x@example.com' } })).status, 403);
    // Reading is allowed.
    assert.equal((await app.request('GET', '/api/v1/org/members', as(u.token, t.orgId))).status, 200);
  }

  // An admin manages members, but cannot make or unmake owners; neither can a key.
  const adminIn = as(admin.token, t.orgId);
  assert.equal((await app.request('POST', '/api/v1/org/members', { ...adminIn, body: { user_id: outsider.id, role: 'viewer' } })).status, 201);
  assert.equal((await app.request('PATCH', `/api/v1/org/members/${viewer.id}`, { ...adminIn, body: { role: 'owner' } })).status, 403);
  assert.equal((await app.request('PATCH', `/api/v1/org/members/${t.userId}`, { ...adminIn, body: { role: 'member' } })).status, 403);
  assert.equal((await app.request('DELETE', `/api/v1/org/members/${t.userId}`, adminIn)).status, 403);
  assert.equal((await app.request('PATCH', `/api/v1/org/members/${viewer.id}`, { key: t.key, body: { role: 'owner' } })).status, 403);
  assert.equal((await app.request('POST', '/api/v1/org/invites', { ...adminIn, body: { email: 'boss@example.com', role: 'owner' } })).status, 403);
  // The owner can.
  const grant = await app.request('PATCH', `/api/v1/org/members/${viewer.id}`, { ...as(t.sessionToken, t.orgId), body: { role: 'owner' } });
  assert.equal(grant.status, 200);
  assert.equal(grant.body.role, 'owner');
});

test('invites: created once with a mailed token, listed while pending, accepted by the invited email only', async () => {
  const t = await app.tenant('Inviting');
  const email = `invitee-${tag()}@example.com`;
  const inv = await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email, role: 'admin' } });
  assert.equal(inv.status, 201);
  assert.match(inv.body.id, /^inv_/);
  assert.equal(inv.body.role, 'admin');
  assert.match(inv.body.token, /^obi_/);
  const days = (Date.parse(inv.body.expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);
  const mail = await lastMailTo(app, email);
  assert.ok(mail);
  assert.ok(mail.text.includes(inv.body.token), 'the mail carries the token');
  const stored = await sql(app, 'select token_hash from org_invites where id = $1', [inv.body.id]);
  assert.notEqual(stored[0].token_hash, inv.body.token);

  const dup = await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: email.toUpperCase(), role: 'member' } });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error, 'conflict');

  const pending = await app.request('GET', '/api/v1/org/invites', { key: t.key });
  assert.equal(pending.status, 200);
  assert.deepEqual(
    pending.body.data.map((i: { id: string }) => i.id),
    [inv.body.id],
  );
  assert.equal(pending.body.data[0].token, undefined, 'the token is never listed');

  const wrongUser = await register(app);
  const stolen = await app.request('POST', '/api/v1/invites/accept', { key: wrongUser.token, body: { token: inv.body.token } });
  assert.equal(stolen.status, 403);
  assert.equal((await app.request('POST', '/api/v1/invites/accept', { key: wrongUser.token, body: { token: 'obi_nope' } })).status, 404);

  const invitee = await register(app, { email });
  const ok = await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: inv.body.token } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.id, t.orgId);
  assert.equal(ok.body.role, 'admin');
  const members = await app.request('GET', '/api/v1/org/members', { key: t.key });
  assert.equal(members.body.data.find((m: { user_id: string }) => m.user_id === invitee.id)?.role, 'admin');
  assert.deepEqual((await app.request('GET', '/api/v1/org/invites', { key: t.key })).body.data, [], 'an accepted invite is no longer pending');
  const twice = await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: inv.body.token } });
  assert.equal(twice.status, 409);
});

test('an expired invite cannot be accepted, and a new one for that email is allowed', async () => {
  const t = await app.tenant('Expiring');
  const email = `late-${tag()}@example.com`;
  const inv = (await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email, role: 'viewer' } })).body;
  await sql(app, `update org_invites set expires_at = now() - interval '1 minute' where id = $1`, [inv.id]);
  const invitee = await register(app, { email });
  const late = await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: inv.token } });
  assert.equal(late.status, 422);
  assert.equal(late.body.error, 'unprocessable');
  assert.deepEqual((await app.request('GET', '/api/v1/org/invites', { key: t.key })).body.data, [], 'expired invites are not pending');

  const fresh = await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email, role: 'member' } });
  assert.equal(fresh.status, 201);
  assert.equal(
    (await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: inv.token } })).status,
    404,
    'the old token is void',
  );
  const ok = await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: fresh.body.token } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.role, 'member');
});

test('soft delete: owners only; then its keys stop working and it is not found', async () => {
  const t = await app.tenant('Doomed');
  const admin = await member(t, 'admin');
  const byAdmin = await app.request('DELETE', `/api/v1/orgs/${t.orgId}`, { key: admin.token });
  assert.equal(byAdmin.status, 403);
  assert.equal(byAdmin.body.error, 'forbidden');
  assert.equal((await app.request('DELETE', `/api/v1/orgs/${t.orgId}`, { key: t.key })).status, 403, 'not with a key either');
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).status, 200);

  const del = await app.request('DELETE', `/api/v1/orgs/${t.orgId}`, { key: t.sessionToken });
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { id: t.orgId, deleted: true });
  const dead = await app.request('GET', '/api/v1/whoami', { key: t.key });
  assert.equal(dead.status, 401);
  assert.equal(dead.body.error, 'unauthorized');
  for (const token of [t.sessionToken, admin.token]) {
    assert.equal((await app.request('GET', `/api/v1/orgs/${t.orgId}`, { key: token })).status, 404);
    assert.equal((await app.request('GET', '/api/v1/org/members', as(token, t.orgId))).status, 404);
  }
  const mine = await app.request('GET', '/api/v1/orgs', { key: t.sessionToken });
  assert.ok(!mine.body.data.some((o: { id: string }) => o.id === t.orgId));
  // Soft: the row is kept, marked deleted.
  const [row] = await sql(app, 'select deleted_at from orgs where id = $1', [t.orgId]);
  assert.ok(row.deleted_at instanceof Date);
});

test('every mutation leaves an activity row naming its actor (user for sessions, system for keys)', async () => {
  const t = await app.tenant('Audited');
  const bySession = await register(app);
  const byKey = await register(app);
  await app.request('POST', '/api/v1/org/members', { ...as(t.sessionToken, t.orgId), body: { user_id: bySession.id, role: 'viewer' } });
  await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: byKey.id, role: 'member' } });
  await app.request('PATCH', `/api/v1/org/members/${byKey.id}`, { key: t.key, body: { role: 'admin' } });
  await app.request('DELETE', `/api/v1/org/members/${bySession.id}`, as(t.sessionToken, t.orgId));
  await app.request('PATCH', `/api/v1/orgs/${t.orgId}`, { key: t.key, body: { name: 'Audited again' } });
  const inv = await app.request('POST', '/api/v1/org/invites', { ...as(t.sessionToken, t.orgId), body: { email: `audit-${tag()}@example.com` } });
  assert.equal(inv.status, 201);

  const added = await activity(t, 'action=member.added');
  assert.equal(added.length, 2);
  const bySubject = Object.fromEntries(added.map((a) => [a.entity_id, a]));
  assert.equal(bySubject[bySession.id].actor_type, 'user');
  assert.equal(bySubject[bySession.id].actor_id, t.userId);
  assert.equal(bySubject[bySession.id].metadata.role, 'viewer');
  assert.equal(bySubject[byKey.id].actor_type, 'system');
  assert.equal(bySubject[byKey.id].actor_id, t.keyId);

  const changed = await activity(t, 'action=member.role_changed');
  assert.equal(changed.length, 1);
  assert.deepEqual([changed[0].entity_id, changed[0].metadata.from, changed[0].metadata.to], [byKey.id, 'member', 'admin']);
  const removed = await activity(t, 'action=member.removed');
  assert.deepEqual(
    removed.map((a) => [a.entity_id, a.actor_type]),
    [[bySession.id, 'user']],
  );
  const created = await activity(t, 'action=org.created');
  assert.deepEqual(
    created.map((a) => [a.entity_id, a.actor_type, a.actor_id]),
    [[t.orgId, 'user', t.userId]],
  );
  assert.equal((await activity(t, 'action=org.updated')).length, 1);
  assert.deepEqual(
    (await activity(t, 'action=invite.created')).map((a) => a.entity_id),
    [inv.body.id],
  );
  assert.equal((await activity(t, 'action=key.created')).length, 1, 'the harness key');
});
