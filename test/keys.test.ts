// API keys (issue 2, scope 7): secrets shown once and stored as SHA-256, masked lists, update, scopes, delete,
// revoke, rotate with grace, roll, expiry, the per-key usage log, and revocation seen by a second instance.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { closeDb, sleep, sql } from './helpers/db.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const whoami = (key: string) => app.request('GET', '/api/v1/whoami', { key });

async function createKey(t: Tenant, body: Record<string, unknown> = {}) {
  const res = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'k', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; secret: string; name: string; scopes: string[]; masked: string };
}

/** Polls `fn` until it returns true; resolves with the milliseconds it took, or fails after `limitMs`. */
async function until(fn: () => Promise<boolean>, limitMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - start;
    if (performance.now() - start > limitMs) assert.fail(`condition not met within ${limitMs} ms`);
    await sleep(20);
  }
}

test('create returns the secret once; the database holds only its SHA-256', async () => {
  const t = await app.tenant('Keys');
  const res = await app.request('POST', '/api/v1/keys', {
    key: t.key,
    body: { name: 'ci', description: 'for the CI runner', scopes: ['tasks:read', 'tasks:write'] },
  });
  assert.equal(res.status, 201);
  const k = res.body;
  assert.match(k.id, /^key_/);
  assert.match(k.secret, /^obk_live_[A-Za-z0-9_-]{40,}$/);
  assert.equal(k.name, 'ci');
  assert.equal(k.description, 'for the CI runner');
  assert.deepEqual(k.scopes, ['tasks:read', 'tasks:write']);
  assert.equal(k.org_id, t.orgId);
  assert.equal(k.status, 'active');
  assert.equal((await whoami(k.secret)).status, 200);

  const sha = createHash('sha256').update(k.secret).digest('hex');
  const secrets = await sql(app, 'select hash from api_key_secrets where key_id = $1', [k.id]);
  assert.deepEqual(secrets, [{ hash: sha }]);
  // No column of any row about this key (nor the activity log) holds the secret itself.
  for (const [table, where] of [
    ['api_keys', 'id = $1'],
    ['api_key_secrets', 'key_id = $1'],
    ['activity_log', 'entity_id = $1'],
  ]) {
    const rows = await sql(app, `select row_to_json(t)::text as j from ${table} t where ${where}`, [k.id]);
    assert.ok(rows.length > 0, table);
    for (const r of rows) assert.ok(!r.j.includes(k.secret.slice(9)), `${table} holds the secret`);
  }
  // Shown once: get and list never return it.
  const got = await app.request('GET', `/api/v1/keys/${k.id}`, { key: t.key });
  assert.equal(got.body.secret, undefined);
  assert.ok(!JSON.stringify(got.body).includes(k.secret));
});

test('list and get show keys masked: prefix … last 4', async () => {
  const t = await app.tenant('Masked');
  const k = await createKey(t, { name: 'masked' });
  const list = await app.request('GET', '/api/v1/keys', { key: t.key });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((x: { id: string }) => x.id).sort(), [k.id, t.keyId].sort());
  for (const item of list.body.data) {
    assert.equal(item.secret, undefined);
    assert.equal(item.masked, `${item.prefix}…${item.last4}`);
  }
  const item = list.body.data.find((x: { id: string }) => x.id === k.id);
  assert.equal(item.masked, `${k.secret.slice(0, 13)}…${k.secret.slice(-4)}`);
  assert.equal(k.masked, item.masked);
  assert.ok(!JSON.stringify(list.body).includes(k.secret));

  const got = await app.request('GET', `/api/v1/keys/${k.id}`, { key: t.key });
  assert.equal(got.status, 200);
  assert.equal(got.body.name, 'masked');
  assert.equal(got.body.masked, item.masked);
  assert.equal((await app.request('GET', '/api/v1/keys/key_0000000000000000000000000', { key: t.key })).status, 404);
  // Another org's key is not found.
  const other = await app.tenant('Other');
  assert.equal((await app.request('GET', `/api/v1/keys/${k.id}`, { key: other.key })).status, 404);
  assert.equal((await app.request('PATCH', `/api/v1/keys/${k.id}`, { key: other.key, body: { active: false } })).status, 404);
  assert.equal((await app.request('POST', `/api/v1/keys/${k.id}/revoke`, { key: other.key })).status, 404);
  assert.equal((await whoami(k.secret)).status, 200);
});

