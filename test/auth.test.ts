// Users and auth (issue 2, scope 5): register, login and its throttle, refresh, logout, me, password reset
// through the email outbox, changing it with the current one, erasing an account, and the instance admin's user operations.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, lastMailTo, register, sql } from './helpers/db.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const me = (token: string, headers?: Record<string, string>) => app.request('GET', '/api/v1/auth/me', { key: token, headers });
const login = (email: string, password: string) => app.request('POST', '/api/v1/auth/login', { body: { email, password } });

test('register creates the account and logs it in', async () => {
  const body = {
    username: 'grace_h',
    email: 'Grace.Hopper@example.com',
    password: 'cobol-forever-1959',
    terms_accepted: true,
    privacy_accepted: true,
  };
  const res = await app.request('POST', '/api/v1/auth/register', { body });
  assert.equal(res.status, 201);
  assert.match(res.body.user.id, /^usr_/);
  assert.equal(res.body.user.username, 'grace_h');
  assert.equal(res.body.user.email, 'Grace.Hopper@example.com');
  assert.equal(res.body.user.role, 'user', 'only the first user of the instance is its admin');
  assert.match(res.body.token, /^obs_/);
  assert.match(res.body.refresh_token, /^obr_/);
  assert.equal(res.body.user.password_hash, undefined);
  assert.equal(res.body.user.password, undefined);
  const who = await me(res.body.token);
  assert.equal(who.status, 200);
  assert.equal(who.body.id, res.body.user.id);

  // The email is taken whatever its case.
  const again = await app.request('POST', '/api/v1/auth/register', { body: { ...body, username: 'grace_2', email: 'grace.hopper@EXAMPLE.com' } });
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'conflict');
  assert.match(again.body.request_id, /\S/);
});

test('register rejects unaccepted terms or privacy policy and short passwords with 400', async () => {
  const base = { username: 'ada_l', email: 'ada@example.com', password: 'analytical-engine', terms_accepted: true, privacy_accepted: true };
  for (const [change, field] of [
    [{ terms_accepted: false }, 'terms_accepted'],
    [{ privacy_accepted: false }, 'privacy_accepted'],
    [{ terms_accepted: undefined }, 'terms_accepted'],
    [{ password: 'short' }, 'password'],
  ] as const) {
    const res = await app.request('POST', '/api/v1/auth/register', { body: { ...base, ...change } });
    assert.equal(res.status, 400, `${JSON.stringify(change)} → ${res.status}`);
    assert.equal(res.body.error, 'invalid_request');
    assert.ok(
      (res.body.details as { field: string }[]).some((d) => d.field === field),
      `details name ${field}: ${JSON.stringify(res.body.details)}`,
    );
  }
  // None of the rejected attempts created the account.
  assert.equal((await sql(app, 'select 1 from users where email = $1', ['ada@example.com'])).length, 0);
});

test('the first user is the instance admin; later users are not', async () => {
  const admin = await me(app.admin.sessionToken);
  assert.equal(admin.status, 200);
  assert.equal(admin.body.role, 'admin');
  const t = await app.tenant();
  const later = await me(t.sessionToken);
  assert.equal(later.body.role, 'user');
  const [first] = await sql(app, 'select id from users order by created_at, id limit 1');
  assert.equal(first.id, app.admin.userId);
});

test('passwords are stored as salted scrypt hashes', async () => {
  const a = await register(app, { password: 'same-password-twice' });
  const b = await register(app, { password: 'same-password-twice' });
  const rows = await sql(app, 'select id, password_hash from users where id = any($1)', [[a.id, b.id]]);
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.match(r.password_hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.ok(!r.password_hash.includes('same-password-twice'));
  }
  assert.notEqual(rows[0].password_hash, rows[1].password_hash, 'each hash has its own salt');
});

