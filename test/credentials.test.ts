// The credentials vault: values encrypted at rest, never in lists, activity details, error messages or the server's
// log (captured at debug level and searched); reads only by owners/admins or keys with `credentials:read`, each read
// logged; another org's credential is a 404; an agent names its provider key in the vault and a run uses it; and
// `opsbase credentials rotate-master-key` re-encrypts everything in one transaction, after which every credential,
// agent key and webhook secret reads back under the new key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decrypt } from '../src/core/crypto.ts';
import { parseMasterKey } from '../src/core/master-key.ts';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { closeDb, register, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { type FakeOpenAI, startFakeOpenAI } from './helpers/fake-openai.ts';
import { funded } from './helpers/funded.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { MAIN, runProcess } from './helpers/run-process.ts';
import { until } from './helpers/until.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-vault-'));
const lines: string[] = [];
/** Every value put in this file: none may ever appear in the log. */
const secrets: string[] = [];
const secret = (label: string) => {
  const s = `${label}-${randomBytes(12).toString('hex')}`;
  secrets.push(s);
  return s;
};

// The master key comes from the key file in this file's own data dir (the embedded default), so rotation can
// replace it; OPSBASE_MASTER_KEY from the environment would win over the file.
const env = { LOG_LEVEL: 'debug', OPSBASE_DATA_DIR: dataDir, OPSBASE_MASTER_KEY: undefined } as unknown as Record<string, string>;
let app: TestApp;
before(async () => {
  app = await startTestApp({ env, logStream: { write: (s: string) => void lines.push(s) } });
});
after(async () => {
  await closeDb(app);
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (key: string, method: string, path: string, body?: unknown, orgId?: string) =>
  app.request(method, `/api/v1${path}`, { key, body, headers: orgId ? { 'x-org-id': orgId } : {} });

const neverIn = (what: string, body: unknown) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  for (const s of secrets) assert.ok(!text.includes(s), `a value leaked into ${what}`);
};

test('vault: put creates or replaces, list shows names never values, get decrypts and is logged, delete', async () => {
  const t = await app.tenant('Vault');
  const v1 = secret('sk_live');
  const put = await call(t.key, 'POST', '/credentials', { name: 'STRIPE_KEY', value: v1, description: 'Stripe live' });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.equal(put.body.created, true);
  assert.match(put.body.id, /^cred_/);
  neverIn('the put answer', put.body);
  const [row] = await sql(app, 'select value_encrypted from credentials where id = $1', [put.body.id]);
  assert.match(row.value_encrypted, /^v1\./);
  assert.ok(!row.value_encrypted.includes(v1), 'stored encrypted');

  const v2 = secret('sk_live_2');
  const replaced = await call(t.key, 'POST', '/credentials', { name: 'STRIPE_KEY', value: v2 });
  assert.equal(replaced.body.created, false);
  assert.equal(replaced.body.id, put.body.id);
  assert.equal(replaced.body.description, 'Stripe live', 'a replacement keeps the description');
  await call(t.key, 'POST', '/credentials', { name: 'slack.webhook', value: secret('hook') });

  const list = await call(t.key, 'GET', '/credentials');
  assert.deepEqual(list.body.data.map((c: { name: string }) => c.name).sort(), ['STRIPE_KEY', 'slack.webhook']);
  assert.ok(list.body.data.every((c: object) => !('value' in c) && !('value_encrypted' in c)));
  neverIn('the list', list.body);

  const got = await call(t.key, 'GET', '/credentials/STRIPE_KEY');
  assert.equal(got.status, 200);
  assert.equal(got.body.value, v2);
  assert.ok(got.body.last_read_at);
  await call(t.key, 'GET', '/credentials/STRIPE_KEY');
  const acts = (await call(t.key, 'GET', '/activity-log?entity_type=credential&limit=50')).body.data;
  assert.equal(acts.filter((a: { action: string }) => a.action === 'credential.read').length, 2, 'every read is logged');
  assert.deepEqual(
    acts.map((a: { action: string }) => a.action).filter((a: string) => a !== 'credential.read').sort(),
    ['credential.created', 'credential.created', 'credential.replaced'],
  );
  neverIn('the activity log', acts);

  assertEnvelope(await call(t.key, 'GET', '/credentials/NOPE'), 404, 'not_found', 'unknown name');
  const del = await call(t.key, 'DELETE', '/credentials/STRIPE_KEY');
  assert.equal(del.status, 200);
  assertEnvelope(await call(t.key, 'GET', '/credentials/STRIPE_KEY'), 404, 'not_found', 'deleted');
});

test('vault: bad input names the field and never repeats the value', async () => {
  const t = await app.tenant('Bad');
  const v = secret('bad');
  for (const body of [
    { name: 'has space', value: v },
    { name: 'OK_NAME', value: `${v}\u0000` },
    { name: 'OK_NAME', value: v.repeat(3000) },
    { name: '', value: v },
    { name: 'OK_NAME', value: v, description: 5 },
  ]) {
    const res = await call(t.key, 'POST', '/credentials', body);
    assertEnvelope(res, 400, 'invalid_request', JSON.stringify(body).slice(0, 60));
    neverIn('an error answer', res.body);
  }
  assert.equal((await call(t.key, 'GET', '/credentials')).body.data.length, 0, 'nothing stored');
});

test('vault: owners/admins and keys with credentials:read read values; members and viewers do not; other orgs 404', async () => {
  const t = await app.tenant('Roles');
  const v = secret('role');
  await call(t.key, 'POST', '/credentials', { name: 'API_TOKEN', value: v });
  const m = await register(app);
  const viewer = await register(app);
  await call(t.key, 'POST', '/org/members', { user_id: m.id, role: 'member' });
  await call(t.key, 'POST', '/org/members', { user_id: viewer.id, role: 'viewer' });

  for (const [who, token] of [
    ['member', m.token],
    ['viewer', viewer.token],
  ]) {
    assert.equal((await call(token, 'GET', '/credentials', undefined, t.orgId)).status, 200, `${who} lists names`);
    const read = await call(token, 'GET', '/credentials/API_TOKEN', undefined, t.orgId);
    assertEnvelope(read, 403, 'forbidden', `${who} reads a value`);
    neverIn('a 403', read.body);
    assertEnvelope(await call(token, 'POST', '/credentials', { name: 'X', value: 'y-value' }, t.orgId), 403, 'forbidden', `${who} puts`);
    assertEnvelope(await call(token, 'DELETE', '/credentials/API_TOKEN', undefined, t.orgId), 403, 'forbidden', `${who} deletes`);
  }
  const owner = await call(t.sessionToken, 'GET', '/credentials/API_TOKEN', undefined, t.orgId);
  assert.equal(owner.body.value, v, 'the owner reads it');

  const reader = (await call(t.key, 'POST', '/keys', { name: 'reader', scopes: ['credentials:read'] })).body.secret;
  const other = (await call(t.key, 'POST', '/keys', { name: 'tasks', scopes: ['tasks:write'] })).body.secret;
  assert.equal((await call(reader, 'GET', '/credentials/API_TOKEN')).body.value, v, 'a key with credentials:read');
  assertEnvelope(await call(reader, 'POST', '/credentials', { name: 'X', value: 'y-value' }), 403, 'forbidden', 'read scope puts');
  assertEnvelope(await call(other, 'GET', '/credentials/API_TOKEN'), 403, 'forbidden', 'a key without the scope');
  assertEnvelope(await call(other, 'GET', '/credentials'), 403, 'forbidden', 'a key without the scope lists');

  const b = await app.tenant('Other');
  assertEnvelope(await call(b.key, 'GET', '/credentials/API_TOKEN'), 404, 'not_found', "another org's credential");
  assertEnvelope(await call(b.key, 'DELETE', '/credentials/API_TOKEN'), 404, 'not_found', "another org's delete");
  assert.equal((await call(b.key, 'GET', '/credentials')).body.data.length, 0);
});

test('agents: api_key_credential names the provider key in the vault; a run uses its current value', async () => {
  const fake: FakeOpenAI = await startFakeOpenAI();
  const worker: Worker = await startWorker(app.app.services, { pollMs: 100 });
  try {
    const t: Tenant = await funded(app, 'AgentVault', 10);
    const agentBody = { name: 'vaulted', model: 'fake-model', runtime_config: { provider: 'openai-compatible', base_url: fake.url, api_key_credential: 'LLM_KEY' } };
    for (const tool of ['credentials.get', 'credentials.put']) {
      const refused = await call(t.key, 'POST', '/agents', { name: 'reader', tools: [tool] });
      assertEnvelope(refused, 422, 'unprocessable', `${tool} as an agent tool`);
      assert.match(refused.body.message, /by name/);
    }
    const missing = await call(t.key, 'POST', '/agents', agentBody);
    assertEnvelope(missing, 422, 'unprocessable', 'a name the vault does not have');
    assert.equal(missing.body.details.field, 'runtime_config.api_key_credential');
    const first = secret('sk-llm');
    await call(t.key, 'POST', '/credentials', { name: 'LLM_KEY', value: first });
    const agent = await call(t.key, 'POST', '/agents', agentBody);
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    neverIn('the agent', agent.body);

    // Replaced in the vault: the next run uses the new value, without touching the agent.
    const current = secret('sk-llm-2');
    await call(t.key, 'POST', '/credentials', { name: 'LLM_KEY', value: current });
    const task = (await call(t.key, 'POST', '/tasks', { title: 'Say hi', assignee: 'agent:vaulted' })).body;
    fake.script({ kind: 'text', text: 'hi', usage: { prompt_tokens: 3, completion_tokens: 1 } });
    const queued = (await call(t.key, 'POST', `/tasks/${task.number}/run`, {})).body;
    const run = await until('the run to end', async () => {
      const r = (await call(t.key, 'GET', `/runs/${queued.id}`)).body;
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(r.status) ? r : undefined;
    });
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(fake.authorizations.at(-1), `Bearer ${current}`);
    const used = (await call(t.key, 'GET', '/activity-log?entity_type=credential&limit=50')).body.data.find((a: { action: string }) => a.action === 'credential.used');
    assert.ok(used, 'the run’s read is logged');
    assert.equal(used.actor_type, 'agent');
    neverIn('the activity log', used);
  } finally {
    await worker.stop();
    await fake.close();
  }
});

test('opsbase credentials rotate-master-key: everything re-encrypted in one go; every secret reads back under the new key', async () => {
  const t = await app.tenant('Rotate');
  const values: Record<string, string> = {};
  for (const name of ['ONE', 'TWO', 'THREE']) {
    values[name] = secret(name.toLowerCase());
    await call(t.key, 'POST', '/credentials', { name, value: values[name] });
  }
  const providerKey = secret('sk-agent');
  const agent = await call(t.key, 'POST', '/agents', {
    name: 'rotated',
    model: 'gpt-4o-mini',
    provider_api_key: providerKey,
    runtime_config: { provider: 'openai' },
  });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  const hook = await call(t.key, 'POST', '/webhooks', { url: 'https://example.com/hook', event_types: ['*'] });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  // An idempotent POST stores its answer encrypted too.
  await app.request('POST', '/api/v1/credentials', { key: t.key, body: { name: 'FOUR', value: secret('four') }, headers: { 'idempotency-key': 'rot-1' } });

  const keyFile = join(dataDir, 'master.key');
  const oldKey = parseMasterKey(readFileSync(keyFile, 'utf8'), 'old');
  const cli = (args: string[], extra: Record<string, string | undefined> = {}, input?: string) => {
    const e: Record<string, string | undefined> = { ...process.env, DATABASE_URL: app.databaseUrl, OPSBASE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra };
    delete e.OPSBASE_MASTER_KEY;
    if (extra.OPSBASE_MASTER_KEY) e.OPSBASE_MASTER_KEY = extra.OPSBASE_MASTER_KEY;
    return runProcess(args, e as NodeJS.ProcessEnv, MAIN, input);
  };

  // With OPSBASE_MASTER_KEY set, the new key must be given: refused, nothing changed.
  const refused = await cli(['credentials', 'rotate-master-key'], { OPSBASE_MASTER_KEY: oldKey.toString('hex') });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /--new-key-stdin/);

  const run = await cli(['--json', 'credentials', 'rotate-master-key']);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.key_source, 'file');
  const count = (table: string, column: string) => out.columns.find((c: { table: string; column: string }) => c.table === table && c.column === column).rows;
  assert.ok(count('credentials', 'value_encrypted') >= 4);
  assert.ok(count('agents', 'provider_key_encrypted') >= 1);
  assert.ok(count('agents', 'key_secret_encrypted') >= 1);
  assert.ok(count('webhooks', 'secret_encrypted') >= 1);
  assert.ok(count('idempotency_keys', 'response_body') >= 1);
  neverIn('the command output', run.stdout + run.stderr);

  const newKey = parseMasterKey(readFileSync(keyFile, 'utf8'), 'new');
  assert.ok(!newKey.equals(oldKey));
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const backup = readdirSync(dataDir).find((f) => f.startsWith('master.key.bak-'));
  assert.ok(backup, 'the old key is kept');
  assert.ok(parseMasterKey(readFileSync(join(dataDir, backup), 'utf8'), 'backup').equals(oldKey));
  assert.equal(statSync(join(dataDir, backup)).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${keyFile}.new`));

  // Every sealed value of the database opens with the new key, none with the old.
  const [a] = await sql(app, 'select provider_key_encrypted, key_secret_encrypted from agents where id = $1', [agent.body.id]);
  assert.equal(decrypt(a.provider_key_encrypted, newKey), providerKey);
  assert.throws(() => decrypt(a.provider_key_encrypted, oldKey));
  assert.match(decrypt(a.key_secret_encrypted, newKey), /^obk_/);
  const [w] = await sql(app, 'select secret_encrypted from webhooks where id = $1', [hook.body.id]);
  assert.match(decrypt(w.secret_encrypted, newKey), /^whsec_/);
  for (const r of await sql(app, `select response_body #>> '{}' as sealed from idempotency_keys where jsonb_typeof(response_body) = 'string'`)) {
    JSON.parse(decrypt(r.sealed, newKey));
  }

  // A server started with the new key reads every credential back.
  const restarted = await startTestApp({ env, databaseUrl: app.databaseUrl, logStream: { write: (s: string) => void lines.push(s) } });
  try {
    for (const [name, value] of Object.entries(values)) {
      const got = await restarted.request('GET', `/api/v1/credentials/${name}`, { key: t.key });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.equal(got.body.value, value);
    }
  } finally {
    await restarted.app.close();
  }

  // OPSBASE_MASTER_KEY mode: the new key from stdin; the environment is the operator's to update.
  const third = randomBytes(32);
  const envRun = await cli(['--json', 'credentials', 'rotate-master-key', '--new-key-stdin'], { OPSBASE_MASTER_KEY: newKey.toString('base64') }, `${third.toString('hex')}\n`);
  assert.equal(envRun.code, 0, envRun.stderr);
  assert.equal(JSON.parse(envRun.stdout).key_source, 'env');
  assert.match(JSON.parse(envRun.stdout).next_steps, /OPSBASE_MASTER_KEY/);
  const [c] = await sql(app, `select value_encrypted from credentials where org_id = $1 and name = 'ONE'`, [t.orgId]);
  assert.equal(decrypt(c.value_encrypted, third), values.ONE);
  assert.ok(parseMasterKey(readFileSync(keyFile, 'utf8'), 'file').equals(newKey), 'the key file is left alone in env mode');

  // A value no key opens stops the rotation before anything changes.
  await sql(app, `update credentials set value_encrypted = 'v1.AAAA.AAAA.AAAA' where org_id = $1 and name = 'TWO'`, [t.orgId]);
  const broken = await cli(['credentials', 'rotate-master-key', '--new-key-stdin'], { OPSBASE_MASTER_KEY: third.toString('hex') }, randomBytes(32).toString('hex'));
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /credentials\.value_encrypted .* does not decrypt/);
  const [still] = await sql(app, `select value_encrypted from credentials where org_id = $1 and name = 'ONE'`, [t.orgId]);
  assert.equal(decrypt(still.value_encrypted, third), values.ONE, 'one transaction: nothing moved');
});

test('opsbase credentials put NAME --value-stdin: the value never on the command line', async () => {
  const t = await app.tenant('Cli');
  const value = secret('stdin');
  const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: dataDir } as NodeJS.ProcessEnv;
  const put = await runProcess(['--json', 'credentials', 'put', 'FROM_STDIN', '--value-stdin'], env, MAIN, `${value}\n`);
  assert.equal(put.code, 0, put.stderr);
  assert.equal(JSON.parse(put.stdout).created, true);
  neverIn('the put output', put.stdout + put.stderr);
  assert.equal((await call(t.key, 'GET', '/credentials/FROM_STDIN')).body.value, value, 'read from stdin, less its newline');
  const neither = await runProcess(['credentials', 'put', 'NOTHING'], env);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /--value-stdin/);
  const both = await runProcess(['credentials', 'put', 'BOTH', '--value', 'x-value', '--value-stdin'], env, MAIN, 'y\n');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
});

test('the server log never holds a value (captured at debug level)', () => {
  assert.ok(lines.length > 50, `the log was captured (${lines.length} lines)`);
  neverIn('the server log', lines.join('\n'));
});
