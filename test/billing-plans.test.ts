// Plans (issue 3 §5–6): the catalog (built-in and from a config file), public tiers and pricing, `GET /billing`,
// the signup bonus, whoami's credits and plan, subscription / usage / plan summary, and changing plan with the
// downgrade rules.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../src/app.ts';
import { readConfig } from '../src/config.ts';
import { catalog, DEFAULT_CATALOG, loadCatalog, packById, tierById } from '../src/modules/billing/plans.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'opsbase-plans-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const limits = (o: Partial<Record<string, number>>) => ({
  tasks_per_day: 10,
  agents: 1,
  seats: 5,
  storage_bytes: 1000,
  credits_per_month: 0,
  ai_calls: 100,
  api_calls: -1,
  ...o,
});

/** The test catalog: `small` allows 2 seats, `big` is unlimited; new orgs get 25 credits. */
const TEST_CONFIG = {
  currency: 'eur',
  signup_bonus_credits: 25,
  tiers: [
    { id: 'free', name: 'Free', price_cents: 0, limits: limits({}) },
    { id: 'small', name: 'Small', price_cents: 500, limits: limits({ seats: 2, ai_calls: 50 }) },
    { id: 'big', name: 'Big', price_cents: 5000, stripe_price_id: 'price_big', limits: limits({ seats: -1, agents: -1, storage_bytes: -1 }) },
  ],
  packs: [{ id: 'c50', name: '50 credits', currency: 'credits', amount: 50, price_cents: 700 }],
};

function writeConfig(name: string, body: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
}

const configFile = writeConfig('billing.json', TEST_CONFIG);

