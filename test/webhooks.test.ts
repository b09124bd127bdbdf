// Outbound webhooks (issue 4, scope 5): a local receiver verifies every delivery with the official
// `standardwebhooks` package; retries follow the schedule (time driven by the test through `deliverDue`'s `now`);
// 410 disables; 5 days of failures disable with a notification; test deliveries, secret rotation, the delivery log,
// replays, the private-network guard and org isolation.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { isPrivateAddress } from '../src/core/net-guard.ts';
import { dispatchEvents } from '../src/modules/events/dispatch.ts';
import { DELIVERY_RETENTION_DAYS, deliverDue, RETRY_DELAYS_MS } from '../src/modules/webhooks/deliver.ts';
import { pruneExpired } from '../src/jobs/maintenance.ts';
import { startWorker } from '../src/jobs/worker.ts';
import { idFloor } from '../src/core/ids.ts';
import { closeDb, sql } from './helpers/db.ts';
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

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  /** The status the next requests get (default 200). */
  status: number;
  close: () => Promise<void>;
}

async function startReceiver(status = 200): Promise<Receiver> {
  const received: Received[] = [];
  const r: Receiver = { url: '', received, status, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(`status ${r.status} ${'x'.repeat(2000)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/** Verifies a received request with the official package; returns the parsed payload (throws when it does not verify). */
function verify(secret: string, r: Received): any {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}

const services = () => app.app.services;
const deliver = (now?: Date) => deliverDue(services(), { now });

async function createHook(t: Tenant, body: Record<string, unknown>) {
  const res = await app.request('POST', '/api/v1/webhooks', { key: t.key, body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; secret: string; url: string; event_types: string[]; enabled: boolean };
}

const deliveriesOf = async (t: Tenant, hookId: string, query = '') => {
  const res = await app.request('GET', `/api/v1/webhooks/${hookId}/deliveries${query}`, { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as any[];
};

test('create: the secret once (whsec_), list and get without it; bad URLs and unknown event types refused', async () => {
  const t = await app.tenant('WhCrud');
  const hook = await createHook(t, { url: 'http://127.0.0.1:9/in', event_types: ['key.created', '*'], description: 'ci' });
  assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  const raw = Buffer.from(hook.secret.slice('whsec_'.length), 'base64');
  assert.ok(raw.length >= 24 && raw.length <= 32, `secret bytes: ${raw.length}`);
  assert.match(hook.id, /^whk_/);
  assert.equal(hook.enabled, true);
  const got = await app.request('GET', `/api/v1/webhooks/${hook.id}`, { key: t.key });
  assert.equal(got.status, 200);
  assert.equal(got.body.secret, undefined);
  assert.equal(got.body.description, 'ci');
  const list = await app.request('GET', '/api/v1/webhooks', { key: t.key });
  assert.deepEqual(
    list.body.data.map((w: { id: string }) => w.id),
    [hook.id],
  );
  assert.ok(list.body.data.every((w: object) => !('secret' in w)));
  // Stored encrypted, not in plaintext.
  const [row] = await sql(app, 'select secret_encrypted from webhooks where id = $1', [hook.id]);
  assert.ok(!row.secret_encrypted.includes(hook.secret.slice(6)));

  for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url', 'http://user:pw@example.com/']) {
    const res = await app.request('POST', '/api/v1/webhooks', { key: t.key, body: { url, event_types: ['*'] } });
    assert.ok(res.status === 400 || res.status === 422, `${url}: ${res.status}`);
    assertEnvelope(res, res.status, res.status === 400 ? 'invalid_request' : 'unprocessable', url);
  }
  const unknown = await app.request('POST', '/api/v1/webhooks', { key: t.key, body: { url: 'http://127.0.0.1:9/', event_types: ['nope.nothing'] } });
  assertEnvelope(unknown, 422, 'unprocessable', 'unknown event type');
  assert.match(unknown.body.message, /nope\.nothing/);
  assertEnvelope(
    await app.request('POST', '/api/v1/webhooks', { key: t.key, body: { url: 'http://127.0.0.1:9/', event_types: [] } }),
    400,
    'invalid_request',
  );

  // Update, delete (soft: gone from the API).
  const upd = await app.request('PATCH', `/api/v1/webhooks/${hook.id}`, { key: t.key, body: { event_types: ['key.revoked'], description: null } });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.deepEqual(upd.body.event_types, ['key.revoked']);
  assert.equal(upd.body.description, null);
  assertEnvelope(await app.request('PATCH', `/api/v1/webhooks/${hook.id}`, { key: t.key, body: { url: 'gopher://x' } }), 422, 'unprocessable');
  assert.equal((await app.request('DELETE', `/api/v1/webhooks/${hook.id}`, { key: t.key })).status, 200);
  assertEnvelope(await app.request('GET', `/api/v1/webhooks/${hook.id}`, { key: t.key }), 404, 'not_found');
  assert.equal((await app.request('GET', '/api/v1/webhooks', { key: t.key })).body.data.length, 0);

  // Scopes: webhooks:read may read, not write.
  const reader = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'r', scopes: ['webhooks:read'] } });
  assert.equal((await app.request('GET', '/api/v1/webhooks', { key: reader.body.secret })).status, 200);
  assertEnvelope(
    await app.request('POST', '/api/v1/webhooks', { key: reader.body.secret, body: { url: 'http://127.0.0.1:9/', event_types: ['*'] } }),
    403,
    'forbidden',
  );
});

test('an event is delivered once, signed (verified with standardwebhooks), to the endpoints subscribed to it', async () => {
  const t = await app.tenant('WhDeliver');
  const rx = await startReceiver();
  const other = await startReceiver();
  try {
    const hook = await createHook(t, { url: rx.url, event_types: ['key.created'] });
    const revokedOnly = await createHook(t, { url: other.url, event_types: ['key.revoked'] });
    const key = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'hooked' } });
    assert.equal(key.status, 201);
    await dispatchEvents(services());
    await deliver();
    assert.equal(rx.received.length, 1);
    assert.equal(other.received.length, 0, 'not subscribed to key.created');
    const msg = rx.received[0];
    const payload = verify(hook.secret, msg);
    assert.equal(payload.type, 'key.created');
    assert.equal(payload.data.key_id, key.body.id);
    assert.equal(payload.data.subject, key.body.id);
    assert.ok(!Number.isNaN(Date.parse(payload.timestamp)));
    assert.match(String(msg.headers['webhook-id']), /^whd_/);
    assert.match(String(msg.headers['webhook-signature']), /^v1,/);
    assert.ok(Math.abs(Number(msg.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
    assert.match(String(msg.headers['content-type']), /application\/json/);
    // Another secret does not verify it.
    assert.throws(() => verify(revokedOnly.secret, msg));

    // Redoing dispatch and delivery sends nothing again.
    await dispatchEvents(services());
    await deliver();
    assert.equal(rx.received.length, 1);

    const [d] = await deliveriesOf(t, hook.id);
    assert.equal(d.id, msg.headers['webhook-id']);
    assert.equal(d.status, 'succeeded');
    assert.equal(d.attempts, 1);
    assert.equal(d.last_status_code, 200);
    assert.equal(typeof d.last_latency_ms, 'number');
    assert.ok(d.delivered_at);
    assert.equal(d.event_type, 'key.created');
    assert.ok(d.last_response.startsWith('status 200'));
    assert.equal(Buffer.byteLength(d.last_response), 1024, 'the first 1 KiB of the body');
    assert.equal((await deliveriesOf(t, revokedOnly.id)).length, 0);

    // Revoking the key reaches the other endpoint.
    await app.request('POST', `/api/v1/keys/${key.body.id}/revoke`, { key: t.key });
    await dispatchEvents(services());
    await deliver();
    assert.equal(other.received.length, 1);
    assert.equal(verify(revokedOnly.secret, other.received[0]).type, 'key.revoked');
    assert.equal(rx.received.length, 1);

    // A disabled endpoint gets no new deliveries.
    await app.request('PATCH', `/api/v1/webhooks/${revokedOnly.id}`, { key: t.key, body: { enabled: false } });
    const k2 = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'k2' } });
    await app.request('POST', `/api/v1/keys/${k2.body.id}/revoke`, { key: t.key });
    await dispatchEvents(services());
    await deliver();
    assert.equal(other.received.length, 1);
    assert.equal((await deliveriesOf(t, revokedOnly.id)).length, 1);
  } finally {
    await rx.close();
    await other.close();
  }
});

test('a failing receiver gets the retry schedule (5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 10 h), then the delivery fails', async () => {
  const t = await app.tenant('WhRetry');
  const rx = await startReceiver(500);
  try {
    const hook = await createHook(t, { url: rx.url, event_types: ['*'] });
    const sent = await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.equal(sent.body.status, 'pending');
    assert.equal(sent.body.event_type, 'webhook.test');
    let now = new Date(Date.now() + 1000);
    await deliver(now);
    assert.equal(rx.received.length, 1);
    for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
      const [d] = await deliveriesOf(t, hook.id);
      assert.equal(d.status, 'pending');
      assert.equal(d.attempts, i + 1);
      assert.equal(d.last_status_code, 500);
      assert.equal(Date.parse(d.next_attempt_at), now.getTime() + delay, `retry ${i + 1} after ${delay} ms`);
      // Not before it is due.
      await deliver(new Date(now.getTime() + delay - 1000));
      assert.equal(rx.received.length, i + 1, `nothing before retry ${i + 1} is due`);
      now = new Date(now.getTime() + delay);
      await deliver(now);
      assert.equal(rx.received.length, i + 2, `retry ${i + 1} sent`);
    }
    const [d] = await deliveriesOf(t, hook.id);
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts, 8);
    assert.equal(d.next_attempt_at, null);
    await deliver(new Date(now.getTime() + 48 * 3_600_000));
    assert.equal(rx.received.length, 8, 'no attempt after the last');
    // Every attempt was the same message, signed.
    for (const r of rx.received) {
      assert.equal(verify(hook.secret, r).type, 'webhook.test');
      assert.equal(r.headers['webhook-id'], sent.body.id);
    }
    const failing = (await app.request('GET', `/api/v1/webhooks/${hook.id}`, { key: t.key })).body;
    assert.ok(failing.failing_since, 'the endpoint is failing');
    assert.equal(failing.enabled, true, 'not yet for 5 days');

    // Failing continuously for 5 days: disabled, with a notification.
    await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} });
    await deliver(new Date(Date.parse(failing.failing_since) + 5 * 24 * 3_600_000));
    const disabled = (await app.request('GET', `/api/v1/webhooks/${hook.id}`, { key: t.key })).body;
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabled_reason, /5 days/);
    const notes = await app.request('GET', '/api/v1/notifications?type=webhook.disabled', { key: t.key });
    assert.equal(notes.body.data.length, 1, JSON.stringify(notes.body));
    assert.equal(notes.body.data[0].data.webhook_id, hook.id);

    // Enabling again starts afresh; a success clears the failing run.
    const re = await app.request('PATCH', `/api/v1/webhooks/${hook.id}`, { key: t.key, body: { enabled: true } });
    assert.equal(re.body.enabled, true);
    assert.equal(re.body.disabled_reason, null);
    assert.equal(re.body.failing_since, null);
  } finally {
    await rx.close();
  }
});

test('410 Gone disables the endpoint at once; a disabled endpoint takes no test or replay until enabled', async () => {
  const t = await app.tenant('WhGone');
  const rx = await startReceiver(410);
  try {
    const hook = await createHook(t, { url: rx.url, event_types: ['*'] });
    const sent = await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} });
    await deliver();
    assert.equal(rx.received.length, 1);
    verify(hook.secret, rx.received[0]);
    const [d] = await deliveriesOf(t, hook.id);
    assert.equal(d.status, 'failed');
    assert.equal(d.last_status_code, 410);
    assert.equal(d.attempts, 1);
    const w = (await app.request('GET', `/api/v1/webhooks/${hook.id}`, { key: t.key })).body;
    assert.equal(w.enabled, false);
    assert.match(w.disabled_reason, /410/);
    await deliver(new Date(Date.now() + 3_600_000));
    assert.equal(rx.received.length, 1, 'no retry after 410');
    assertEnvelope(await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} }), 422, 'unprocessable');
    assertEnvelope(await app.request('POST', `/api/v1/webhook-deliveries/${sent.body.id}/replay`, { key: t.key, body: {} }), 422, 'unprocessable');
    const notes = await app.request('GET', '/api/v1/notifications?type=webhook.disabled', { key: t.key });
    assert.equal(notes.body.data.length, 1);
  } finally {
    await rx.close();
  }
});

test('rotate secret: the new secret signs from now on; the old signature does not verify with it', async () => {
  const t = await app.tenant('WhRotate');
  const rx = await startReceiver();
  try {
    const hook = await createHook(t, { url: rx.url, event_types: ['*'] });
    await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} });
    await deliver();
    verify(hook.secret, rx.received[0]);
    const rotated = await app.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { key: t.key, body: {} });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.match(rotated.body.secret, /^whsec_/);
    assert.notEqual(rotated.body.secret, hook.secret);
    assert.throws(() => verify(rotated.body.secret, rx.received[0]), 'the old signature does not verify with the new secret');
    await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} });
    await deliver();
    assert.equal(rx.received.length, 2);
    assert.equal(verify(rotated.body.secret, rx.received[1]).type, 'webhook.test');
    assert.throws(() => verify(hook.secret, rx.received[1]));
  } finally {
    await rx.close();
  }
});

test('the delivery log (per endpoint and /dev/webhook-deliveries, with filters) and replay', async () => {
  const t = await app.tenant('WhLog');
  const rx = await startReceiver();
  const bad = await startReceiver(503);
  try {
    const good = await createHook(t, { url: rx.url, event_types: ['*'] });
    const failing = await createHook(t, { url: bad.url, event_types: ['*'] });
    await app.request('POST', `/api/v1/webhooks/${good.id}/test`, { key: t.key, body: {} });
    await app.request('POST', `/api/v1/webhooks/${failing.id}/test`, { key: t.key, body: {} });
    await deliver();
    const all = await app.request('GET', '/api/v1/dev/webhook-deliveries', { key: t.key });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.data.length, 2);
    const ok = await app.request('GET', '/api/v1/dev/webhook-deliveries?status=succeeded', { key: t.key });
    assert.deepEqual(
      ok.body.data.map((d: { webhook_id: string }) => d.webhook_id),
      [good.id],
    );
    const pending = await app.request('GET', `/api/v1/dev/webhook-deliveries?status=pending&webhook_id=${failing.id}`, { key: t.key });
    assert.equal(pending.body.data.length, 1);
    assert.equal(pending.body.data[0].last_status_code, 503);
    assert.equal(pending.body.data[0].attempts, 1);
    assert.ok(pending.body.data[0].last_response.startsWith('status 503'));
    assert.equal((await app.request('GET', '/api/v1/dev/webhook-deliveries?event_type=key.created', { key: t.key })).body.data.length, 0);
    assert.equal((await deliveriesOf(t, good.id, '?status=failed')).length, 0);
    const page = await app.request('GET', '/api/v1/dev/webhook-deliveries?limit=1', { key: t.key });
    assert.equal(page.body.meta.has_more, true);

    // Replay: a new delivery with the same payload, sent now and signed with its own id.
    const [first] = await deliveriesOf(t, good.id);
    const replay = await app.request('POST', `/api/v1/webhook-deliveries/${first.id}/replay`, { key: t.key, body: {} });
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.notEqual(replay.body.id, first.id);
    assert.deepEqual(replay.body.payload, first.payload);
    await deliver();
    assert.equal(rx.received.length, 2);
    assert.equal(rx.received[1].headers['webhook-id'], replay.body.id);
    assert.deepEqual(verify(good.secret, rx.received[1]), first.payload);
    assert.equal((await deliveriesOf(t, good.id, '?status=succeeded')).length, 2);
    assertEnvelope(
      await app.request('POST', '/api/v1/webhook-deliveries/whd_0000000000000000000000000a/replay', { key: t.key, body: {} }),
      404,
      'not_found',
    );
  } finally {
    await rx.close();
    await bad.close();
  }
});

test('the private-network guard: private, loopback and link-local hosts are refused (422), when saved and when sent', async () => {
  assert.ok(isPrivateAddress('127.0.0.1'));
  assert.ok(isPrivateAddress('10.1.2.3'));
  assert.ok(isPrivateAddress('172.20.0.1'));
  assert.ok(isPrivateAddress('192.168.1.1'));
  assert.ok(isPrivateAddress('169.254.169.254'));
  assert.ok(isPrivateAddress('::1'));
  assert.ok(isPrivateAddress('fe80::1'));
  assert.ok(isPrivateAddress('fd12:3456::1'));
  assert.ok(isPrivateAddress('::ffff:127.0.0.1'));
  assert.ok(isPrivateAddress('::ffff:7f00:1'));
  assert.ok(isPrivateAddress('0.0.0.0'));
  assert.ok(!isPrivateAddress('8.8.8.8'));
  assert.ok(!isPrivateAddress('2606:4700:4700::1111'));
  assert.ok(!isPrivateAddress('::ffff:8.8.8.8'));

  const guarded = await startTestApp({ databaseUrl: app.databaseUrl, admin: app.admin, env: { OPSBASE_ALLOW_PRIVATE_NETWORK: 'false' } });
  const rx = await startReceiver();
  try {
    const t = await app.tenant('WhGuard');
    for (const url of [
      rx.url,
      'http://localhost:8080/x',
      'http://[::1]:8080/',
      'http://169.254.169.254/latest',
      'http://10.0.0.5/',
      'https://192.168.0.1/',
    ]) {
      const res = await guarded.request('POST', '/api/v1/webhooks', { key: t.key, body: { url, event_types: ['*'] } });
      assertEnvelope(res, 422, 'unprocessable', url);
      assert.equal(res.body.details.field, 'url');
    }
    // Saved while allowed (another instance's setting), then refused when sent by a guarded deliverer.
    const hook = await createHook(t, { url: rx.url, event_types: ['*'] });
    const sent = await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: t.key, body: {} });
    await deliverDue(guarded.app.services);
    assert.equal(rx.received.length, 0);
    const [d] = await deliveriesOf(t, hook.id);
    assert.equal(d.id, sent.body.id);
    assert.equal(d.last_status_code, null);
    assert.match(d.last_response, /private/);
    assert.equal(d.status, 'pending', 'retried later');
  } finally {
    await rx.close();
    await guarded.close();
  }
});

test("org isolation: B gets 404 on A's webhooks and deliveries, and sees none of them in its lists", async () => {
  const a = await app.tenant('WhIsoA');
  const b = await app.tenant('WhIsoB');
  const hook = await createHook(a, { url: 'http://127.0.0.1:9/a', event_types: ['*'] });
  const delivery = (await app.request('POST', `/api/v1/webhooks/${hook.id}/test`, { key: a.key, body: {} })).body;
  const calls: [string, string, unknown?][] = [
    ['GET', `/api/v1/webhooks/${hook.id}`],
    ['PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: false }],
    ['DELETE', `/api/v1/webhooks/${hook.id}`],
    ['POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, {}],
    ['POST', `/api/v1/webhooks/${hook.id}/test`, {}],
    ['GET', `/api/v1/webhooks/${hook.id}/deliveries`],
    ['POST', `/api/v1/webhook-deliveries/${delivery.id}/replay`, {}],
  ];
  for (const [method, path, body] of calls) {
    for (const key of [b.key, b.sessionToken]) assertEnvelope(await app.request(method, path, { key, body }), 404, 'not_found', `${method} ${path}`);
  }
  assert.equal((await app.request('GET', '/api/v1/webhooks', { key: b.key })).body.data.length, 0);
  assert.equal((await app.request('GET', '/api/v1/dev/webhook-deliveries', { key: b.key })).body.data.length, 0);
  assert.equal((await app.request('GET', `/api/v1/dev/webhook-deliveries?webhook_id=${hook.id}`, { key: b.key })).body.data.length, 0);
  // A's endpoint is untouched, and B's events never reach it.
  const still = await app.request('GET', `/api/v1/webhooks/${hook.id}`, { key: a.key });
  assert.equal(still.body.enabled, true);
  await app.request('POST', '/api/v1/keys', { key: b.key, body: { name: 'b-event' } });
  await dispatchEvents(services());
  assert.equal((await deliveriesOf(a, hook.id)).length, 1);
});

test('retention: finished deliveries older than 30 days are pruned by the maintenance job; pending and recent ones stay', async () => {
  const t = await app.tenant('WhPrune');
  const hook = await createHook(t, { url: 'http://127.0.0.1:9/in', event_types: ['*'] });
  const floor = idFloor('webhookDelivery', Date.now() - (DELIVERY_RETENTION_DAYS + 5) * 86_400_000);
  const recent = idFloor('webhookDelivery', Date.now() - 2 * 86_400_000);
  const rows: [string, string][] = [
    [`${floor}${'a'.padEnd(16, '0')}`, 'succeeded'],
    [`${floor}${'b'.padEnd(16, '0')}`, 'failed'],
    [`${floor}${'c'.padEnd(16, '0')}`, 'pending'],
    [`${recent}${'d'.padEnd(16, '0')}`, 'succeeded'],
  ];
  for (const [id, status] of rows) {
    await sql(
      app,
      `insert into webhook_deliveries (id, org_id, webhook_id, event_type, payload, status) values ($1, $2, $3, 'test.ping', '{}', $4)`,
      [id, t.orgId, hook.id, status],
    );
  }
  const pruned = await pruneExpired(services());
  assert.ok(pruned.webhook_deliveries >= 2, JSON.stringify(pruned));
  const left = (
    await sql<{ id: string; status: string }>(app, `select id, status from webhook_deliveries where org_id = $1 order by id`, [t.orgId])
  ).map((r) => r.status);
  assert.deepEqual(left, ['pending', 'succeeded']);
});

test('the worker is woken by NOTIFY: an event reaches its webhook without waiting for a poll', async () => {
  const t = await app.tenant('WhWake');
  const rx = await startReceiver();
  // Polls an hour apart: a delivery within the wait below can only come from the wake-ups (event recorded →
  // dispatcher; deliveries written → deliverer).
  const worker = await startWorker(services(), { pollMs: 3_600_000 });
  try {
    const hook = await createHook(t, { url: rx.url, event_types: ['key.created'] });
    const key = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'woken' } });
    assert.equal(key.status, 201);
    const deadline = Date.now() + 20_000;
    while (rx.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(rx.received.length, 1, 'delivered on the wake-ups alone');
    const payload = verify(hook.secret, rx.received[0]);
    assert.equal(payload.type, 'key.created');
    assert.equal(payload.data.key_id, key.body.id);
  } finally {
    await worker.stop();
    await rx.close();
  }
});
