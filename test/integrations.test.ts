// Integrations: the catalogue with statuses, configure (fields validated per kind; secrets into the vault, the rest
// plainly; partial updates keep the secret), and connection tests that really call the service — here local fakes
// for OpenAI-compatible, OpenAI, Anthropic, Stripe, Slack, Meta and SMTP — recording ok / failing with the error,
// from which any secret the vendor echoed back is removed. The private-network guard applies to every URL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeDb, register, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startFakeS3 } from './helpers/fake-s3.ts';
import { startFakeStripe, type FakeStripe } from './helpers/fake-stripe.ts';
import { startFakeVendor, type FakeVendor } from './helpers/fake-vendor.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { startSmtp, type TestSmtp } from './helpers/smtp.ts';

let app: TestApp;
let stripe: FakeStripe;
let smtp: TestSmtp;
let models: FakeVendor;
let slack: FakeVendor;
let meta: FakeVendor;
const LLM_KEY = 'sk-fake-models-key-123456';
before(async () => {
  app = await startTestApp();
  stripe = await startFakeStripe();
  smtp = await startSmtp();
  const list = { object: 'list', data: [{ id: 'fake-model' }, { id: 'fake-model-2' }] };
  models = await startFakeVendor(
    { 'GET /v1/models': list },
    (r) => r.headers.authorization === `Bearer ${LLM_KEY}` || r.headers['x-api-key'] === LLM_KEY,
  );
  slack = await startFakeVendor(
    { 'POST /api/auth.test': { ok: true, team: 'Acme' }, 'POST /services/T1/B1/xyz': 'ok' },
    (r) => r.path.startsWith('/services/') || r.headers.authorization === 'Bearer xoxb-good',
  );
  meta = await startFakeVendor({ 'GET /v21.0/me': { id: '42', name: 'Acme Ads' } }, (r) => r.headers.authorization === 'Bearer EAAG-good');
});
after(async () => {
  await Promise.all([stripe.close(), smtp.close(), models.close(), slack.close(), meta.close()]);
  await closeDb(app);
  await app.close();
});

const call = (t: Tenant | string, method: string, path: string, body?: unknown, orgId?: string) =>
  app.request(method, `/api/v1${path}`, { key: typeof t === 'string' ? t : t.key, body, headers: orgId ? { 'x-org-id': orgId } : {} });
const configure = (t: Tenant, kind: string, fields: Record<string, unknown>) => call(t, 'POST', `/integrations/${kind}/configure`, { fields });
const testIt = (t: Tenant, kind: string) => call(t, 'POST', `/integrations/${kind}/test`, {});

test('the catalogue: every integration, not configured at first', async () => {
  const t = await app.tenant('Catalogue');
  const res = await call(t, 'GET', '/integrations');
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body.data.map((i: { kind: string }) => i.kind),
    ['smtp', 'slack', 'stripe', 'meta', 'openai', 'anthropic', 'openai_compatible', 's3'],
  );
  assert.ok(res.body.data.every((i: { status: string }) => i.status === 'not_configured'));
  const stripeSpec = res.body.data.find((i: { kind: string }) => i.kind === 'stripe');
  assert.deepEqual(
    stripeSpec.fields.map((f: { name: string; secret: boolean }) => [f.name, f.secret]),
    [
      ['secret_key', true],
      ['api_base_url', false],
    ],
  );
  assertEnvelope(await call(t, 'GET', '/integrations/nope/status'), 404, 'not_found', 'an unknown integration');
  assertEnvelope(await testIt(t, 'stripe'), 422, 'unprocessable', 'testing before configuring');
});

