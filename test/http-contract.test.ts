// The HTTP contract (DESIGN §4–5): OpenAPI, the error envelope for framework failures, request ids, headers,
// Idempotency-Key, rate limits across instances, 503 when the database is down, the request log, and logs that
// never carry a secret.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import pg from 'pg';
import { routePath } from '../src/core/http-request.ts';
import { operations } from '../src/operations.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let t: Tenant;
before(async () => {
  app = await startTestApp();
  t = await app.tenant('Contract');
});
after(() => app.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Rate-limit windows are fixed minutes: start a rate-limit test only with `needMs` left in the current one. */
async function freshWindow(needMs: number) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await sleep(left + 50);
}

async function createKey(tenant: Tenant, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await app.request('POST', '/api/v1/keys', { key: tenant.key, body: { name: 'k', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

test('OpenAPI: a valid 3.1 document with every registry operation exactly once, and a docs page', async () => {
  const res = await app.request('GET', '/api/openapi.json');
  assert.equal(res.status, 200);
  const doc = res.body;
  assert.match(doc.openapi, /^3\.1\./);
  const validator = new Validator();
  const result = await validator.validate(doc);
  assert.equal(result.valid, true, `OpenAPI document invalid: ${JSON.stringify(result.errors, null, 2)?.slice(0, 4000)}`);
  assert.equal(validator.version, '3.1');

  const seen = new Map<string, number>();
  for (const item of Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>)) {
    for (const op of Object.values(item)) if (op?.operationId) seen.set(op.operationId, (seen.get(op.operationId) ?? 0) + 1);
  }
  for (const op of operations) {
    assert.equal(seen.get(op.id), 1, `operationId ${op.id} appears exactly once`);
    const path = routePath(op).replace(/:([a-z_]+)/g, '{$1}');
    const entry = doc.paths[path]?.[op.method.toLowerCase()];
    assert.equal(entry?.operationId, op.id, `${op.method} ${path} is ${op.id}`);
    if (op.auth === 'public') assert.deepEqual(entry.security, [], `${op.id} is documented as public`);
    const errors = Object.keys(entry.responses).filter((s) => /^[45]/.test(s));
    assert.ok(errors.length > 0, `${op.id} documents its error responses`);
  }
  assert.ok(doc.components?.securitySchemes?.bearer, 'the bearer scheme is documented');

  const docs = await app.request('GET', '/api/docs');
  assert.equal(docs.status, 200);
  assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
  assert.match(String(docs.body), /<html/i);
});

test('unknown routes, oversized bodies, wrong content types and malformed JSON get the envelope', async () => {
  assertEnvelope(await app.request('GET', '/api/v1/no-such-thing', { key: t.key }), 404, 'not_found', 'unknown route');
  assertEnvelope(await app.request('GET', '/nope'), 404, 'not_found', 'unknown route outside /api');
  assertEnvelope(await app.request('DELETE', '/api/v1/whoami', { key: t.key }), 404, 'not_found', 'unknown method on a known path');

  const huge = JSON.stringify({ action: 'big.thing', entity_type: 'blob', metadata: { pad: 'x'.repeat(1024 * 1024 + 10) } });
  assertEnvelope(await app.request('POST', '/api/v1/activity-log', { key: t.key, raw: huge }), 413, 'payload_too_large', '> 1 MiB');

  const body = JSON.stringify({ action: 'x.y', entity_type: 'thing' });
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const res = await app.request('POST', '/api/v1/activity-log', { key: t.key, raw: body, headers: { 'content-type': type } });
    assertEnvelope(res, 415, 'unsupported_media_type', type);
  }
  assertEnvelope(
    await app.request('POST', '/api/v1/activity-log', { key: t.key, raw: '{"action": "x.y",' }),
    400,
    'invalid_request',
    'malformed JSON',
  );
  assertEnvelope(await app.request('POST', '/api/v1/activity-log', { key: t.key, raw: '' }), 400, 'invalid_request', 'empty JSON body');
  // None of them recorded anything.
  const list = await app.request('GET', '/api/v1/activity-log?action=x.y', { key: t.key });
  assert.equal(list.body.data.length, 0);
});

test('security headers on every response, no CORS, and X-Request-Id echoed when valid', async () => {
  for (const res of [
    await app.request('GET', '/api/v1/whoami', { key: t.key, headers: { origin: 'https://evil.example' } }),
    await app.request('GET', '/api/v1/whoami', { headers: { origin: 'https://evil.example' } }),
    await app.request('GET', '/api/health'),
  ]) {
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.ok(res.headers.get('referrer-policy'));
    assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS by default');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  }
  const preflight = await app.request('OPTIONS', '/api/v1/whoami', {
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), null, 'no CORS preflight answer');
  assert.equal(preflight.headers.get('access-control-allow-methods'), null);

  const ok = await app.request('GET', '/api/v1/whoami', { key: t.key, headers: { 'x-request-id': 'trace-abc.123:xyz' } });
  assert.equal(ok.headers.get('x-request-id'), 'trace-abc.123:xyz');
  const err = await app.request('GET', '/api/v1/whoami', { headers: { 'x-request-id': 'trace-for-an-error' } });
  assertEnvelope(err, 401, 'unauthorized');
  assert.equal(err.body.request_id, 'trace-for-an-error');
  for (const bad of ['has spaces in it', 'x'.repeat(65), '<script>']) {
    const res = await app.request('GET', '/api/health', { headers: { 'x-request-id': bad } });
    assert.match(res.headers.get('x-request-id') ?? '', /^req_[0-9a-z]{26}$/, `an invalid X-Request-Id (${bad.slice(0, 20)}) is replaced`);
  }
  const a = await app.request('GET', '/api/health');
  const b = await app.request('GET', '/api/health');
  assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
});

test('Idempotency-Key: replay, mismatch, in progress, takeover after a crash, and scoping per key', async () => {
  const action = `idem.${randomBytes(4).toString('hex')}`;
  const body = { action, entity_type: 'order', entity_id: 'ord_1', metadata: { n: 1 } };
  const headers = { 'idempotency-key': `k-${action}` };
  const first = await app.request('POST', '/api/v1/activity-log', { key: t.key, body, headers });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const again = await app.request('POST', '/api/v1/activity-log', { key: t.key, body, headers });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, first.body);
  const rows = await app.request('GET', `/api/v1/activity-log?action=${action}`, { key: t.key });
  assert.equal(rows.status, 200);
  assert.equal(rows.body.data.length, 1, 'the replay wrote nothing');

  const mismatch = await app.request('POST', '/api/v1/activity-log', { key: t.key, body: { ...body, entity_id: 'ord_2' }, headers });
  assertEnvelope(mismatch, 422, 'idempotency_mismatch');
  const otherPath = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'same idem key' }, headers });
  assertEnvelope(otherPath, 422, 'idempotency_mismatch', 'the same key on another route');

  // Another API key (same org) and another org's key have their own idempotency space: no replay of our response.
  const sibling = await createKey(t, { name: 'sibling' });
  const other = await app.tenant('IdemOther');
  for (const key of [sibling.secret, other.key]) {
    const res = await app.request('POST', '/api/v1/activity-log', { key, body, headers });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('idempotent-replayed'), null);
    assert.notEqual(res.body.id, first.body.id);
  }

  // A first request still running: the row is back in progress with a live lock (what a slow first attempt looks like).
  const inflight = { 'idempotency-key': `inflight-${action}` };
  const body2 = { ...body, entity_id: 'ord_3' };
  assert.equal((await app.request('POST', '/api/v1/activity-log', { key: t.key, body: body2, headers: inflight })).status, 201);
  const setState = (lock: string) =>
    withClient(app.databaseUrl, (c) =>
      c.query(
        `update idempotency_keys set status = 'in_progress', response_status = null, response_body = null, locked_until = now() + $3::interval
          where scope = $1 and key = $2`,
        [`${t.keyId}@${t.orgId}`, inflight['idempotency-key'], lock],
      ),
    );
  assert.equal((await setState('1 minute')).rowCount, 1, 'the idempotency row is scoped by key id and org');
  const running = await app.request('POST', '/api/v1/activity-log', { key: t.key, body: body2, headers: inflight });
  assertEnvelope(running, 409, 'idempotency_in_progress');
  // The first attempt died (its lock ran out): a retry takes over and runs.
  await setState('-1 second');
  const takeover = await app.request('POST', '/api/v1/activity-log', { key: t.key, body: body2, headers: inflight });
  assert.equal(takeover.status, 201);
  assert.equal(takeover.headers.get('idempotent-replayed'), null);
  const replay = await app.request('POST', '/api/v1/activity-log', { key: t.key, body: body2, headers: inflight });
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replay.body, takeover.body);

  assertEnvelope(
    await app.request('POST', '/api/v1/activity-log', { key: t.key, body, headers: { 'idempotency-key': 'x'.repeat(256) } }),
    400,
    'invalid_request',
    'a 256-character key',
  );
});