test('login returns tokens and the user; bad password and unknown email read the same', async () => {
  const u = await register(app);
  const ok = await login(u.email.toUpperCase(), u.password);
  assert.equal(ok.status, 200);
  assert.match(ok.body.token, /^obs_/);
  assert.match(ok.body.refresh_token, /^obr_/);
  assert.equal(ok.body.user.id, u.id);
  assert.notEqual(ok.body.token, u.token, 'a new session');
  assert.equal((await me(ok.body.token)).body.id, u.id);

  const badPassword = await login(u.email, 'not-the-password');
  const unknown = await login('nobody-here@example.com', 'not-the-password');
  assert.equal(badPassword.status, 401);
  assert.equal(unknown.status, 401);
  assert.equal(badPassword.body.error, 'unauthorized');
  assert.equal(badPassword.body.message, unknown.body.message);
  assert.equal(badPassword.body.token, undefined);
});

test('login is throttled per email after 10 failures, even with the right password', async () => {
  const u = await register(app);
  const other = await register(app);
  for (let i = 0; i < 10; i++) assert.equal((await login(u.email, `wrong-${i}-password`)).status, 401);
  const blocked = await login(u.email, u.password);
  assert.equal(blocked.status, 429);
  assert.equal(blocked.body.error, 'rate_limited');
  const retry = Number(blocked.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry > 0, `Retry-After: ${blocked.headers.get('retry-after')}`);
  // The same email in another case is the same bucket.
  assert.equal((await login(u.email.toUpperCase(), u.password)).status, 429);
  // Another account from the same address is not locked out by it.
  assert.equal((await login(other.email, other.password)).status, 200);
});

test('login is throttled per IP address across emails', async () => {
  // X-Forwarded-For is trusted (the server runs behind a proxy), so this test has an address of its own.
  const headers = { 'x-forwarded-for': '203.0.113.77' };
  const attempt = (email: string, password: string) => app.request('POST', '/api/v1/auth/login', { body: { email, password }, headers });
  const fails = await Promise.all(Array.from({ length: 50 }, (_, i) => attempt(`spray-${i}@example.com`, 'guessed-password')));
  assert.deepEqual(new Set(fails.map((r) => r.status)), new Set([401]));
  const u = await register(app);
  const blocked = await attempt(u.email, u.password);
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  // Another address is unaffected.
  assert.equal((await login(u.email, u.password)).status, 200);
});

test('refresh swaps both tokens; the old refresh and access tokens stop working', async () => {
  const u = await register(app);
  assert.equal((await me(u.token)).status, 200);
  const res = await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refreshToken } });
  assert.equal(res.status, 200);
  assert.equal(res.body.user.id, u.id);
  assert.notEqual(res.body.token, u.token);
  assert.notEqual(res.body.refresh_token, u.refreshToken);
  assert.equal((await me(res.body.token)).status, 200);
  assert.equal((await me(u.token)).status, 401, 'the old access token is dead');
  const reuse = await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refreshToken } });
  assert.equal(reuse.status, 401, 'a refresh token works once');
  assert.equal(reuse.body.error, 'unauthorized');
  // The new refresh token works (once).
  const next = await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: res.body.refresh_token } });
  assert.equal(next.status, 200);
  assert.equal((await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: 'obr_made-up' } })).status, 401);
});

test('logout ends this session only; all_devices ends every session', async () => {
  const u = await register(app);
  const second = (await login(u.email, u.password)).body;
  const third = (await login(u.email, u.password)).body;
  const out = await app.request('POST', '/api/v1/auth/logout', { key: u.token, body: {} });
  assert.equal(out.status, 200);
  assert.equal(out.body.revoked_sessions, 1);
  assert.equal((await me(u.token)).status, 401);
  assert.equal((await me(second.token)).status, 200, 'another session of the same user still works');
  // A logged-out session cannot be refreshed either.
  assert.equal((await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: u.refreshToken } })).status, 401);

  const all = await app.request('POST', '/api/v1/auth/logout', { key: second.token, body: { all_devices: true } });
  assert.equal(all.status, 200);
  assert.equal(all.body.revoked_sessions, 2);
  assert.equal((await me(second.token)).status, 401);
  assert.equal((await me(third.token)).status, 401);
  assert.equal((await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: third.refresh_token } })).status, 401);
  // Logging in again works.
  assert.equal((await login(u.email, u.password)).status, 200);
});

