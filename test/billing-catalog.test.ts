// The catalog at run time (issue 3 §5): instance admins upsert and delete tiers and packs; the rows live in
// PostgreSQL and overlay the defaults / config file; every read (tiers, pricing, change-plan, quotas, seats) uses
// the result, on this instance at once and on the others through LISTEN/NOTIFY; bad input changes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closeDb, register, sleep, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { runProcess } from './helpers/run-process.ts';

const LIMITS = { tasks_per_day: 5, agents: 1, seats: 2, storage_bytes: 1000, credits_per_month: 0, ai_calls: 7, api_calls: -1 };

let app: TestApp;
let second: TestApp;
before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' } });
  second = await app.second();
});
after(async () => {
  await closeDb(app);
  await second.app.close();
  await app.close();
});

const admin = () => app.admin.sessionToken;
const putTier = (id: string, body: unknown, key = admin()) => app.request('PUT', `/api/v1/billing/tiers/${id}`, { key, body });
const putPack = (id: string, body: unknown, key = admin()) => app.request('PUT', `/api/v1/billing/packs/${id}`, { key, body });
const del = (what: 'tiers' | 'packs', id: string, key = admin()) => app.request('DELETE', `/api/v1/billing/${what}/${id}`, { key });
const tierIds = async (on: TestApp = app) => (await on.request('GET', '/api/v1/billing/tiers')).body.data.map((t: { id: string }) => t.id);
const rows = async () => Number((await sql(app, 'select count(*) from billing_catalog'))[0].count);

/** Polls `check` on another instance: changes reach it through NOTIFY, promised within a second. */
async function eventually(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 20; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`${what}: not seen within a second`);
}

test('upsert adds a tier every read sees at once, here and on another instance; a second upsert replaces it', async () => {
  const made = await putTier('team', { name: 'Team', price_cents: 4900, stripe_price_id: 'price_team', limits: LIMITS });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.deepEqual(made.body, {
    id: 'team',
    name: 'Team',
    description: null,
    price_cents: 4900,
    rate_limit_per_minute: null,
    stripe_price_id: 'price_team',
    limits: LIMITS,
    created: true,
  });
  assert.deepEqual(await tierIds(), ['free', 'pro', 'business', 'team'], 'defaults first, in order; new tiers after');
  const pricing = await app.request('GET', '/api/v1/billing/pricing');
  const team = pricing.body.tiers.find((t: { id: string }) => t.id === 'team');
  assert.deepEqual(team, { id: 'team', name: 'Team', description: null, price_cents: 4900, rate_limit_per_minute: null, limits: LIMITS }, 'no provider ids in public reads');
  await eventually(async () => (await tierIds(second)).includes('team'), 'the new tier on instance 2');

  // An org moves to it and its limits apply to quotas.
  const t = await app.tenant('OnTeam');
  assert.equal((await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'team' } })).status, 200);
  const quota = async (on: TestApp) => (await on.request('GET', '/api/v1/quota/status', { key: t.key })).body.quotas.ai_calls.limit;
  assert.equal(await quota(app), 7);
  assert.equal(await quota(second), 7, 'instance 2 has it cached now');

  // Replacing it: the new limits hold at once on this instance and within a second on the other.
  const changed = await putTier('team', { name: 'Team+', price_cents: 5900, limits: { ...LIMITS, ai_calls: 70 } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.created, false);
  assert.equal(changed.body.stripe_price_id, null, 'a replace is whole: fields left out are gone');
  assert.equal(await quota(app), 70);
  await eventually(async () => (await quota(second)) === 70, 'the new limit on instance 2');
  const plan = await app.request('GET', '/api/v1/billing/plan-summary', { key: t.key });
  assert.equal(plan.body.tier.name, 'Team+');

  const acts = await sql(
    app,
    `select action, entity_id, actor_id from activity_log where action like 'billing.tier_%' and entity_id = 'team' order by id`,
  );
  assert.deepEqual(
    acts.map((a) => [a.action, a.actor_id]),
    [
      ['billing.tier_created', app.admin.userId],
      ['billing.tier_updated', app.admin.userId],
    ],
  );
});