test('Idempotency-Key: stored responses are scoped by org — one user, one key, two orgs, two requests', async () => {
  const user = await app.tenant('TwoOrgs');
  const orgB = await app.request('POST', '/api/v1/orgs', { key: user.sessionToken, body: { name: `Second ${randomBytes(3).toString('hex')}` } });
  assert.equal(orgB.status, 201, JSON.stringify(orgB.body));
  const headers = { 'idempotency-key': 'same-key-both-orgs' };
  const body = { action: 'scoped.write', entity_type: 'order', entity_id: 'ord_1' };
  const inA = await app.request('POST', '/api/v1/activity-log', { key: user.sessionToken, body, headers: { ...headers, 'x-org-id': user.orgId } });
  assert.equal(inA.status, 201, JSON.stringify(inA.body));
  const inB = await app.request('POST', '/api/v1/activity-log', { key: user.sessionToken, body, headers: { ...headers, 'x-org-id': orgB.body.id } });
  assert.equal(inB.status, 201, JSON.stringify(inB.body));
  assert.equal(inB.headers.get('idempotent-replayed'), null, "org B's request is not a replay of org A's");
  assert.notEqual(inB.body.id, inA.body.id);
  const listB = await app.request('GET', '/api/v1/activity-log?action=scoped.write', { key: user.sessionToken, headers: { 'x-org-id': orgB.body.id } });
  assert.deepEqual(listB.body.data.map((e: { id: string }) => e.id), [inB.body.id], 'the write happened in org B');
  // Within one org the key still replays.
  const again = await app.request('POST', '/api/v1/activity-log', { key: user.sessionToken, body, headers: { ...headers, 'x-org-id': orgB.body.id } });
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, inB.body);
});