test('auth/me lists the user and their orgs with roles', async () => {
  const t = await app.tenant('Mine');
  const other = await app.tenant('Theirs');
  const add = await app.request('POST', '/api/v1/org/members', { key: other.key, body: { user_id: t.userId, role: 'viewer' } });
  assert.equal(add.status, 201);
  const res = await me(t.sessionToken);
  assert.equal(res.status, 200);
  assert.equal(res.body.id, t.userId);
  assert.equal(res.body.email, t.email);
  assert.equal(res.body.username, t.username);
  const roles = Object.fromEntries((res.body.orgs as { id: string; role: string }[]).map((o) => [o.id, o.role]));
  assert.deepEqual(roles, { [t.orgId]: 'owner', [other.orgId]: 'viewer' });
  // An API key is not a user.
  assert.equal((await me(t.key)).status, 403);
  assert.equal((await me('')).status, 401);
});

test('forgot-password answers the same for every email and mails a reset link to existing accounts', async () => {
  const u = await register(app);
  const known = await app.request('POST', '/api/v1/auth/forgot-password', { body: { email: u.email } });
  const unknown = await app.request('POST', '/api/v1/auth/forgot-password', { body: { email: 'ghost-account@example.com' } });
  assert.equal(known.status, 200);
  assert.equal(unknown.status, 200);
  assert.deepEqual(known.body, unknown.body);
  const mail = await lastMailTo(app, u.email);
  assert.ok(mail, 'a reset mail is in the outbox');
  assert.match(mail.text, /token=obp_[A-Za-z0-9_-]+/);
  assert.equal(await lastMailTo(app, 'ghost-account@example.com'), undefined);
  // The reset token is stored hashed.
  const token = /token=(obp_[A-Za-z0-9_-]+)/.exec(mail.text)![1];
  const stored = await sql(app, 'select token_hash from password_resets where user_id = $1', [u.id]);
  assert.equal(stored.length, 1);
  assert.notEqual(stored[0].token_hash, token);
});

test('reset-password sets the new password, ends every session, and the token works once', async () => {
  const u = await register(app);
  const other = (await login(u.email, u.password)).body;
  assert.equal((await app.request('POST', '/api/v1/auth/forgot-password', { body: { email: u.email } })).status, 200);
  const mail = await lastMailTo(app, u.email);
  assert.ok(mail);
  const token = /token=(obp_[A-Za-z0-9_-]+)/.exec(mail.text)![1];

  const short = await app.request('POST', '/api/v1/auth/reset-password', { body: { token, password: 'short' } });
  assert.equal(short.status, 400, 'a too-short password does not spend the token');
  const res = await app.request('POST', '/api/v1/auth/reset-password', { body: { token, password: 'brand-new-password' } });
  assert.equal(res.status, 200);
  assert.equal((await me(u.token)).status, 401);
  assert.equal((await me(other.token)).status, 401);
  assert.equal((await login(u.email, u.password)).status, 401, 'the old password is gone');
  assert.equal((await login(u.email, 'brand-new-password')).status, 200);

  const reuse = await app.request('POST', '/api/v1/auth/reset-password', { body: { token, password: 'another-new-password' } });
  assert.equal(reuse.status, 422);
  assert.equal(reuse.body.error, 'unprocessable');
  const bogus = await app.request('POST', '/api/v1/auth/reset-password', { body: { token: 'obp_invented', password: 'another-new-password' } });
  assert.equal(bogus.status, 422);
  assert.equal((await login(u.email, 'brand-new-password')).status, 200);
});

