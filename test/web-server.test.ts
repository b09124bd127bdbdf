// The server side of the dashboard: cookies (malformed ones are no credential, never a 500), the session cookie
// set by login / refresh and cleared by logout (the Origin check on cookie writes is in http-contract.test.ts), the
// dashboard's static files and client-route fallback with its CSP, the CLI hints in OpenAPI, and the Server-Sent Event streams.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startWorker } from '../src/jobs/worker.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let t: Tenant;
before(async () => {
  app = await startTestApp();
  t = await app.tenant('Web');
});
after(() => app.close());

/** `name=value` pairs of a response's Set-Cookie headers, with their attributes. */
function cookiesOf(res: { headers: Headers }): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) out.set(line.split('=')[0], line);
  return out;
}
const cookieValue = (line: string) => line.split(';')[0].split('=').slice(1).join('=');

test('a malformed cookie is no credential: never a 500, on public and authenticated routes alike', async () => {
  for (const cookie of ['opsbase_session=%', 'opsbase_session=%E0%A4%A', '%=%; opsbase_session="', 'a=b;;; opsbase_session']) {
    const health = await app.request('GET', '/api/health', { headers: { cookie } });
    assert.equal(health.status, 200, `${cookie}: ${JSON.stringify(health.body)}`);
    const me = await app.request('GET', '/api/v1/auth/me', { headers: { cookie } });
    assert.equal(me.status, 401, cookie);
    assert.equal(me.body.error, 'unauthorized');
  }
  // A cookie that does not authenticate is cleared, so the browser stops sending it; a working one is left alone.
  const stale = await app.request('GET', '/api/health', { headers: { cookie: 'opsbase_session=obs_revoked_or_unknown' } });
  assert.match(cookiesOf(stale).get('opsbase_session') ?? '', /Expires=Thu, 01 Jan 1970/);
  const good = await app.request('GET', '/api/v1/auth/me', { headers: { cookie: `opsbase_session=${t.sessionToken}` } });
  assert.equal(good.status, 200);
  assert.equal(cookiesOf(good).size, 0);
  // A bad cookie beside a good bearer token does not get in the way.
  const withKey = await app.request('GET', '/api/v1/whoami', { key: t.key, headers: { cookie: 'opsbase_session=%' } });
  assert.equal(withKey.status, 200);
});

test('login sets an HttpOnly SameSite=Lax session cookie that authenticates; refresh renews it from its cookie; logout clears both', async () => {
  const login = await app.request('POST', '/api/v1/auth/login', { body: { email: t.email, password: t.password } });
  assert.equal(login.status, 200);
  const set = cookiesOf(login);
  const session = set.get('opsbase_session')!;
  assert.match(session, /HttpOnly/);
  assert.match(session, /SameSite=Lax/);
  assert.match(session, /Path=\//);
  assert.equal(cookieValue(session), login.body.token);
  const refresh = set.get('opsbase_refresh')!;
  assert.match(refresh, /Path=\/api\/v1\/auth\/refresh/);
  assert.match(refresh, /HttpOnly/);

  const cookie = `opsbase_session=${login.body.token}`;
  const me = await app.request('GET', '/api/v1/auth/me', { headers: { cookie } });
  assert.equal(me.status, 200);
  assert.equal(me.body.email, t.email);

  // The refresh token comes from its cookie when the body has none.
  const renewed = await app.request('POST', '/api/v1/auth/refresh', {
    body: {},
    headers: { cookie: `opsbase_refresh=${cookieValue(refresh)}`, origin: app.url },
  });
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
  const newSession = cookieValue(cookiesOf(renewed).get('opsbase_session')!);
  assert.equal(newSession, renewed.body.token);
  assert.notEqual(newSession, login.body.token);
  assert.equal((await app.request('GET', '/api/v1/auth/me', { headers: { cookie } })).status, 401, 'the old session ended with the refresh');

  const out = await app.request('POST', '/api/v1/auth/logout', { body: {}, headers: { cookie: `opsbase_session=${newSession}`, origin: app.url } });
  assert.equal(out.status, 200);
  const cleared = cookiesOf(out);
  assert.match(cleared.get('opsbase_session')!, /Expires=Thu, 01 Jan 1970/);
  assert.match(cleared.get('opsbase_refresh')!, /Expires=Thu, 01 Jan 1970/);
  assert.equal((await app.request('GET', '/api/v1/auth/me', { headers: { cookie: `opsbase_session=${newSession}` } })).status, 401);
});

test('the dashboard is served at / with its own CSP; client routes fall back to index.html; API paths keep JSON 404s', async () => {
  const root = await fetch(`${app.url}/`);
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type')!, /text\/html/);
  const html = await root.text();
  assert.match(html, /<div id="root">/);
  const csp = root.headers.get('content-security-policy')!;
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

  const page = { headers: { accept: 'text/html,application/xhtml+xml' } };
  const deep = await fetch(`${app.url}/keys?x=1`, page);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), html);
  // Only a browser asking for a page gets the app; an API client's typo gets the envelope it can parse.
  const notPage = await app.request('GET', '/keys');
  assert.equal(notPage.status, 404);
  assert.equal(notPage.body.error, 'not_found');

  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
  const js = await fetch(app.url + asset, { headers: { 'accept-encoding': 'br, gzip' } });
  assert.equal(js.status, 200);
  assert.match(js.headers.get('cache-control')!, /immutable/);
  // Sent precompressed to a browser that takes brotli (fetch decompresses it: the body is still the script).
  assert.equal(js.headers.get('content-encoding'), 'br');
  assert.match(await js.text(), /createRoot|react/i);
  assert.equal((await fetch(`${app.url}/assets/missing-0000.js`, page)).status, 404);

  const api = await app.request('GET', '/api/v1/no-such-thing', { headers: page.headers });
  assert.equal(api.status, 404);
  assert.equal(api.body.error, 'not_found');
  assert.equal(api.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
});