test('Idempotency-Key: a failed first request is not stored, so a retry runs once it can succeed', async () => {
  const newcomer = await app.tenant('Newcomer');
  assert.equal((await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: newcomer.userId } })).status, 201);
  const headers = { 'idempotency-key': `add-${randomBytes(4).toString('hex')}` };
  const body = { user_id: newcomer.userId, role: 'member' };
  // Already a member: 409, and the key is released (the transaction rolled back, nothing to replay).
  const dup = await app.request('POST', '/api/v1/org/members', { key: t.key, body, headers });
  assertEnvelope(dup, 409, 'conflict');
  const stored = await withClient(app.databaseUrl, (c) =>
    c.query('select status from idempotency_keys where key = $1', [headers['idempotency-key']]),
  );
  assert.equal(stored.rowCount, 0, 'a failed request leaves no idempotency record');
  assert.equal((await app.request('DELETE', `/api/v1/org/members/${newcomer.userId}`, { key: t.key })).status, 200);
  const retry = await app.request('POST', '/api/v1/org/members', { key: t.key, body, headers });
  assert.equal(retry.status, 201, JSON.stringify(retry.body));
  assert.equal(retry.headers.get('idempotent-replayed'), null);
  const replay = await app.request('POST', '/api/v1/org/members', { key: t.key, body, headers });
  assert.equal(replay.status, 201);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replay.body, retry.body);
});

