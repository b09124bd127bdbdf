// The server side of the dashboard: cookies (malformed ones are no credential, never a 500), the session cookie
// set by login / refresh and cleared by logout (the Origin check on cookie writes is in http-contract.test.ts), the
// dashboard's static files and client-route fallback with its CSP, the CLI hints in OpenAPI, and the Server-Sent Event streams.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startWorker } from '../src/jobs/worker.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let t: Tenant;
/** Another org for the streams' "only its own org hears it" checks, made long before they run: the signals of its
 * own creation (events, a notification) reach the server's listener asynchronously, and one arriving late would
 * otherwise be heard by its stream as if it were about the other org's work. */
let bystander: Tenant;
before(async () => {
  app = await startTestApp();
  t = await app.tenant('Web');
  bystander = await app.tenant('Bystander');
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

/** Reads a Server-Sent Events stream as it comes: `next(name)` waits for the next event of that name. */
function listen(res: Response) {
  const seen: string[] = [];
  let read = 0;
  let arrived = () => {};
  const reader = res.body!.getReader();
  const done = (async () => {
    let buffer = '';
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) return;
      buffer += new TextDecoder().decode(chunk.value);
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        const name = /^event: (.+)$/m.exec(block)?.[1];
        if (name) seen.push(name);
      }
      arrived();
    }
  })();
  return {
    seen,
    /** True when an event `name` came (after the ones already taken) within `ms`; takes everything up to it. */
    async next(name: string, ms = 5000): Promise<boolean> {
      const deadline = Date.now() + ms;
      for (;;) {
        const at = seen.indexOf(name, read);
        if (at >= 0) {
          read = at + 1;
          return true;
        }
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((r) => {
          arrived = r;
          setTimeout(r, left);
        });
      }
    },
    close: async () => {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

const stream = async (topic: string, token: string) => {
  const res = await fetch(`${app.url}/api/v1/streams/${topic}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/event-stream/);
  const s = listen(res);
  assert.ok(await s.next('ready'), 'the stream opened');
  return s;
};

type Stream = Awaited<ReturnType<typeof stream>>;

/** Opens `topic` for this test's org and for another one, runs `fn`, then closes both. */
async function withStreams(topic: string, fn: (mine: Stream, theirs: Stream) => Promise<void>) {
  const mine = await stream(topic, t.key);
  const theirs = await stream(topic, bystander.key);
  try {
    await fn(mine, theirs);
  } finally {
    await mine.close();
    await theirs.close();
  }
}

test('the queue stream tells the org, and only it, of every state change of its jobs; a heartbeat sends nothing', () =>
  withStreams('queue', async (mine, theirs) => {
    const call = async (method: string, path: string, body: object = {}, status = 200) => {
      const res = await app.request(method, `/api/v1${path}`, { key: t.key, body });
      assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const submit = () => call('POST', '/queue/jobs', { queue: 'web-test', task_type: 'noop', payload: {} }, 201);
    const claim = async () => (await call('POST', '/queue/claim', { queue: 'web-test', worker_id: 'w', batch_size: 1 })).data[0];
    const job = await submit();
    assert.ok(await mine.next('queue'), 'submitted');
    assert.equal((await claim()).id, job.id);
    assert.ok(await mine.next('queue'), 'claimed');
    await call('POST', `/queue/jobs/${job.id}/heartbeat`, { worker_id: 'w' });
    assert.equal(await mine.next('queue', 700), false, 'a heartbeat changes no state');
    await call('POST', `/queue/jobs/${job.id}/complete`, { worker_id: 'w', result: { ok: true } });
    assert.ok(await mine.next('queue'), 'completed');

    const cancelled = await submit();
    assert.ok(await mine.next('queue'));
    await call('POST', `/queue/jobs/${cancelled.id}/cancel`);
    assert.ok(await mine.next('queue'), 'cancelled');
    await call('POST', `/queue/jobs/${cancelled.id}/retry`);
    assert.ok(await mine.next('queue'), 'retried');
    assert.equal((await claim()).id, cancelled.id);
    assert.ok(await mine.next('queue'));
    // Dead-lettered: the state change, and the `job.failed` event recorded with it.
    await call('POST', `/queue/jobs/${cancelled.id}/fail`, { worker_id: 'w', error: 'boom', retry: false });
    assert.ok(await mine.next('queue'), 'failed');
    assert.ok(await mine.next('events'), 'its event');

    assert.equal(await theirs.next('queue', 300), false, 'another org hears nothing of it');
    assert.equal(await theirs.next('events', 0), false);
  }));

test('the notifications stream tells the org, and only it, when a notification was made', () =>
  withStreams('notifications', async (mine, theirs) => {
    // No worker runs here: the signal comes from the notifications insert itself, not from the events' fan-out.
    const made = await app.request('POST', '/api/v1/notifications', { key: t.key, body: { title: 'Stream probe' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.ok(await mine.next('notifications'));
    assert.equal(await theirs.next('notifications', 500), false);
  }));

test('instance admins hear `fleet` on the queue stream when a worker joins; org members do not', async () => {
  const member = await app.tenant('Member');
  const admin = await stream('queue', app.admin.sessionToken);
  const other = await stream('queue', member.sessionToken);
  const worker = await startWorker(app.app.services);
  try {
    assert.ok(await admin.next('fleet', 15_000), 'the admin heard the new worker');
    assert.equal(await other.next('fleet', 0), false, 'a member is not told about the fleet');
  } finally {
    await worker.stop();
    await admin.close();
    await other.close();
  }
});

test('streams are authenticated like any route', async () => {
  const anon = await app.request('GET', '/api/v1/streams/notifications');
  assert.equal(anon.status, 401);
  assert.equal(anon.body.error, 'unauthorized');
  const bad = await app.request('GET', '/api/v1/streams/queue', { headers: { cookie: 'opsbase_session=%' } });
  assert.equal(bad.status, 401);
});