test('stripe: configure (secret into the vault), test ok against the fake, a wrong key → failing with the error', async () => {
  const t = await app.tenant('Stripe');
  const saved = await configure(t, 'stripe', { secret_key: stripe.secretKey, api_base_url: stripe.url });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  assert.equal(saved.body.status, 'configured');
  assert.deepEqual(saved.body.secrets_set, ['secret_key']);
  assert.deepEqual(saved.body.settings, { api_base_url: stripe.url });
  assert.ok(!JSON.stringify(saved.body).includes(stripe.secretKey), 'the answer never holds the secret');
  const vault = (await call(t, 'GET', '/credentials?integration=stripe')).body.data;
  assert.deepEqual(
    vault.map((c: { name: string }) => c.name),
    ['stripe.secret_key'],
  );
  const [stored] = await sql(app, 'select settings::text as s from integration_configs where org_id = $1', [t.orgId]);
  assert.ok(!stored.s.includes(stripe.secretKey), 'settings hold no secret');

  const ok = await testIt(t, 'stripe');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.ok, true, ok.body.message);
  assert.equal(ok.body.status, 'ok');
  const balance = stripe.requests.filter((r) => r.path === '/v1/balance');
  assert.equal(balance.at(-1)?.authorization, `Bearer ${stripe.secretKey}`, 'the real call, with the stored key');
  const status = (await call(t, 'GET', '/integrations/stripe/status')).body;
  assert.equal(status.status, 'ok');
  assert.ok(status.last_checked_at);
  assert.equal(status.last_error, null);

  // A new key only: the base URL stays; the status goes back to configured until tested.
  const changed = await configure(t, 'stripe', { secret_key: 'sk_test_wrong' });
  assert.equal(changed.body.status, 'configured');
  assert.deepEqual(changed.body.settings, { api_base_url: stripe.url });
  const bad = await testIt(t, 'stripe');
  assert.equal(bad.body.ok, false);
  assert.equal(bad.body.status, 'failing');
  assert.match(bad.body.message, /401.*Invalid API Key/);
  const failing = (await call(t, 'GET', '/integrations')).body.data.find((i: { kind: string }) => i.kind === 'stripe');
  assert.equal(failing.status, 'failing');
  assert.match(failing.last_error, /401/);
  const acts = (await call(t, 'GET', '/activity-log?entity_type=integration')).body.data.map((a: { action: string }) => a.action);
  assert.deepEqual(acts.sort(), ['integration.configured', 'integration.configured', 'integration.tested', 'integration.tested']);
});

test('openai-compatible, openai and anthropic: GET models against the fake; an echoed key is redacted from the error', async () => {
  const t = await app.tenant('Models');
  await configure(t, 'openai_compatible', { base_url: `${models.url}/v1`, api_key: LLM_KEY });
  const compat = await testIt(t, 'openai_compatible');
  assert.equal(compat.body.ok, true, compat.body.message);
  assert.match(compat.body.message, /2 models/);
  await configure(t, 'openai', { api_key: LLM_KEY, base_url: `${models.url}/v1` });
  assert.equal((await testIt(t, 'openai')).body.ok, true);
  await configure(t, 'anthropic', { api_key: LLM_KEY, base_url: `${models.url}/v1` });
  const claude = await testIt(t, 'anthropic');
  assert.equal(claude.body.ok, true, claude.body.message);
  assert.equal(models.requests.at(-1)?.headers['anthropic-version'], '2023-06-01');

  const wrong = 'sk-wrong-key-that-the-vendor-echoes';
  await configure(t, 'openai_compatible', { api_key: wrong });
  const refused = await testIt(t, 'openai_compatible');
  assert.equal(refused.body.status, 'failing');
  assert.match(refused.body.message, /401: Incorrect API key provided: Bearer \[redacted\]/, JSON.stringify(refused.body));
  const status = (await call(t, 'GET', '/integrations/openai_compatible/status')).body;
  assert.ok(!status.last_error.includes(wrong), 'the echoed key is not stored');
  assert.equal(status.status, 'failing');
});

test('slack (bot token and webhook), meta: real calls to the fakes', async () => {
  const t = await app.tenant('Slack');
  await configure(t, 'slack', { bot_token: 'xoxb-good', api_base_url: `${slack.url}/api` });
  const bot = await testIt(t, 'slack');
  assert.equal(bot.body.ok, true, bot.body.message);
  assert.match(bot.body.message, /Acme/);
  await configure(t, 'slack', { bot_token: null, webhook_url: `${slack.url}/services/T1/B1/xyz` });
  const hook = await testIt(t, 'slack');
  assert.equal(hook.body.ok, true, hook.body.message);
  assert.match(slack.requests.at(-1)?.body ?? '', /connection test/);
  assertEnvelope(await configure(t, 'slack', { webhook_url: null }), 400, 'invalid_request', 'neither a webhook nor a token');

  await configure(t, 'meta', { access_token: 'EAAG-good', graph_base_url: `${meta.url}/v21.0` });
  const m = await testIt(t, 'meta');
  assert.equal(m.body.ok, true, m.body.message);
  assert.match(m.body.message, /Acme Ads/);
});