test('overriding a default tier changes its limits for orgs on it, seats included', async () => {
  const t = await app.tenant('FreeSeats');
  const pro = (await app.request('GET', '/api/v1/billing/tiers')).body.data.find((x: { id: string }) => x.id === 'free');
  const res = await putTier('free', { name: pro.name, price_cents: 0, limits: { ...pro.limits, seats: 1 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const u = await register(app);
  const add = await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: u.id } });
  assertEnvelope(add, 422, 'unprocessable', 'the lowered seat limit applies');
  assert.match(add.body.message, /allows 1 seats/);
  const back = await putTier('free', { name: pro.name, description: pro.description, price_cents: 0, limits: pro.limits });
  assert.equal(back.status, 200);
  assert.equal((await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: u.id } })).status, 201);
});

test('bad bodies are 400 with each field named, and store nothing', async () => {
  const before = await rows();
  const cases: [unknown, string][] = [
    [{ name: 'X', price_cents: 100, limits: { ...LIMITS, seats: 1.5 } }, 'limits.seats'],
    [{ name: 'X', price_cents: -1, limits: LIMITS }, 'price_cents'],
    [{ name: 'X', price_cents: 1, limits: { ...LIMITS, agents: -2 } }, 'limits.agents'],
    [{ name: 'X', price_cents: 1, limits: { ...LIMITS, typo: 1 } }, 'limits'],
    [{ name: 'X', price_cents: 1, limits: LIMITS, pricecents: 5 }, ''],
    [{ name: 'X', price_cents: 1 }, 'limits'],
  ];
  for (const [body, field] of cases) {
    const res = await putTier('broken', body);
    assertEnvelope(res, 400, 'invalid_request', JSON.stringify(body));
    if (field)
      assert.ok(
        res.body.details.some((d: { field: string }) => d.field.startsWith(field)),
        JSON.stringify(res.body.details),
      );
  }
  assertEnvelope(await putTier('Bad_Id', { name: 'X', price_cents: 1, limits: LIMITS }), 400, 'invalid_request', 'an id that is no slug');
  assertEnvelope(await putPack('p1', { currency: 'gold', amount: 5, price_cents: 1 }), 400, 'invalid_request', 'an unknown currency');
  assertEnvelope(await putPack('p1', { currency: 'credits', amount: 0, price_cents: 1 }), 400, 'invalid_request', 'a zero amount');
  assert.equal(await rows(), before);
  assert.ok(!(await tierIds()).includes('broken'));
});

test('only instance admins may change the catalog', async () => {
  const t = await app.tenant('NotAdmin');
  const before = await rows();
  assertEnvelope(await putTier('mine', { name: 'Mine', price_cents: 0, limits: LIMITS }, t.sessionToken), 403, 'forbidden', 'a user');
  assertEnvelope(await putTier('mine', { name: 'Mine', price_cents: 0, limits: LIMITS }, t.key), 403, 'forbidden', 'an API key');
  assertEnvelope(await del('tiers', 'pro', t.sessionToken), 403, 'forbidden', 'a user deleting');
  assert.equal(await rows(), before);
});