test('update: name, description, scopes; active=false disables the key until re-enabled', async () => {
  const t = await app.tenant('Update');
  const k = await createKey(t, { name: 'before', scopes: ['tasks:read'] });
  const upd = await app.request('PATCH', `/api/v1/keys/${k.id}`, {
    key: t.key,
    body: { name: 'after', description: 'renamed', scopes: ['keys:read', 'activity:read'] },
  });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.name, 'after');
  assert.equal(upd.body.description, 'renamed');
  assert.deepEqual(upd.body.scopes, ['keys:read', 'activity:read']);
  const who = await whoami(k.secret);
  assert.deepEqual(who.body.key, { id: k.id, name: 'after', scopes: ['keys:read', 'activity:read'] });
  // The new scopes apply at once.
  assert.equal((await app.request('GET', '/api/v1/keys', { key: k.secret })).status, 200);

  const off = await app.request('PATCH', `/api/v1/keys/${k.id}`, { key: t.key, body: { active: false } });
  assert.equal(off.status, 200);
  assert.equal(off.body.active, false);
  assert.equal(off.body.status, 'inactive');
  const refused = await whoami(k.secret);
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error, 'unauthorized');
  const on = await app.request('PATCH', `/api/v1/keys/${k.id}`, { key: t.key, body: { active: true } });
  assert.equal(on.body.status, 'active');
  assert.equal((await whoami(k.secret)).status, 200);
});

test('scopes are enforced, and a key cannot grant scopes it does not hold', async () => {
  const t = await app.tenant('Scopes');
  const reader = await createKey(t, { name: 'reader', scopes: ['keys:read'] });
  assert.equal((await app.request('GET', '/api/v1/keys', { key: reader.secret })).status, 200);
  const denied = await app.request('POST', '/api/v1/keys', { key: reader.secret, body: { name: 'x', scopes: ['keys:read'] } });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error, 'forbidden');
  assert.match(denied.body.message, /keys:write/);
  assert.equal((await app.request('GET', '/api/v1/activity-log', { key: reader.secret })).status, 403);
  assert.equal((await app.request('POST', `/api/v1/keys/${reader.id}/revoke`, { key: reader.secret })).status, 403);

  const writer = await createKey(t, { name: 'writer', scopes: ['keys:write'] });
  const narrower = await app.request('POST', '/api/v1/keys', { key: writer.secret, body: { name: 'n', scopes: ['keys:read'] } });
  assert.equal(narrower.status, 201, 'keys:write covers keys:read');
  for (const scopes of [['tasks:read'], ['*'], ['keys:*'], ['keys:read', 'activity:write']]) {
    const res = await app.request('POST', '/api/v1/keys', { key: writer.secret, body: { name: 'wider', scopes } });
    assert.equal(res.status, 403, `granting ${scopes}`);
  }
  // Not by widening an existing key either.
  const widen = await app.request('PATCH', `/api/v1/keys/${narrower.body.id}`, { key: writer.secret, body: { scopes: ['*'] } });
  assert.equal(widen.status, 403);
  assert.deepEqual((await app.request('GET', `/api/v1/keys/${narrower.body.id}`, { key: t.key })).body.scopes, ['keys:read']);
  // The default scope `*` is refused to a non-`*` key as well.
  assert.equal((await app.request('POST', '/api/v1/keys', { key: writer.secret, body: { name: 'default' } })).status, 403);
  // Malformed scopes are a 400.
  assert.equal((await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'bad', scopes: ['Tasks'] } })).status, 400);

  // A viewer's session cannot create keys; an admin's can.
  const viewer = await app.tenant('Viewer home');
  const add = await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: viewer.userId, role: 'viewer' } });
  assert.equal(add.status, 201);
  const asViewer = { key: viewer.sessionToken, headers: { 'x-org-id': t.orgId } };
  assert.equal((await app.request('POST', '/api/v1/keys', { ...asViewer, body: { name: 'v' } })).status, 403);
});

test('delete is soft: the key stops working and is not found', async () => {
  const t = await app.tenant('Delete');
  const k = await createKey(t);
  assert.equal((await whoami(k.secret)).status, 200);
  const del = await app.request('DELETE', `/api/v1/keys/${k.id}`, { key: t.key });
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { id: k.id, deleted: true });
  assert.equal((await whoami(k.secret)).status, 401);
  assert.equal((await app.request('GET', `/api/v1/keys/${k.id}`, { key: t.key })).status, 404);
  assert.equal((await app.request('DELETE', `/api/v1/keys/${k.id}`, { key: t.key })).status, 404);
  const list = await app.request('GET', '/api/v1/keys', { key: t.key });
  assert.ok(!list.body.data.some((x: { id: string }) => x.id === k.id));
  const [row] = await sql(app, 'select deleted_at from api_keys where id = $1', [k.id]);
  assert.ok(row.deleted_at instanceof Date, 'the row is kept');
});