test('s3: a SigV4-signed ListObjectsV2 against a signature-checking fake; a wrong secret or bucket → failing', async () => {
  const s3 = await startFakeS3();
  try {
    const t = await app.tenant('S3');
    const saved = await configure(t, 's3', {
      endpoint: s3.url,
      region: s3.region,
      bucket: s3.bucket,
      access_key_id: s3.accessKeyId,
      secret_access_key: s3.secretAccessKey,
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body.secrets_set, ['secret_access_key']);
    const ok = await testIt(t, 's3');
    assert.equal(ok.body.ok, true, ok.body.message);
    assert.equal(s3.requests.at(-1)?.signed, true, 'the fake verified the signature');

    await configure(t, 's3', { secret_access_key: 'not-the-secret-at-all' });
    const badKey = await testIt(t, 's3');
    assert.equal(badKey.body.status, 'failing');
    assert.match(badKey.body.message, /403 SignatureDoesNotMatch/);
    await configure(t, 's3', { secret_access_key: s3.secretAccessKey, bucket: 'no-such-bucket' });
    const badBucket = await testIt(t, 's3');
    assert.match(badBucket.body.message, /404 NoSuchBucket/);
  } finally {
    await s3.close();
  }
});

test('smtp: connect and greet the server (nodemailer verify); a closed port → failing', async () => {
  const t = await app.tenant('Smtp');
  const saved = await configure(t, 'smtp', { host: '127.0.0.1', port: smtp.port, from: 'Ops <ops@example.com>' });
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const ok = await testIt(t, 'smtp');
  assert.equal(ok.body.ok, true, ok.body.message);
  assert.match(ok.body.message, new RegExp(`127\\.0\\.0\\.1:${smtp.port}`));

  const closed = await startSmtp();
  const port = closed.port;
  await closed.close();
  await configure(t, 'smtp', { port });
  const down = await testIt(t, 'smtp');
  assert.equal(down.body.ok, false);
  assert.equal(down.body.status, 'failing');
  assert.match(down.body.message, /ECONNREFUSED|refused/i);
});

test('configure: fields validated per kind (400 naming the field), admins only, URLs through the private-network guard', async () => {
  const t = await app.tenant('Validate');
  const cases: [string, Record<string, unknown>, string][] = [
    ['stripe', {}, 'fields.secret_key'],
    ['stripe', { secret_key: 'sk', colour: 'red' }, 'fields.colour'],
    ['smtp', { host: 'mail.example.com', port: 'twenty-five' }, 'fields.port'],
    ['smtp', { host: 'mail.example.com', port: 70000 }, 'fields.port'],
    ['smtp', { host: 'mail.example.com', secure: 'yes' }, 'fields.secure'],
    ['openai_compatible', { base_url: 'ftp://x' }, 'fields.base_url'],
    ['s3', { bucket: 'b', access_key_id: 'AKIA' }, 'fields.secret_access_key'],
  ];
  for (const [kind, fields, field] of cases) {
    const res = await configure(t, kind, fields);
    assertEnvelope(res, 400, 'invalid_request', `${kind} ${JSON.stringify(fields)}`);
    assert.ok(JSON.stringify(res.body.details).includes(field), `${field} named: ${JSON.stringify(res.body)}`);
  }
  assertEnvelope(await configure(t, 'nope', { a: 1 }), 404, 'not_found', 'unknown kind');
  assert.equal((await call(t, 'GET', '/integrations')).body.data.filter((i: { status: string }) => i.status !== 'not_configured').length, 0, 'nothing saved');

  const m = await register(app);
  await call(t, 'POST', '/org/members', { user_id: m.id, role: 'member' });
  assertEnvelope(await call(m.token, 'POST', '/integrations/stripe/configure', { fields: { secret_key: 'sk' } }, t.orgId), 403, 'forbidden', 'a member');
  assert.equal((await call(m.token, 'GET', '/integrations', undefined, t.orgId)).status, 200, 'members see the catalogue');
  const b = await app.tenant('Other');
  await configure(t, 'stripe', { secret_key: 'sk_other', api_base_url: stripe.url });
  assert.equal((await call(b, 'GET', '/integrations/stripe/status')).body.status, 'not_configured', "another org's configuration is not seen");

  const guarded = await startTestApp({ databaseUrl: app.databaseUrl, env: { OPSBASE_ALLOW_PRIVATE_NETWORK: 'false' } });
  try {
    const res = await guarded.request('POST', '/api/v1/integrations/openai_compatible/configure', {
      key: t.key,
      body: { fields: { base_url: 'http://127.0.0.1:11434/v1' } },
    });
    assertEnvelope(res, 422, 'unprocessable', 'a loopback URL without OPSBASE_ALLOW_PRIVATE_NETWORK');
    assert.equal(res.body.details.field, 'fields.base_url');
    // Saved while allowed, tested while not: the test refuses to call it.
    const test2 = await guarded.request('POST', '/api/v1/integrations/stripe/test', { key: t.key, body: {} });
    assert.equal(test2.body.ok, false);
    assert.match(test2.body.message, /private, loopback or link-local/);
  } finally {
    await guarded.app.close();
  }
});