test('rate limits: the 6th request of a 5/min key is 429 with Retry-After and RateLimit-* headers; other keys are unaffected', async () => {
  const limited = await createKey(t, { name: 'limited', rate_limit_per_minute: 5 });
  await freshWindow(5000);
  for (let i = 1; i <= 5; i++) {
    const res = await app.request('GET', '/api/v1/whoami', { key: limited.secret });
    assert.equal(res.status, 200, `request ${i}`);
    assert.equal(res.headers.get('ratelimit-limit'), '5');
    assert.equal(res.headers.get('ratelimit-remaining'), String(5 - i));
  }
  const sixth = await app.request('GET', '/api/v1/whoami', { key: limited.secret });
  assertEnvelope(sixth, 429, 'rate_limited');
  const retryAfter = Number(sixth.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal(sixth.headers.get('ratelimit-limit'), '5');
  assert.equal(sixth.headers.get('ratelimit-remaining'), '0');
  const reset = Number(sixth.headers.get('ratelimit-reset'));
  assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset ${reset}`);
  // Writes are limited the same way, and nothing is written.
  assertEnvelope(
    await app.request('POST', '/api/v1/activity-log', { key: limited.secret, body: { action: 'limited.write', entity_type: 'x' } }),
    429,
    'rate_limited',
  );
  assert.equal((await app.request('GET', '/api/v1/activity-log?action=limited.write', { key: t.key })).body.data.length, 0);

  const other = await app.request('GET', '/api/v1/whoami', { key: t.key });
  assert.equal(other.status, 200, "the org's other key is unaffected");
  assert.equal(other.headers.get('ratelimit-limit'), '600', 'the default limit');
});

test('rate limits are shared by every instance on the database', async () => {
  const second = await app.second();
  try {
    const limited = await createKey(t, { name: 'shared-limit', rate_limit_per_minute: 5 });
    await freshWindow(5000);
    const on = (instance: TestApp) => instance.request('GET', '/api/v1/whoami', { key: limited.secret });
    for (let i = 0; i < 3; i++) assert.equal((await on(app)).status, 200, `instance 1, request ${i + 1}`);
    for (let i = 0; i < 2; i++) assert.equal((await on(second)).status, 200, `instance 2, request ${i + 1}`);
    await sleep(700); // a few sync intervals (rate-limit.ts SYNC_MS)
    // Each instance admitted fewer than 5 itself; only the shared count makes the next request the 6th.
    assertEnvelope(await on(second), 429, 'rate_limited', 'instance 2 after 3 + 2');
    assertEnvelope(await on(app), 429, 'rate_limited', 'instance 1 after 3 + 2');
  } finally {
    await second.close();
  }
});

test('dev.api_requests lists the org’s own requests with method, path, status and latency', async () => {
  const a = await app.tenant('ReqLogA');
  const b = await app.tenant('ReqLogB');
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: a.key })).status, 200);
  assert.equal((await app.request('GET', '/api/v1/keys/key_0000000000000000000000000a', { key: a.key })).status, 404);
  assert.equal((await app.request('POST', '/api/v1/activity-log', { key: a.key, body: { action: 'reqlog.test', entity_type: 'x' } })).status, 201);
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: b.key })).status, 200);

  type Row = { method: string; path: string; status: number; latency_ms: number; key_id: string | null; request_id: string; time: string };
  let rows: Row[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await app.request('GET', '/api/v1/dev/api-requests?limit=200', { key: a.key });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    rows = res.body.data;
    if (rows.some((r) => r.method === 'POST' && r.path === '/api/v1/activity-log')) break;
    await sleep(100);
  }
  const find = (method: string, path: string, status: number) => rows.find((r) => r.method === method && r.path === path && r.status === status);
  const who = find('GET', '/api/v1/whoami', 200);
  assert.ok(who, JSON.stringify(rows));
  assert.equal(who.key_id, a.keyId);
  assert.ok(Number.isInteger(who.latency_ms) && who.latency_ms >= 0);
  assert.ok(!Number.isNaN(Date.parse(who.time)));
  assert.ok(find('GET', '/api/v1/keys/key_0000000000000000000000000a', 404), 'failed requests are logged too');
  assert.ok(find('POST', '/api/v1/activity-log', 201));
  assert.ok(
    rows.every((r) => r.key_id === a.keyId || r.key_id === null),
    'only org A’s requests',
  );
  const only404 = await app.request('GET', '/api/v1/dev/api-requests?status=404', { key: a.key });
  assert.ok(only404.body.data.length >= 1 && only404.body.data.every((r: Row) => r.status === 404));

  const seenByB = (await app.request('GET', '/api/v1/dev/api-requests?limit=200', { key: b.key })).body.data as Row[];
  assert.ok(
    seenByB.some((r) => r.key_id === b.keyId && r.path === '/api/v1/whoami'),
    'B sees its own request',
  );
  assert.ok(
    seenByB.every((r) => r.key_id !== a.keyId && r.path !== '/api/v1/activity-log'),
    'B never sees A’s requests',
  );
  // Asking for A's key by id from B finds nothing.
  assert.equal((await app.request('GET', `/api/v1/dev/api-requests?key_id=${a.keyId}`, { key: b.key })).body.data.length, 0);
});

test('/api/health and the API answer 503 unavailable while the database refuses connections, and recover', async () => {
  const down = await startTestApp();
  const name = new URL(down.databaseUrl).pathname.slice(1);
  const adminUrl = process.env.OPSBASE_TEST_ADMIN_URL!;
  const tenant = await down.tenant('Down');
  const setAllowed = (allowed: boolean) =>
    withClient(adminUrl, async (c) => {
      await c.query(`alter database ${name} allow_connections ${allowed}`);
      if (!allowed) await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    });
  try {
    assert.equal((await down.request('GET', '/api/health')).status, 200);
    await setAllowed(false);
    await sleep(200);
    const health = await down.request('GET', '/api/health');
    assertEnvelope(health, 503, 'unavailable', 'health');
    assert.equal(health.body.details?.db, 'down');
    assertEnvelope(await down.request('GET', '/api/ready'), 503, 'unavailable', 'ready');
    assertEnvelope(await down.request('GET', '/api/v1/whoami', { key: tenant.key }), 503, 'unavailable', 'whoami');
    assertEnvelope(
      await down.request('POST', '/api/v1/activity-log', { key: tenant.key, body: { action: 'during.outage', entity_type: 'x' } }),
      503,
      'unavailable',
      'a write',
    );
    assertEnvelope(
      await down.request('POST', '/api/v1/auth/login', { body: { email: tenant.email, password: tenant.password } }),
      503,
      'unavailable',
      'login',
    );
    // Unknown credentials cannot be checked either: that is an outage, not a 401.
    assertEnvelope(
      await down.request('GET', '/api/v1/whoami', { key: `obk_live_${randomBytes(20).toString('hex')}` }),
      503,
      'unavailable',
      'unknown key',
    );

    // Outlast the auth cache listener's first reconnect attempts (500 ms apart).
    await sleep(1500);
    await setAllowed(true);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await down.request('GET', '/api/health')).status;
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200, 'health recovers');
    assert.equal((await down.request('GET', '/api/v1/whoami', { key: tenant.key })).status, 200);
    assert.equal(
      (await down.request('POST', '/api/v1/activity-log', { key: tenant.key, body: { action: 'after.outage', entity_type: 'x' } })).status,
      201,
    );
    // The auth cache's LISTEN connection (revocations from other instances) comes back too.
    let listening = 0;
    for (let i = 0; i < 40 && listening === 0; i++) {
      listening = await withClient(adminUrl, async (c) => {
        const r = await c.query(`select count(*)::int as n from pg_stat_activity where datname = $1 and query ilike 'listen %'`, [name]);
        return r.rows[0].n as number;
      });
      if (listening === 0) await sleep(100);
    }
    assert.ok(listening >= 1, 'the auth cache listener reconnected');
  } finally {
    await setAllowed(true).catch(() => {});
    await down.close();
  }
});

test('logs never contain a secret: keys, passwords, session and reset tokens', async () => {
  const lines: string[] = [];
  const secrets: string[] = [];
  const logged = await startTestApp({ env: { LOG_LEVEL: 'debug' }, logStream: { write: (s: string) => void lines.push(s) } });
  try {
    const tenant = await logged.tenant('Logs');
    const extra = await logged.request('POST', '/api/v1/keys', { key: tenant.key, body: { name: 'extra' } });
    assert.equal(extra.status, 201);
    secrets.push(tenant.key, tenant.password, tenant.sessionToken, tenant.refreshToken, extra.body.secret);
    assert.equal((await logged.request('GET', `/api/v1/whoami?api_key=${tenant.key}`, { key: tenant.key })).status, 200);
    assert.equal((await logged.request('GET', '/api/v1/whoami', { key: extra.body.secret })).status, 200);
    const login = await logged.request('POST', '/api/v1/auth/login', { body: { email: tenant.email, password: tenant.password } });
    assert.equal(login.status, 200);
    secrets.push(login.body.token, login.body.refresh_token);
    const wrongPassword = `wrong-${randomBytes(6).toString('hex')}`;
    secrets.push(wrongPassword);
    assert.equal((await logged.request('POST', '/api/v1/auth/login', { body: { email: tenant.email, password: wrongPassword } })).status, 401);
    const refreshed = await logged.request('POST', '/api/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } });
    assert.equal(refreshed.status, 200);
    secrets.push(refreshed.body.token, refreshed.body.refresh_token);
    const unknownKey = `obk_live_${randomBytes(20).toString('hex')}`;
    secrets.push(unknownKey);
    assert.equal((await logged.request('GET', '/api/v1/whoami', { key: unknownKey })).status, 401);
    assert.equal(
      (await logged.request('POST', '/api/v1/auth/login', { raw: `{"email": "${tenant.email}", "password": "${wrongPassword}"` })).status,
      400,
    );
    assert.equal((await logged.request('POST', '/api/v1/auth/forgot-password', { body: { email: tenant.email } })).status, 200);
    const mail = await withClient(logged.databaseUrl, (c) => c.query(`select text from email_outbox where "to" = $1`, [tenant.email]));
    const resetToken = /token=(\S+)/.exec(mail.rows[0]?.text ?? '')?.[1];
    assert.ok(resetToken, 'a reset email was queued');
    secrets.push(resetToken);
    const newPassword = `new-${randomBytes(8).toString('hex')}-battery-staple`;
    secrets.push(newPassword);
    assert.equal((await logged.request('POST', '/api/v1/auth/reset-password', { body: { token: resetToken, password: newPassword } })).status, 200);
    const rotated = await logged.request('POST', `/api/v1/keys/${extra.body.id}/rotate`, { key: tenant.key, body: { grace_hours: 1 } });
    assert.equal(rotated.status, 200);
    secrets.push(rotated.body.secret);
  } finally {
    await logged.close();
  }
  const text = lines.join('');
  const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
  assert.ok(requests.length >= 12, `request lines were logged (${requests.length})`);
  assert.ok(requests.some((l) => l.path === '/api/v1/whoami' && l.status === 200 && typeof l.ms === 'number'));
  assert.ok(
    requests.every((l) => !String(l.path).includes('?')),
    'query strings are not logged',
  );
  assert.ok(secrets.length >= 12 && secrets.every((s) => typeof s === 'string' && s.length >= 8));
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret reached the logs: ${secret.slice(0, 12)}…`);
});

test('a write authenticated by the session cookie must come from our own origin', async () => {
  const t = await app.tenant('Cookie');
  const cookie = `opsbase_session=${t.sessionToken}`;
  const read = await app.request('GET', '/api/v1/auth/me', { headers: { cookie } });
  assert.equal(read.status, 200);
  const body = { action: 'cookie.write', entity_type: 'test' };
  const foreign = await app.request('POST', '/api/v1/activity-log', { headers: { cookie, origin: 'https://evil.example' }, body });
  assertEnvelope(foreign, 403, 'forbidden');
  const missing = await app.request('POST', '/api/v1/activity-log', { headers: { cookie }, body });
  assertEnvelope(missing, 403, 'forbidden');
  const own = await app.request('POST', '/api/v1/activity-log', { headers: { cookie, origin: app.url }, body });
  assert.equal(own.status, 201);
  const list = await app.request('GET', '/api/v1/activity-log?action=cookie.write', { key: t.key });
  assert.equal(list.body.data.length, 1);
});