async function addMember(app: TestApp, owner: Tenant, role = 'member'): Promise<Tenant> {
  const other = await app.tenant('Member');
  const res = await app.request('POST', '/api/v1/org/members', { key: owner.key, body: { user_id: other.userId, role } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return other;
}

describe('the catalog', () => {
  test('built-in defaults: free / pro / business with every limit, packs of credits and tokens, no signup bonus', () => {
    const c = loadCatalog(readConfig({ OPSBASE_DATA_DIR: join(dir, 'empty-data-dir') }));
    assert.equal(c.source, 'built-in');
    assert.deepEqual(
      c.tiers.map((t) => t.id),
      ['free', 'pro', 'business'],
    );
    assert.deepEqual(
      c.tiers.map((t) => t.price_cents),
      [0, 2900, 9900],
    );
    for (const t of c.tiers) {
      assert.deepEqual(Object.keys(t.limits).sort(), [
        'agents',
        'ai_calls',
        'api_calls',
        'credits_per_month',
        'seats',
        'storage_bytes',
        'tasks_per_day',
      ]);
    }
    assert.ok(c.packs.some((p) => p.currency === 'credits') && c.packs.some((p) => p.currency === 'tokens'));
    assert.equal(c.signup_bonus_credits, 0);
    const cfg = readConfig({ OPSBASE_DATA_DIR: join(dir, 'empty-data-dir') });
    assert.equal(tierById('pro', cfg)?.name, 'Pro');
    assert.equal(tierById('nope', cfg), undefined);
    assert.equal(packById('credits_100', cfg)?.amount, 100);
    assert.equal(packById('nope', cfg), undefined);
    assert.equal(catalog(cfg), catalog(cfg), 'read once per configuration');
  });

  test('OPSBASE_BILLING_CONFIG replaces what it gives and keeps the defaults of what it does not', () => {
    const only = writeConfig('only-bonus.json', { signup_bonus_credits: 3 });
    const c = loadCatalog(readConfig({ OPSBASE_BILLING_CONFIG: only }));
    assert.equal(c.signup_bonus_credits, 3);
    assert.deepEqual(c.tiers, DEFAULT_CATALOG.tiers);
    assert.deepEqual(c.packs, DEFAULT_CATALOG.packs);
    const full = loadCatalog(readConfig({ OPSBASE_BILLING_CONFIG: configFile }));
    assert.equal(full.source, configFile);
    assert.deepEqual(
      full.tiers.map((t) => t.id),
      ['free', 'small', 'big'],
    );
    assert.equal(packById('c50', readConfig({ OPSBASE_BILLING_CONFIG: configFile }))?.amount, 50);
    assert.equal(packById('c50', readConfig({ OPSBASE_BILLING_CONFIG: only })), undefined, 'each configuration has its own catalog');
  });

  test('`<data dir>/billing.json` is read when OPSBASE_BILLING_CONFIG is unset', () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'billing.json'), JSON.stringify({ signup_bonus_credits: 9 }));
    const c = loadCatalog(readConfig({ OPSBASE_DATA_DIR: dataDir }));
    assert.equal(c.signup_bonus_credits, 9);
    assert.equal(c.source, join(dataDir, 'billing.json'));
  });

  test('a bad file is refused with a message naming the file and each bad field', () => {
    const cases: [string, unknown, RegExp[]][] = [
      ['not-json.json', '{ "tiers": [', [/not valid JSON/]],
      [
        'bad-fields.json',
        { ...TEST_CONFIG, tiers: [{ ...TEST_CONFIG.tiers[0], price_cents: -1, limits: { ...TEST_CONFIG.tiers[0].limits, seats: 'many' } }] },
        [/tiers\.0\.price_cents: must not be negative/, /tiers\.0\.limits\.seats:/],
      ],
      ['typo.json', { tiers: TEST_CONFIG.tiers, pack: [] }, [/\(top level\): Unrecognized key.*"pack"/]],
      ['dup.json', { tiers: [TEST_CONFIG.tiers[0], TEST_CONFIG.tiers[0]] }, [/tiers\.1\.id: duplicate tier id `free`/]],
      ['no-free.json', { tiers: [TEST_CONFIG.tiers[1]] }, [/tiers: must include the tier `free`/]],
      [
        'bad-pack.json',
        { packs: [{ id: 'p', currency: 'gold', amount: 0, price_cents: 1 }] },
        [/packs\.0\.currency:/, /packs\.0\.amount: must be greater than zero/],
      ],
      [
        'bad-limit.json',
        { tiers: [{ ...TEST_CONFIG.tiers[0], limits: limits({ ai_calls: -2 }) }] },
        [/tiers\.0\.limits\.ai_calls: must be -1 \(unlimited\) or more/],
      ],
    ];
    for (const [name, body, patterns] of cases) {
      const path = writeConfig(name, body);
      assert.throws(
        () => loadCatalog(readConfig({ OPSBASE_BILLING_CONFIG: path })),
        (err: Error) => {
          assert.ok(err.message.includes(path), `${name}: the message names the file: ${err.message}`);
          for (const p of patterns) assert.match(err.message, p, name);
          return true;
        },
      );
    }
    assert.throws(
      () => loadCatalog(readConfig({ OPSBASE_BILLING_CONFIG: join(dir, 'missing.json') })),
      /Cannot read OPSBASE_BILLING_CONFIG .*missing\.json/,
    );
  });

  test('the server refuses to start with a bad billing config, saying which field, without a stack trace', async () => {
    const bad = writeConfig('bad-start.json', { tiers: [{ ...TEST_CONFIG.tiers[0], limits: limits({ seats: 1.5 }) }] });
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      OPSBASE_BILLING_CONFIG: bad,
      OPSBASE_DATA_DIR: join(dir, 'start-data'),
      DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none',
      PORT: '0',
    };
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['src/main.ts', 'serve'], { env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /Invalid OPSBASE_BILLING_CONFIG/);
    assert.match(res.stderr, /tiers\.0\.limits\.seats: must be a whole number/);
    assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace');
    // And in process: createApp throws before opening anything (this database URL leads nowhere).
    await assert.rejects(
      createApp({ config: readConfig({ OPSBASE_BILLING_CONFIG: bad }), databaseUrl: 'postgres://nobody:nothing@127.0.0.1:1/none' }),
      /tiers\.0\.limits\.seats/,
    );
  });
});