test('change-password needs the current password, keeps this session and ends the others', async () => {
  const u = await register(app);
  const other = (await login(u.email, u.password)).body;
  const change = (body: object, token = u.token) => app.request('POST', '/api/v1/auth/change-password', { key: token, body });

  const wrong = await change({ current_password: 'not-my-password', new_password: 'brand-new-password' });
  assert.equal(wrong.status, 403, 'a valid session with a wrong password: 403, not 401 (which reads as signed out)');
  assert.equal(wrong.body.error, 'forbidden');
  assert.equal(wrong.body.details[0].field, 'current_password');
  const short = await change({ current_password: u.password, new_password: 'short' });
  assert.equal(short.status, 400);
  assert.equal(short.body.error, 'invalid_request');
  assert.ok(short.body.details.some((d: { field: string }) => d.field === 'new_password'));
  assert.equal((await change({ current_password: u.password })).status, 400);
  const same = await change({ current_password: u.password, new_password: u.password });
  assert.equal(same.status, 422);
  assert.equal(same.body.details[0].field, 'new_password');
  // An API key is no user: it cannot change anyone's password.
  const t = await app.tenant('Change');
  assert.equal((await change({ current_password: t.password, new_password: 'brand-new-password' }, t.key)).status, 403);
  assert.equal((await login(u.email, u.password)).status, 200, 'nothing changed so far');

  const res = await change({ current_password: u.password, new_password: 'brand-new-password' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.revoked_sessions, 2, 'the other session and the check login above');
  assert.equal((await me(u.token)).status, 200, 'this session stays');
  assert.equal((await me(other.token)).status, 401);
  assert.equal((await app.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: other.refresh_token } })).status, 401);
  assert.equal((await login(u.email, u.password)).status, 401, 'the old password is gone');
  assert.equal((await login(u.email, 'brand-new-password')).status, 200);
  const logged = await sql(app, "select actor_id from activity_log where action = 'user.password_changed' and entity_id = $1", [u.id]);
  assert.deepEqual(logged, [{ actor_id: u.id }]);
});

test('change-password is throttled per user after 10 wrong current passwords', async () => {
  const u = await register(app);
  const change = (current_password: string) =>
    app.request('POST', '/api/v1/auth/change-password', { key: u.token, body: { current_password, new_password: 'brand-new-password' } });
  for (let i = 0; i < 10; i++) assert.equal((await change(`guess-${i}`)).status, 403);
  const limited = await change(u.password);
  assert.equal(limited.status, 429, 'even the right password waits out the window');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await login(u.email, u.password)).status, 200, 'the password did not change');
});

test('DELETE /users/me needs the password, refuses the last owner of an org, and erases after a transfer', async () => {
  const t = await app.tenant('Erase');
  const heir = await register(app);

  const noPassword = await app.request('DELETE', '/api/v1/users/me', { key: t.sessionToken, body: {} });
  assert.equal(noPassword.status, 400);
  const wrong = await app.request('DELETE', '/api/v1/users/me', { key: t.sessionToken, body: { password: 'wrong-password' } });
  // The session is fine, the confirmation is not: 403, so a client does not take it for an expired login.
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error, 'forbidden');
  const lastOwner = await app.request('DELETE', '/api/v1/users/me', { key: t.sessionToken, body: { password: t.password } });
  assert.equal(lastOwner.status, 422);
  assert.equal(lastOwner.body.error, 'unprocessable');
  assert.deepEqual(
    (lastOwner.body.details.orgs as { id: string }[]).map((o) => o.id),
    [t.orgId],
  );
  // An API key cannot erase an account.
  assert.equal((await app.request('DELETE', '/api/v1/users/me', { key: t.key, body: { password: t.password } })).status, 403);

  // Transfer: add the heir, make them owner (as the owner, in the org).
  const inOrg = { 'x-org-id': t.orgId };
  assert.equal(
    (await app.request('POST', '/api/v1/org/members', { key: t.sessionToken, headers: inOrg, body: { user_id: heir.id, role: 'member' } })).status,
    201,
  );
  assert.equal(
    (await app.request('PATCH', `/api/v1/org/members/${heir.id}`, { key: t.sessionToken, headers: inOrg, body: { role: 'owner' } })).status,
    200,
  );

  const erased = await app.request('DELETE', '/api/v1/users/me', { key: t.sessionToken, body: { password: t.password } });
  assert.equal(erased.status, 200);
  assert.deepEqual(erased.body, { id: t.userId, deleted: true });
  assert.equal((await login(t.email, t.password)).status, 401);
  assert.equal((await me(t.sessionToken)).status, 401);
  assert.equal((await sql(app, 'select 1 from users where id = $1', [t.userId])).length, 0);
  // The org lives on with the heir as its owner; the key of the org still works.
  const members = await app.request('GET', '/api/v1/org/members', { key: t.key });
  assert.equal(members.status, 200);
  assert.deepEqual(
    members.body.data.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
    [[heir.id, 'owner']],
  );
  // The email is free again.
  assert.equal((await register(app, { email: t.email })).email, t.email);
});

