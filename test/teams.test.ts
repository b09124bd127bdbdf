// Teams: create (the creator owns it), list with member counts, get with members, update, delete (admins only);
// members must be members of the org (another org's user: 404); invites by email — an org member joins at once, an
// outsider gets an org invite that puts them in the team when accepted; leaving the org leaves its teams.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, lastMailTo, register, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const call = (key: string, method: string, path: string, body?: unknown, orgId?: string) =>
  app.request(method, `/api/v1${path}`, { key, body, headers: orgId ? { 'x-org-id': orgId } : {} });

/** A registered user made a member of t's org with `role`; returns their session token. */
async function member(t: Tenant, role: 'admin' | 'member' | 'viewer') {
  const u = await register(app);
  const res = await call(t.key, 'POST', '/org/members', { user_id: u.id, role });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return u;
}

test('teams: create, list with counts, get with members, update, unique names, members add/remove', async () => {
  const t = await app.tenant('Teams');
  // A session creates: its user owns the team.
  const created = await call(t.sessionToken, 'POST', '/teams', { name: 'Support', description: 'First line' }, t.orgId);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const team = created.body;
  assert.match(team.id, /^team_/);
  assert.equal(team.member_count, 1);
  assertEnvelope(await call(t.key, 'POST', '/teams', { name: 'support' }), 409, 'conflict', 'the same name in another case');
  assertEnvelope(await call(t.key, 'POST', '/teams', { name: '' }), 400, 'invalid_request', 'an empty name');

  const bob = await member(t, 'member');
  const added = await call(t.key, 'POST', `/teams/${team.id}/members`, { user_id: bob.id });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.equal(added.body.role, 'member');
  assert.equal(added.body.org_role, 'member');
  assertEnvelope(await call(t.key, 'POST', `/teams/${team.id}/members`, { user_id: bob.id }), 409, 'conflict', 'twice');
  assertEnvelope(await call(t.key, 'POST', `/teams/${team.id}/members`, { user_id: 'usr_nobody' }), 404, 'not_found', 'no such user');

  const got = await call(t.key, 'GET', `/teams/${team.id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body.member_count, 2);
  assert.deepEqual(
    got.body.members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]).sort(),
    [
      [t.userId, 'owner'],
      [bob.id, 'member'],
    ].sort(),
  );

  await call(t.key, 'POST', '/teams', { name: 'Sales' });
  const list = await call(t.key, 'GET', '/teams');
  assert.deepEqual(
    list.body.data.map((x: { name: string; member_count: number }) => [x.name, x.member_count]),
    [
      ['Sales', 0],
      ['Support', 2],
    ],
  );
  assert.deepEqual(
    (await call(t.key, 'GET', '/teams?name=sup')).body.data.map((x: { name: string }) => x.name),
    ['Support'],
  );

  const renamed = await call(t.key, 'PATCH', `/teams/${team.id}`, { name: 'Customer support', description: null });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.name, 'Customer support');
  assert.equal(renamed.body.description, null);
  assertEnvelope(await call(t.key, 'PATCH', `/teams/${team.id}`, { name: 'SALES' }), 409, 'conflict', 'renamed onto another');

  const members = await call(t.key, 'GET', `/teams/${team.id}/members?limit=1`);
  assert.equal(members.body.data.length, 1);
  assert.equal(members.body.meta.has_more, true);
  const removed = await call(t.key, 'DELETE', `/teams/${team.id}/members/${bob.id}`);
  assert.equal(removed.status, 200);
  assertEnvelope(await call(t.key, 'DELETE', `/teams/${team.id}/members/${bob.id}`), 404, 'not_found', 'removed twice');
  assert.equal((await call(t.key, 'GET', `/teams/${team.id}`)).body.member_count, 1);

  const acts = await call(t.key, 'GET', '/activity-log?entity_type=team&limit=50');
  const actions = acts.body.data.map((a: { action: string }) => a.action);
  for (const a of ['team.created', 'team.updated', 'team.member_added', 'team.member_removed']) assert.ok(actions.includes(a), a);
});

test('teams: another org’s team and another org’s user are 404; leaving the org leaves its teams', async () => {
  const a = await app.tenant('A');
  const b = await app.tenant('B');
  const team = (await call(a.key, 'POST', '/teams', { name: 'Core' })).body;
  for (const [method, path, body] of [
    ['GET', `/teams/${team.id}`],
    ['PATCH', `/teams/${team.id}`, { name: 'x' }],
    ['DELETE', `/teams/${team.id}`],
    ['GET', `/teams/${team.id}/members`],
    ['POST', `/teams/${team.id}/members`, { user_id: b.userId }],
    ['GET', `/teams/${team.id}/invites`],
    ['POST', `/teams/${team.id}/invites`, { email: 'x@example.com' }],
  ] as const) {
    assertEnvelope(await call(b.key, method, path, body), 404, 'not_found', `${method} ${path} from another org`);
  }
  // B's owner is a user of the instance, but not of A's org.
  assertEnvelope(await call(a.key, 'POST', `/teams/${team.id}/members`, { user_id: b.userId }), 404, 'not_found', "another org's user");
  assert.equal((await call(b.key, 'GET', '/teams')).body.data.length, 0);

  const carol = await member(a, 'member');
  await call(a.key, 'POST', `/teams/${team.id}/members`, { user_id: carol.id });
  assert.equal((await call(a.key, 'GET', `/teams/${team.id}`)).body.member_count, 1);
  assert.equal((await call(a.key, 'DELETE', `/org/members/${carol.id}`)).status, 200);
  assert.equal((await call(a.key, 'GET', `/teams/${team.id}`)).body.member_count, 0, 'out of the org, out of its teams');
});

test('teams: deleting takes an admin; members write; viewers only read', async () => {
  const t = await app.tenant('Roles');
  const team = (await call(t.key, 'POST', '/teams', { name: 'Ops' })).body;
  const m = await member(t, 'member');
  const v = await member(t, 'viewer');
  assert.equal((await call(m.token, 'POST', '/teams', { name: 'By a member' }, t.orgId)).status, 201, 'members create teams');
  assert.equal((await call(m.token, 'PATCH', `/teams/${team.id}`, { description: 'ok' }, t.orgId)).status, 200);
  assertEnvelope(await call(m.token, 'DELETE', `/teams/${team.id}`, undefined, t.orgId), 403, 'forbidden', 'a member deletes');
  assertEnvelope(await call(v.token, 'POST', '/teams', { name: 'By a viewer' }, t.orgId), 403, 'forbidden', 'a viewer creates');
  assert.equal((await call(v.token, 'GET', `/teams/${team.id}`, undefined, t.orgId)).status, 200, 'viewers read');
  // The free tier has three seats: the member becomes the admin.
  assert.equal((await call(t.key, 'PATCH', `/org/members/${m.id}`, { role: 'admin' })).status, 200);
  const deleted = await call(m.token, 'DELETE', `/teams/${team.id}`, undefined, t.orgId);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  assertEnvelope(await call(t.key, 'GET', `/teams/${team.id}`), 404, 'not_found', 'gone');
});

test('team invites: an org member joins at once; an outsider joins the team by accepting the org invite', async () => {
  const t = await app.tenant('Invites');
  const team = (await call(t.key, 'POST', '/teams', { name: 'Design' })).body;
  const dana = await member(t, 'member');

  const direct = await call(t.key, 'POST', `/teams/${team.id}/invites`, { email: dana.email.toUpperCase(), role: 'admin' });
  assert.equal(direct.status, 201, JSON.stringify(direct.body));
  assert.equal(direct.body.status, 'added');
  assert.equal(direct.body.token, null);
  assert.match((await lastMailTo(app, dana.email))?.subject ?? '', /added to the team Design/);
  const members = (await call(t.key, 'GET', `/teams/${team.id}`)).body.members;
  assert.deepEqual(
    members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
    [[dana.id, 'admin']],
  );
  assertEnvelope(await call(t.key, 'POST', `/teams/${team.id}/invites`, { email: dana.email }), 409, 'conflict', 'already in the team');

  // Someone outside the org: an org invite carrying the team; only admins may bring people into the org.
  const outsider = `new-${Date.now()}@example.com`;
  assertEnvelope(
    await call(dana.token, 'POST', `/teams/${team.id}/invites`, { email: outsider }, t.orgId),
    403,
    'forbidden',
    'a member invites an outsider',
  );
  const pending = await call(t.key, 'POST', `/teams/${team.id}/invites`, { email: outsider });
  assert.equal(pending.status, 201, JSON.stringify(pending.body));
  assert.equal(pending.body.status, 'pending');
  assert.match(pending.body.org_invite_id, /^inv_/);
  assert.ok(pending.body.token, 'the org invite token, shown once');
  assert.ok(pending.body.expires_at);
  const mail = await lastMailTo(app, outsider);
  assert.match(mail?.text ?? '', /puts you in the team Design/);
  assert.ok(mail?.text.includes(pending.body.token), 'the mail carries the token');
  assertEnvelope(await call(t.key, 'POST', `/teams/${team.id}/invites`, { email: outsider }), 409, 'conflict', 'pending twice');
  const listed = await call(t.key, 'GET', `/teams/${team.id}/invites?status=pending`);
  assert.deepEqual(
    listed.body.data.map((i: { email: string }) => i.email),
    [outsider],
  );

  const newcomer = await register(app, { email: outsider });
  const accepted = await app.request('POST', '/api/v1/invites/accept', { key: newcomer.token, body: { token: pending.body.token } });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  const after = (await call(t.key, 'GET', `/teams/${team.id}`)).body;
  assert.ok(
    after.members.some((m: { user_id: string }) => m.user_id === newcomer.id),
    'accepting the org invite put them in the team',
  );
  const [row] = await sql(app, 'select status, accepted_at from team_invites where id = $1', [pending.body.id]);
  assert.equal(row.status, 'accepted');
  assert.ok(row.accepted_at);
});