describe('with the built-in catalog', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await closeDb(app);
    await app.close();
  });

  test('tiers and pricing are public, and list the catalog', async () => {
    const tiers = await app.request('GET', '/api/v1/billing/tiers');
    assert.equal(tiers.status, 200, JSON.stringify(tiers.body));
    assert.deepEqual(
      tiers.body.data.map((t: { id: string }) => t.id),
      ['free', 'pro', 'business'],
    );
    assert.deepEqual(tiers.body.meta, { limit: 3, next_cursor: null, has_more: false });
    const pro = tiers.body.data[1];
    assert.deepEqual(pro, {
      id: 'pro',
      name: 'Pro',
      description: DEFAULT_CATALOG.tiers[1].description,
      price_cents: 2900,
      rate_limit_per_minute: null,
      limits: DEFAULT_CATALOG.tiers[1].limits,
    });
    assert.equal('stripe_price_id' in pro, false, 'provider ids stay private');

    const pricing = await app.request('GET', '/api/v1/billing/pricing');
    assert.equal(pricing.status, 200);
    assert.equal(pricing.body.currency, 'usd');
    assert.equal(pricing.body.signup_bonus_credits, 0);
    assert.deepEqual(pricing.body.tiers, tiers.body.data);
    assert.deepEqual(
      pricing.body.packs.map((p: { id: string; currency: string; amount: number; price_cents: number }) => [
        p.id,
        p.currency,
        p.amount,
        p.price_cents,
      ]),
      DEFAULT_CATALOG.packs.map((p) => [p.id, p.currency, p.amount, p.price_cents]),
    );
    // A credential changes nothing, a broken one is not even looked at on a public route... but is not required.
    const t = await app.tenant('Pricing');
    assert.deepEqual((await app.request('GET', '/api/v1/billing/tiers', { key: t.key })).body.data, tiers.body.data);
  });

  test('GET /billing: { plan, credits, tiers, packs }; whoami says free with 0 credits and no signup bonus entry', async () => {
    const t = await app.tenant('Billing');
    const res = await app.request('GET', '/api/v1/billing', { key: t.key });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['credits', 'packs', 'plan', 'tiers']);
    assert.equal(res.body.plan, 'free');
    assert.equal(res.body.credits, 0);
    assert.equal(res.body.tiers.length, 3);
    assert.equal(res.body.packs.length, DEFAULT_CATALOG.packs.length);
    const me = await app.request('GET', '/api/v1/whoami', { key: t.key });
    assert.equal(me.body.plan, 'free');
    assert.equal(me.body.credits, 0);
    assert.deepEqual(await sql(app, 'select id from ledger_entries where org_id = $1', [t.orgId]), []);
    // Unauthenticated: 401, it is the org's own data.
    assertEnvelope(await app.request('GET', '/api/v1/billing'), 401, 'unauthorized');
  });

  test('the subscription of an org that never changed plan: free, active, manual', async () => {
    const t = await app.tenant('Sub');
    const res = await app.request('GET', '/api/v1/billing/subscription', { key: t.key });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      tier: 'free',
      status: 'active',
      provider: 'manual',
      price_cents: 0,
      current_period_end: null,
      cancel_at_period_end: false,
      updated_at: null,
    });
  });
});