test('the instance admin cannot erase their own account (403)', async () => {
  const res = await app.request('DELETE', '/api/v1/users/me', { key: app.admin.sessionToken, body: { password: app.admin.password } });
  assert.equal(res.status, 403);
  assert.equal(res.body.error, 'forbidden');
  assert.equal((await me(app.admin.sessionToken)).status, 200);
});

test('instance admins list, get, change the role of, and delete users; others get 403', async () => {
  const adminToken = app.admin.sessionToken;
  const u = await register(app);
  const victim = await register(app);

  const list = await app.request('GET', `/api/v1/users?q=${encodeURIComponent(u.username)}`, { key: adminToken });
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.data.map((x: { id: string }) => x.id),
    [u.id],
  );
  const all = await app.request('GET', '/api/v1/users?limit=200', { key: adminToken });
  const ids = all.body.data.map((x: { id: string }) => x.id);
  assert.ok(ids.includes(app.admin.userId) && ids.includes(u.id) && ids.includes(victim.id));
  assert.ok(all.body.data.every((x: Record<string, unknown>) => !('password_hash' in x)));

  const got = await app.request('GET', `/api/v1/users/${u.id}`, { key: adminToken });
  assert.equal(got.status, 200);
  assert.equal(got.body.email, u.email);
  assert.equal((await app.request('GET', '/api/v1/users/usr_doesnotexist00000000000000', { key: adminToken })).status, 404);

  // A plain user (and an API key, even an admin's) is refused.
  for (const token of [u.token, app.admin.key]) {
    assert.equal((await app.request('GET', '/api/v1/users', { key: token })).status, 403);
    assert.equal((await app.request('GET', `/api/v1/users/${victim.id}`, { key: token })).status, 403);
    assert.equal((await app.request('PATCH', `/api/v1/users/${victim.id}`, { key: token, body: { role: 'admin' } })).status, 403);
    assert.equal((await app.request('DELETE', `/api/v1/users/${victim.id}`, { key: token })).status, 403);
  }

  // Promote: the user now acts as an instance admin (and the change is seen at once).
  const promoted = await app.request('PATCH', `/api/v1/users/${u.id}`, { key: adminToken, body: { role: 'admin' } });
  assert.equal(promoted.status, 200);
  assert.equal(promoted.body.role, 'admin');
  assert.equal((await me(u.token)).body.role, 'admin');
  assert.equal((await app.request('GET', '/api/v1/users', { key: u.token })).status, 200);
  const demoted = await app.request('PATCH', `/api/v1/users/${u.id}`, { key: adminToken, body: { role: 'user' } });
  assert.equal(demoted.body.role, 'user');
  assert.equal((await app.request('GET', '/api/v1/users', { key: u.token })).status, 403);

  // Delete: not yourself; someone else, yes.
  const self = await app.request('DELETE', `/api/v1/users/${app.admin.userId}`, { key: adminToken });
  assert.equal(self.status, 422);
  assert.equal(self.body.error, 'unprocessable');
  const del = await app.request('DELETE', `/api/v1/users/${victim.id}`, { key: adminToken });
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { id: victim.id, deleted: true });
  assert.equal((await app.request('GET', `/api/v1/users/${victim.id}`, { key: adminToken })).status, 404);
  assert.equal((await me(victim.token)).status, 401);
  assert.equal((await login(victim.email, victim.password)).status, 401);
});