test('revoke is immediate', async () => {
  const t = await app.tenant('Revoke');
  const k = await createKey(t);
  assert.equal((await whoami(k.secret)).status, 200);
  const res = await app.request('POST', `/api/v1/keys/${k.id}/revoke`, { key: t.key });
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'revoked');
  assert.ok(res.body.revoked_at);
  assert.equal((await whoami(k.secret)).status, 401);
  // A key can revoke itself, and that request is its last.
  const self = await createKey(t);
  assert.equal((await app.request('POST', `/api/v1/keys/${self.id}/revoke`, { key: self.secret })).status, 200);
  assert.equal((await whoami(self.secret)).status, 401);
  // A revoked key cannot be brought back by rotating it or re-activating it.
  assert.equal((await app.request('POST', `/api/v1/keys/${k.id}/rotate`, { key: t.key, body: {} })).status, 403);
  await app.request('PATCH', `/api/v1/keys/${k.id}`, { key: t.key, body: { active: true } });
  assert.equal((await whoami(k.secret)).status, 401);
});

test('rotate: the new secret works at once, the old one until its grace runs out', async () => {
  const t = await app.tenant('Rotate');
  const k = await createKey(t, { name: 'rotating' });
  const day = await app.request('POST', `/api/v1/keys/${k.id}/rotate`, { key: t.key, body: {} });
  assert.equal(day.status, 200);
  assert.match(day.body.secret, /^obk_live_/);
  assert.notEqual(day.body.secret, k.secret);
  const hours = (Date.parse(day.body.previous_secret_expires_at) - Date.now()) / 3_600_000;
  assert.ok(hours > 23.9 && hours <= 24, `default grace is 24 h, got ${hours}`);
  assert.equal(day.body.masked, `${day.body.secret.slice(0, 13)}…${day.body.secret.slice(-4)}`);
  assert.equal((await whoami(day.body.secret)).status, 200);
  assert.equal((await whoami(k.secret)).status, 200, 'the old secret works during the grace period');
  assert.equal((await whoami(day.body.secret)).body.key.id, k.id, 'same key, new secret');

  // A second rotation with a ~1 s grace: both earlier secrets now end then.
  const short = await app.request('POST', `/api/v1/keys/${k.id}/rotate`, { key: t.key, body: { grace_hours: 0.0003 } });
  assert.equal(short.status, 200);
  const end = Date.parse(short.body.previous_secret_expires_at);
  assert.ok(end - Date.now() < 1500);
  for (const s of [k.secret, day.body.secret, short.body.secret]) assert.equal((await whoami(s)).status, 200);
  await sleep(Math.max(0, end - Date.now()) + 100);
  assert.equal((await whoami(k.secret)).status, 401, 'the first secret expired');
  assert.equal((await whoami(day.body.secret)).status, 401, 'the second secret expired');
  assert.equal((await whoami(short.body.secret)).status, 200, 'the newest secret lives on');

  const bad = await app.request('POST', `/api/v1/keys/${k.id}/rotate`, { key: t.key, body: { grace_hours: -1 } });
  assert.equal(bad.status, 400);
});

test('roll: the old secret dies now, the new one works', async () => {
  const t = await app.tenant('Roll');
  const k = await createKey(t);
  assert.equal((await whoami(k.secret)).status, 200);
  const res = await app.request('POST', `/api/v1/keys/${k.id}/roll`, { key: t.key });
  assert.equal(res.status, 200);
  assert.equal(res.body.previous_secret_expires_at, null);
  assert.equal((await whoami(k.secret)).status, 401);
  assert.equal((await whoami(res.body.secret)).status, 200);
  // Only one secret is left, stored hashed.
  const rows = await sql(app, 'select hash from api_key_secrets where key_id = $1', [k.id]);
  assert.deepEqual(rows, [{ hash: createHash('sha256').update(res.body.secret).digest('hex') }]);
});

test('an expired key is refused', async () => {
  const t = await app.tenant('Expiry');
  const expiresAt = new Date(Date.now() + 1200);
  const k = await createKey(t, { expires_at: expiresAt.toISOString() });
  assert.equal((await whoami(k.secret)).status, 200);
  const past = await app.request('POST', '/api/v1/keys', {
    key: t.key,
    body: { name: 'past', expires_at: new Date(Date.now() - 1000).toISOString() },
  });
  assert.equal(past.status, 400, 'expires_at must be in the future');
  await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 100);
  const res = await whoami(k.secret);
  assert.equal(res.status, 401);
  assert.equal(res.body.error, 'unauthorized');
  assert.equal((await app.request('GET', `/api/v1/keys/${k.id}`, { key: t.key })).body.status, 'expired');
});