describe('with a billing config file', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ env: { OPSBASE_BILLING_CONFIG: configFile } });
  });
  after(async () => {
    await closeDb(app);
    await app.close();
  });

  test('the public catalog is the file', async () => {
    const pricing = await app.request('GET', '/api/v1/billing/pricing');
    assert.equal(pricing.body.currency, 'eur');
    assert.equal(pricing.body.signup_bonus_credits, 25);
    assert.deepEqual(
      pricing.body.tiers.map((t: { id: string; price_cents: number }) => [t.id, t.price_cents]),
      [
        ['free', 0],
        ['small', 500],
        ['big', 5000],
      ],
    );
    assert.deepEqual(pricing.body.packs, [{ id: 'c50', name: '50 credits', currency: 'credits', amount: 50, price_cents: 700 }]);
  });

  test('a new org gets the signup bonus once, as a `signup_bonus` ledger entry keyed by the org; whoami shows it', async () => {
    const t = await app.tenant('Bonus');
    const entries = await sql(app, 'select kind, amount, idempotency_key, balance_after from ledger_entries where org_id = $1', [t.orgId]);
    assert.deepEqual(entries, [{ kind: 'signup_bonus', amount: 25, idempotency_key: `signup:${t.orgId}`, balance_after: 25 }]);
    const me = await app.request('GET', '/api/v1/whoami', { key: t.key });
    assert.equal(me.body.credits, 25);
    assert.equal(me.body.plan, 'free');
    const wallet = await app.request('GET', '/api/v1/wallet', { key: t.key });
    assert.equal(wallet.body.balance, 25);
    assert.equal((await app.request('GET', '/api/v1/billing', { key: t.key })).body.credits, 25);

    // The user's second org gets its own bonus; the first is not credited again.
    const second = await app.request('POST', '/api/v1/orgs', { key: t.sessionToken, body: { name: 'Second' } });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const counts = await sql(
      app,
      `select org_id, count(*)::int as n, sum(amount)::int as total from ledger_entries where org_id = any($1) group by org_id`,
      [[t.orgId, second.body.id]],
    );
    assert.deepEqual(
      counts.map((r) => [r.org_id, r.n, r.total]).sort(),
      [
        [t.orgId, 1, 25],
        [second.body.id, 1, 25],
      ].sort(),
    );
    const balances = await sql(app, `select balance::int from balances where org_id = $1 and currency = 'credits'`, [t.orgId]);
    assert.deepEqual(balances, [{ balance: 25 }]);
  });

  test('whoami credits are the available credits: grants add, holds would subtract', async () => {
    const t = await app.tenant('Credits');
    const grant = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, credits: 7 } });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).body.credits, 32);
    // An open hold of 5 (written as the ledger would) leaves 27 available.
    await sql(app, `update balances set held = 5 where org_id = $1 and currency = 'credits'`, [t.orgId]);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).body.credits, 27);
    assert.equal((await app.request('GET', '/api/v1/billing', { key: t.key })).body.credits, 27);
    await sql(app, `update balances set held = 0 where org_id = $1 and currency = 'credits'`, [t.orgId]);
  });

  test('usage and plan summary: seats are the members, ai_calls come from the quota of this month', async () => {
    const t = await app.tenant('Usage');
    await addMember(app, t);
    const consumed = await app.request('POST', '/api/v1/quota/consume', { key: t.key, body: { resource: 'ai_calls', amount: 4 } });
    assert.equal(consumed.body.allowed, true, JSON.stringify(consumed.body));
    const usage = await app.request('GET', '/api/v1/billing/usage', { key: t.key });
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    const now = new Date();
    assert.equal(usage.body.tier, 'free');
    assert.equal(usage.body.period_start, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    assert.equal(usage.body.reset_at, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    assert.deepEqual(usage.body.usage.seats, { used: 2, limit: 5, remaining: 3 });
    assert.deepEqual(usage.body.usage.ai_calls, { used: 4, limit: 100, remaining: 96 });
    assert.deepEqual(usage.body.usage.agents, { used: 0, limit: 1, remaining: 1 });
    assert.deepEqual(usage.body.usage.api_calls.limit, -1);
    assert.deepEqual(usage.body.usage.api_calls.remaining, -1);

    const summary = await app.request('GET', '/api/v1/billing/plan-summary', { key: t.key });
    assert.equal(summary.status, 200, JSON.stringify(summary.body));
    assert.equal(summary.body.tier.id, 'free');
    assert.deepEqual(summary.body.tier.limits, TEST_CONFIG.tiers[0].limits);
    assert.deepEqual(summary.body.credits, { balance: 25, available: 25, held: 0, per_month: 0 });
    assert.equal(summary.body.subscription.provider, 'manual');
    // api_calls moves with every request (the request log's flush, once a second, may land between the two reads).
    const steady = (u: Record<string, unknown>) => ({ ...u, api_calls: undefined });
    assert.deepEqual(steady(summary.body.usage), steady(usage.body.usage));
    assert.equal(summary.body.usage.api_calls.limit, usage.body.usage.api_calls.limit);
  });

  test('change plan: upgrade, then a downgrade blocked with the exact violations until the org fits', async () => {
    const t = await app.tenant('Change');
    const up = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'big' } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.changed, true);
    assert.equal(up.body.previous_tier, 'free');
    assert.equal(up.body.tier, 'big');
    assert.equal(up.body.subscription.tier, 'big');
    assert.equal(up.body.subscription.provider, 'manual');
    assert.equal(up.body.subscription.status, 'active');
    assert.equal(up.body.subscription.price_cents, 5000);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).body.plan, 'big');
    assert.equal((await app.request('GET', '/api/v1/billing', { key: t.key })).body.plan, 'big');
    assert.equal((await app.request('GET', '/api/v1/billing/subscription', { key: t.key })).body.tier, 'big');
    const events = await sql(app, `select type, data from events where org_id = $1 and type = 'plan.changed'`, [t.orgId]);
    assert.deepEqual(events, [{ type: 'plan.changed', data: { from: 'free', to: 'big', provider: 'manual' } }]);
    const activity = await sql(app, `select metadata from activity_log where org_id = $1 and action = 'billing.plan_changed'`, [t.orgId]);
    assert.equal(activity.length, 1);
    assert.equal(activity[0].metadata.from, 'free');
    assert.equal(activity[0].metadata.to, 'big');

    // The same tier again: nothing changes, no event.
    const same = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'big' } });
    assert.equal(same.status, 200);
    assert.equal(same.body.changed, false);

    // Three members against `small`'s two seats.
    const m1 = await addMember(app, t);
    await addMember(app, t, 'viewer');
    const check = await app.request('POST', '/api/v1/billing/validate-downgrade', { key: t.key, body: { tier: 'small' } });
    assert.equal(check.status, 200, JSON.stringify(check.body));
    assert.deepEqual(check.body, { allowed: false, current_tier: 'big', tier: 'small', violations: [{ limit: 'seats', current: 3, allowed: 2 }] });
    const blocked = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'small' } });
    assertEnvelope(blocked, 422, 'unprocessable');
    assert.deepEqual(blocked.body.details.violations, [{ limit: 'seats', current: 3, allowed: 2 }]);
    assert.match(blocked.body.message, /seats: 3 in use, 2 allowed/);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).body.plan, 'big', 'nothing changed');
    assert.equal((await sql(app, `select 1 from events where org_id = $1 and type = 'plan.changed'`, [t.orgId])).length, 1);

    // Storage reported above the target blocks too, listed beside the seats.
    await app.request('POST', '/api/v1/quota/consume', { key: t.key, body: { resource: 'storage_bytes', amount: 1500 } });
    const two = await app.request('POST', '/api/v1/billing/validate-downgrade', { key: t.key, body: { tier: 'small' } });
    assert.deepEqual(two.body.violations, [
      { limit: 'seats', current: 3, allowed: 2 },
      { limit: 'storage_bytes', current: 1500, allowed: 1000 },
    ]);
    // A month's AI calls over the target's limit do not block (the quota simply stops allowing more).
    await app.request('POST', '/api/v1/quota/consume', { key: t.key, body: { resource: 'ai_calls', amount: 80 } });

    // Fit the target: one member leaves; storage is a counter of this month, so use a fresh org for the rest.
    const removed = await app.request('DELETE', `/api/v1/org/members/${m1.userId}`, { key: t.key });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    const one = await app.request('POST', '/api/v1/billing/validate-downgrade', { key: t.key, body: { tier: 'small' } });
    assert.deepEqual(one.body.violations, [{ limit: 'storage_bytes', current: 1500, allowed: 1000 }]);
    await sql(app, `update quota_usage set used = 1000 where org_id = $1 and resource = 'storage_bytes'`, [t.orgId]);
    const ok = await app.request('POST', '/api/v1/billing/validate-downgrade', { key: t.key, body: { tier: 'small' } });
    assert.deepEqual(ok.body, { allowed: true, current_tier: 'big', tier: 'small', violations: [] });
    const down = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'small' } });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    assert.equal(down.body.previous_tier, 'big');
    assert.equal(down.body.tier, 'small');
    assert.equal((await app.request('GET', '/api/v1/quota/status', { key: t.key })).body.quotas.ai_calls.limit, 50, 'quota limits follow the tier');
    const all = await sql(app, `select data from events where org_id = $1 and type = 'plan.changed' order by id`, [t.orgId]);
    assert.deepEqual(
      all.map((e) => [e.data.from, e.data.to]),
      [
        ['free', 'big'],
        ['big', 'small'],
      ],
    );
  });

  test('unknown tiers are 404; members and read-only keys may not change the plan', async () => {
    const t = await app.tenant('Unknown');
    for (const path of ['/api/v1/billing/change-plan', '/api/v1/billing/validate-downgrade']) {
      const res = await app.request('POST', path, { key: t.key, body: { tier: 'platinum' } });
      assertEnvelope(res, 404, 'not_found');
      assert.match(res.body.message, /platinum/);
    }
    assertEnvelope(await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: '' } }), 400, 'invalid_request');
    const member = await addMember(app, t);
    const asMember = await app.request('POST', '/api/v1/billing/change-plan', {
      key: member.sessionToken,
      headers: { 'x-org-id': t.orgId },
      body: { tier: 'big' },
    });
    assertEnvelope(asMember, 403, 'forbidden');
    const read = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'ro', scopes: ['billing:read'] } });
    const readOnly = await app.request('POST', '/api/v1/billing/change-plan', { key: read.body.secret, body: { tier: 'big' } });
    assertEnvelope(readOnly, 403, 'forbidden');
    // …but may check a downgrade.
    assert.equal((await app.request('POST', '/api/v1/billing/validate-downgrade', { key: read.body.secret, body: { tier: 'small' } })).status, 200);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).body.plan, 'free');
  });
});