test('delete: never `free`, never a tier an org is on; otherwise it disappears everywhere', async () => {
  const freeRes = await del('tiers', 'free');
  assertEnvelope(freeRes, 422, 'unprocessable', 'deleting free');
  assert.match(freeRes.body.message, /every new org starts on it/);
  assertEnvelope(await del('tiers', 'nope'), 404, 'not_found', 'an unknown tier');

  assert.equal((await putTier('short', { name: 'Short', price_cents: 0, limits: LIMITS })).status, 200);
  const t = await app.tenant('OnShort');
  assert.equal((await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'short' } })).status, 200);
  const busy = await del('tiers', 'short');
  assertEnvelope(busy, 422, 'unprocessable', 'deleting a tier in use');
  assert.match(busy.body.message, /1 org is on the `short` tier/);
  assert.equal(busy.body.details.orgs, 1);
  assert.ok((await tierIds()).includes('short'));

  assert.equal((await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'free' } })).status, 200);
  const gone = await del('tiers', 'short');
  assert.equal(gone.status, 200, JSON.stringify(gone.body));
  assert.deepEqual(gone.body, { id: 'short', deleted: true });
  assert.ok(!(await tierIds()).includes('short'));
  await eventually(async () => !(await tierIds(second)).includes('short'), 'the deletion on instance 2');
  const moveTo = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'short' } });
  assertEnvelope(moveTo, 404, 'not_found', 'changing to a deleted tier');
  assertEnvelope(await del('tiers', 'short'), 404, 'not_found', 'deleting twice');

  // A default tier nobody is on can go too, and an upsert brings it back.
  assert.equal((await del('tiers', 'business')).status, 200);
  assert.ok(!(await tierIds()).includes('business'));
  const restored = await putTier('business', { name: 'Business', price_cents: 9900, limits: LIMITS });
  assert.equal(restored.body.created, true);
  assert.ok((await tierIds()).includes('business'));
  const acts = await sql(app, `select 1 from activity_log where action = 'billing.tier_deleted' and entity_id in ('short', 'business')`);
  assert.equal(acts.length, 2);
});

test('packs: upsert adds or replaces one for sale, delete stops selling it', async () => {
  const packIds = async (on: TestApp = app) => (await on.request('GET', '/api/v1/billing/pricing')).body.packs.map((p: { id: string }) => p.id);
  const made = await putPack('credits_50', { name: '50 credits', currency: 'credits', amount: 50, price_cents: 600 });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.deepEqual(made.body, {
    id: 'credits_50',
    name: '50 credits',
    currency: 'credits',
    amount: 50,
    price_cents: 600,
    stripe_price_id: null,
    created: true,
  });
  assert.ok((await packIds()).includes('credits_50'));
  await eventually(async () => (await packIds(second)).includes('credits_50'), 'the pack on instance 2');

  const cheaper = await putPack('credits_100', { currency: 'credits', amount: 100, price_cents: 900 });
  assert.equal(cheaper.body.created, false);
  const listed = (await app.request('GET', '/api/v1/billing/pricing')).body.packs.find((p: { id: string }) => p.id === 'credits_100');
  assert.equal(listed.price_cents, 900);

  assert.equal((await del('packs', 'credits_50')).status, 200);
  assert.ok(!(await packIds()).includes('credits_50'));
  assertEnvelope(await del('packs', 'credits_50'), 404, 'not_found', 'deleting a pack twice');
  const acts = await sql(app, `select action from activity_log where entity_type = 'pack' order by id`);
  assert.deepEqual(
    acts.map((a) => a.action),
    ['billing.pack_created', 'billing.pack_updated', 'billing.pack_deleted'],
  );
});

test('the CLI has the commands, from the registry: `opsbase billing tiers upsert`, `billing packs delete`', async () => {
  const home = mkdtempSync(join(tmpdir(), 'opsbase-cli-catalog-'));
  try {
    const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: admin(), XDG_CONFIG_HOME: home };
    const up = await runProcess(
      ['--json', 'billing', 'tiers', 'upsert', 'cli-tier', '--name', 'CLI', '--price-cents', '100', '--limits', JSON.stringify(LIMITS)],
      env,
    );
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).id, 'cli-tier');
    const list = await runProcess(['--json', 'billing', 'tiers'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(
      JSON.parse(list.stdout).data.some((t: { id: string }) => t.id === 'cli-tier'),
      'the list command still works beside its subcommands',
    );
    const rm = await runProcess(['--json', 'billing', 'tiers', 'delete', 'cli-tier'], env);
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(!(await tierIds()).includes('cli-tier'));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