test('the setup probe says whether the instance is empty and whether it sends email', async () => {
  const res = await app.request('GET', '/api/dashboard/setup');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { first_account: false, email: false });
});

test('OpenAPI carries each operation\'s CLI hints, cost and caller kind (x-opsbase) for generic clients', async () => {
  const doc = (await app.request('GET', '/api/openapi.json')).body;
  const list = doc.paths['/api/v1/keys'].get['x-opsbase'];
  assert.deepEqual(list.cli.columns, ['id', 'name', 'masked', 'scopes', 'status', 'last_used_at']);
  assert.equal(list.cost, 0);
  assert.equal(list.auth, 'org');
  assert.equal(doc.paths['/api/v1/billing/grants'].post['x-opsbase'].instance_admin, true);
  assert.equal(doc.paths['/api/v1/keys/{id}'].delete['x-opsbase'].destructive, true);
});

/** Reads Server-Sent Events until `until` returns true for one of them (or times out). */
async function readEvents(res: Response, until: (event: string) => boolean, ms = 5000): Promise<string[]> {
  const reader = res.body!.getReader();
  const seen: string[] = [];
  let buffer = '';
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
      if (!chunk || chunk.done) break;
      buffer += new TextDecoder().decode(chunk.value);
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        const name = /^event: (.+)$/m.exec(block)?.[1];
        if (!name) continue;
        seen.push(name);
        if (until(name)) return seen;
      }
    }
    return seen;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

test('the queue stream tells the submitting org, and only it, that a job arrived', async () => {
  const other = await app.tenant('Other');
  const mine = await fetch(`${app.url}/api/v1/streams/queue`, { headers: { authorization: `Bearer ${t.key}` } });
  const theirs = await fetch(`${app.url}/api/v1/streams/queue`, { headers: { authorization: `Bearer ${other.key}` } });
  assert.equal(mine.status, 200);
  assert.match(mine.headers.get('content-type')!, /text\/event-stream/);
  const mineEvents = readEvents(mine, (e) => e === 'queue');
  const theirEvents = readEvents(theirs, (e) => e === 'queue', 1500);
  await new Promise((r) => setTimeout(r, 200));
  const job = await app.request('POST', '/api/v1/queue/jobs', { key: t.key, body: { queue: 'web-test', task_type: 'noop', payload: {} } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  assert.deepEqual((await mineEvents).filter((e) => e === 'queue'), ['queue']);
  assert.deepEqual((await theirEvents).filter((e) => e === 'queue'), []);
});

test('the notifications stream signals after events were recorded (for the dispatcher to fan out)', async () => {
  const res = await fetch(`${app.url}/api/v1/streams/notifications`, { headers: { authorization: `Bearer ${t.key}` } });
  const events = readEvents(res, (e) => e === 'notifications');
  await new Promise((r) => setTimeout(r, 200));
  // Creating a key records a `key.created` event (the events table's insert trigger NOTIFYs opsbase_events).
  assert.equal((await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'stream-probe' } })).status, 201);
  assert.deepEqual((await events).filter((e) => e === 'notifications'), ['notifications']);
});

test('instance admins hear `fleet` on the queue stream when a worker joins; org members do not', async () => {
  const member = await app.tenant('Member');
  const open = (token: string) => fetch(`${app.url}/api/v1/streams/queue`, { headers: { authorization: `Bearer ${token}` } });
  const adminEvents = readEvents(await open(app.admin.sessionToken), (e) => e === 'fleet', 15_000);
  const memberEvents = readEvents(await open(member.sessionToken), (e) => e === 'fleet', 8_000);
  const worker = await startWorker(app.app.services);
  try {
    assert.ok((await adminEvents).includes('fleet'), 'the admin heard the new worker');
    assert.ok(!(await memberEvents).includes('fleet'), 'a member is not told about the fleet');
  } finally {
    await worker.stop();
  }
});

test('streams are authenticated like any route', async () => {
  const anon = await app.request('GET', '/api/v1/streams/notifications');
  assert.equal(anon.status, 401);
  assert.equal(anon.body.error, 'unauthorized');
  const bad = await app.request('GET', '/api/v1/streams/queue', { headers: { cookie: 'opsbase_session=%' } });
  assert.equal(bad.status, 401);
});