test('with Stripe configured, a paid tier is bought through billing.checkout; a free one still changes at once', async () => {
  const app = await startTestApp({ env: { OPSBASE_BILLING_CONFIG: configFile, STRIPE_SECRET_KEY: 'sk_test_opsbase' } });
  try {
    const t = await app.tenant('Stripe');
    const paid = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'big' } });
    assertEnvelope(paid, 422, 'unprocessable');
    assert.match(paid.body.message, /billing\.checkout/);
    assert.equal(paid.body.details.use, 'billing.checkout');
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).body.plan, 'free');

    // An org on a live Stripe subscription changes it in the portal, not here.
    await sql(app, `update orgs set plan = 'big' where id = $1`, [t.orgId]);
    await sql(app, `insert into subscriptions (org_id, tier, status, provider, subscription_id) values ($1, 'big', 'active', 'stripe', 'sub_1')`, [
      t.orgId,
    ]);
    const down = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'free' } });
    assertEnvelope(down, 422, 'unprocessable');
    assert.equal(down.body.details.use, 'billing.portal');
    const sub = await app.request('GET', '/api/v1/billing/subscription', { key: t.key });
    assert.equal(sub.body.provider, 'stripe');
    assert.equal(sub.body.tier, 'big');
    // Once Stripe says it is canceled, the org moves to free here.
    await sql(app, `update subscriptions set status = 'canceled' where org_id = $1`, [t.orgId]);
    const free = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'free' } });
    assert.equal(free.status, 200, JSON.stringify(free.body));
    assert.equal(free.body.subscription.provider, 'manual');
  } finally {
    await closeDb(app);
    await app.close();
  }
});