test("the usage log lists the key's requests with method, path, status and latency", async () => {
  const t = await app.tenant('Usage');
  const k = await createKey(t, { name: 'used', scopes: ['keys:read'] });
  assert.equal((await whoami(k.secret)).status, 200);
  assert.equal((await app.request('GET', '/api/v1/keys?limit=5', { key: k.secret })).status, 200);
  assert.equal((await app.request('POST', '/api/v1/keys', { key: k.secret, body: { name: 'nope' } })).status, 403);
  // Requests by other credentials are not in this key's log.
  assert.equal((await whoami(t.key)).status, 200);

  const usage = await app.request('GET', `/api/v1/keys/${k.id}/usage`, { key: t.key });
  assert.equal(usage.status, 200);
  const rows = usage.body.data as { time: string; method: string; path: string; status: number; latency_ms: number; key_id: string }[];
  assert.deepEqual(
    rows.map((r) => [r.method, r.path, r.status]),
    [
      ['POST', '/api/v1/keys', 403],
      ['GET', '/api/v1/keys', 200],
      ['GET', '/api/v1/whoami', 200],
    ],
    'newest first; the query string is not logged',
  );
  for (const r of rows) {
    assert.equal(r.key_id, k.id);
    assert.ok(Number.isInteger(r.latency_ms) && r.latency_ms >= 0);
    assert.ok(Math.abs(Date.parse(r.time) - Date.now()) < 60_000);
  }
  const got = await app.request('GET', `/api/v1/keys/${k.id}`, { key: t.key });
  assert.ok(got.body.last_used_at, 'last_used_at is set once the log is flushed');
  const other = await app.tenant('Other usage');
  assert.equal((await app.request('GET', `/api/v1/keys/${k.id}/usage`, { key: other.key })).status, 404);
});

test('whoami names the key and its scopes', async () => {
  const t = await app.tenant('Who');
  const k = await createKey(t, { name: 'agent-7', scopes: ['tasks:read', 'activity:write'] });
  const res = await whoami(k.secret);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.key, { id: k.id, name: 'agent-7', scopes: ['tasks:read', 'activity:write'] });
  assert.equal(res.body.org.id, t.orgId);
  assert.equal(res.body.plan, 'free');
  assert.equal(res.body.credits, 0);
  assert.equal((await whoami('obk_live_not-a-real-key')).status, 401);
});

test('revocation and roll are seen by a second instance within 1 s', async () => {
  const t = await app.tenant('Multi');
  const b = await app.second();
  try {
    const onB = (key: string) => b.request('GET', '/api/v1/whoami', { key });

    const k = await createKey(t, { name: 'revoked-everywhere' });
    assert.equal((await onB(k.secret)).status, 200); // now cached on B
    assert.equal((await onB(k.secret)).status, 200);
    const revoked = await app.request('POST', `/api/v1/keys/${k.id}/revoke`, { key: t.key });
    assert.equal(revoked.status, 200);
    const elapsed = await until(async () => (await onB(k.secret)).status === 401, 3000);
    assert.ok(elapsed < 1000, `B saw the revocation after ${Math.round(elapsed)} ms`);

    const r = await createKey(t, { name: 'rolled-everywhere' });
    assert.equal((await onB(r.secret)).status, 200);
    const rolled = await app.request('POST', `/api/v1/keys/${r.id}/roll`, { key: t.key });
    assert.equal(rolled.status, 200);
    const elapsedRoll = await until(async () => (await onB(r.secret)).status === 401, 3000);
    assert.ok(elapsedRoll < 1000, `B saw the roll after ${Math.round(elapsedRoll)} ms`);
    assert.equal((await onB(rolled.body.secret)).status, 200);

    // Deactivating is seen too.
    const d = await createKey(t, { name: 'deactivated-everywhere' });
    assert.equal((await onB(d.secret)).status, 200);
    await app.request('PATCH', `/api/v1/keys/${d.id}`, { key: t.key, body: { active: false } });
    assert.ok((await until(async () => (await onB(d.secret)).status === 401, 3000)) < 1000);
  } finally {
    await b.close();
  }
});

test('a replayed keys.create returns the same secret, which is stored only encrypted', async () => {
  const t = await app.tenant('IdemKeys');
  const headers = { 'idempotency-key': `create-${Date.now()}` };
  const first = await app.request('POST', '/api/v1/keys', { key: t.key, headers, body: { name: 'retried' } });
  const replay = await app.request('POST', '/api/v1/keys', { key: t.key, headers, body: { name: 'retried' } });
  assert.equal(first.status, 201);
  assert.equal(replay.status, 201);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(replay.body.secret, first.body.secret);
  assert.equal(replay.body.id, first.body.id);
  const stored = await sql(app, `select response_body::text as body from idempotency_keys where key = $1`, [headers['idempotency-key']]);
  assert.equal(stored.length, 1);
  assert.ok(!stored[0].body.includes(first.body.secret), 'the secret is not stored in plain text');
  assert.match(stored[0].body, /^"v1\./);
});
