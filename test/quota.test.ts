// Quotas (issue 3 §4, BizBasics shapes): status and breakdown per UTC month, atomic consume (allowed: false over
// the limit, nothing counted), idempotency keys, api_calls counted from real traffic, bad input, org isolation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { type Response, startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

const LIMITS = { tasks_per_day: 10, agents: 1, seats: 3, storage_bytes: 5000, credits_per_month: 0, ai_calls: 20, api_calls: 100_000 };

let app: TestApp;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'opsbase-quota-'));
  const file = join(dir, 'billing.json');
  writeFileSync(
    file,
    JSON.stringify({
      tiers: [
        { id: 'free', name: 'Free', price_cents: 0, limits: LIMITS },
        { id: 'max', name: 'Max', price_cents: 0, limits: { ...LIMITS, ai_calls: -1 } },
        { id: 'tiny', name: 'Tiny', price_cents: 0, limits: { ...LIMITS, api_calls: 8 } },
      ],
    }),
  );
  app = await startTestApp({ env: { OPSBASE_BILLING_CONFIG: file, OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' } });
});
after(async () => {
  await closeDb(app);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const consume = (t: Tenant, body: Record<string, unknown>) => app.request('POST', '/api/v1/quota/consume', { key: t.key, body });
const status = async (t: Tenant) => {
  const res = await app.request('GET', '/api/v1/quota/status', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};

function nextMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

test('status: every resource with used, limit, remaining, period and reset_at (the start of the next UTC month)', async () => {
  const t = await app.tenant('Status');
  const body = await status(t);
  const reset = nextMonth();
  assert.deepEqual(body, {
    org_id: t.orgId,
    plan: 'free',
    quotas: {
      ai_calls: { used: 0, limit: 20, remaining: 20, period: 'month', reset_at: reset },
      api_calls: {
        used: body.quotas.api_calls.used,
        limit: 100_000,
        remaining: 100_000 - body.quotas.api_calls.used,
        period: 'month',
        reset_at: reset,
      },
      storage_bytes: { used: 0, limit: 5000, remaining: 5000, period: 'month', reset_at: reset },
      // Seats are the members: the owner holds one.
      seats: { used: 1, limit: 3, remaining: 2, period: 'month', reset_at: reset },
    },
  });
});

test('consume: allowed while it fits, then allowed:false with 200 and nothing counted', async () => {
  const t = await app.tenant('Consume');
  const first = await consume(t, { resource: 'ai_calls', amount: 5 });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(first.body, {
    allowed: true,
    used: 5,
    limit: 20,
    remaining: 15,
    resource: 'ai_calls',
    period: 'month',
    reset_at: nextMonth(),
    replayed: false,
  });
  const over = await consume(t, { resource: 'ai_calls', amount: 16 });
  assert.equal(over.status, 200);
  assert.equal(over.body.allowed, false);
  assert.equal(over.body.used, 5);
  assert.equal(over.body.remaining, 15);
  assert.equal((await status(t)).quotas.ai_calls.used, 5, 'nothing counted');
  // Exactly up to the limit is allowed; one more is not. Amount defaults to 1.
  const fill = await consume(t, { resource: 'ai_calls', amount: 15 });
  assert.deepEqual([fill.body.allowed, fill.body.used, fill.body.remaining], [true, 20, 0]);
  const one = await consume(t, { resource: 'ai_calls' });
  assert.deepEqual([one.body.allowed, one.body.used, one.body.remaining], [false, 20, 0]);
  // An amount above the whole limit on a fresh resource row: refused, and no row appears with it.
  const huge = await consume(t, { resource: 'storage_bytes', amount: 5001 });
  assert.deepEqual([huge.body.allowed, huge.body.used], [false, 0]);
  assert.equal((await status(t)).quotas.storage_bytes.used, 0);
  // Only allowed consumes leave an activity row.
  const acts = await sql(app, `select metadata from activity_log where org_id = $1 and action = 'quota.consumed' order by id`, [t.orgId]);
  assert.deepEqual(
    acts.map((a) => a.metadata.amount),
    [5, 15],
  );
});

test('an unlimited resource (-1) always allows and reports -1 remaining', async () => {
  const t = await app.tenant('Unlimited');
  const up = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'max' } });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const res = await consume(t, { resource: 'ai_calls', amount: 1_000_000 });
  assert.deepEqual([res.body.allowed, res.body.used, res.body.limit, res.body.remaining], [true, 1_000_000, -1, -1]);
  assert.equal((await status(t)).plan, 'max');
});

test('50 concurrent consumes against a limit of 20: exactly 20 allowed, the count never passes the limit', async () => {
  const t = await app.tenant('Race');
  const results = await Promise.all(Array.from({ length: 50 }, () => consume(t, { resource: 'ai_calls', amount: 1 })));
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
  const allowed = results.filter((r) => r.body.allowed);
  assert.equal(allowed.length, 20);
  assert.deepEqual(
    allowed.map((r) => r.body.used).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i + 1),
    'each allowed consume saw its own total',
  );
  for (const r of results.filter((x) => !x.body.allowed)) assert.equal(r.body.used, 20);
  assert.equal((await status(t)).quotas.ai_calls.used, 20);
  // Mixed amounts, concurrently, never pass the limit either.
  const t2 = await app.tenant('Race2');
  const amounts = Array.from({ length: 30 }, (_, i) => (i % 3) + 1);
  const mixed = await Promise.all(amounts.map((amount) => consume(t2, { resource: 'ai_calls', amount })));
  const allowedSum = mixed.reduce((n, r, i) => n + (r.body.allowed ? amounts[i] : 0), 0);
  const used = (await status(t2)).quotas.ai_calls.used;
  assert.equal(used, allowedSum, 'the count is exactly the sum of the allowed amounts');
  assert.ok(used <= 20 && used >= 18, `used ${used}: never over the limit, and a refusal means the rest did not fit`);
});

test('an idempotency key counts once: a replay (even concurrent) returns the first answer; another body is 422', async () => {
  const t = await app.tenant('Idem');
  const body = { resource: 'ai_calls', amount: 3, product_id: 'crm', idempotency_key: 'op_1' };
  const first = await consume(t, body);
  assert.deepEqual([first.body.allowed, first.body.used, first.body.replayed], [true, 3, false]);
  const again = await consume(t, body);
  assert.equal(again.status, 200);
  assert.deepEqual({ ...again.body, replayed: false }, first.body);
  assert.equal(again.body.replayed, true);
  assert.equal((await status(t)).quotas.ai_calls.used, 3);

  const burst = await Promise.all(Array.from({ length: 10 }, () => consume(t, { ...body, idempotency_key: 'op_2' })));
  for (const r of burst) assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(burst.filter((r) => !r.body.replayed).length, 1);
  assert.deepEqual(new Set(burst.map((r) => r.body.used)), new Set([6]));
  assert.equal((await status(t)).quotas.ai_calls.used, 6);

  const mismatch = await consume(t, { ...body, amount: 4 });
  assertEnvelope(mismatch, 422, 'idempotency_mismatch');
  assert.equal((await status(t)).quotas.ai_calls.used, 6);

  // A refused consume is remembered too: raising the limit later does not turn its replay into a count.
  const big = { resource: 'ai_calls', amount: 15, idempotency_key: 'op_3' };
  assert.equal((await consume(t, big)).body.allowed, false);
  await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'max' } });
  const replay = await consume(t, big);
  assert.deepEqual([replay.body.allowed, replay.body.replayed, replay.body.used], [false, true, 6]);
  assert.equal((await status(t)).quotas.ai_calls.used, 6);
  // Keys are per org: another org's identical key is its own.
  const other = await app.tenant('IdemOther');
  const theirs = await consume(other, body);
  assert.deepEqual([theirs.body.allowed, theirs.body.used, theirs.body.replayed], [true, 3, false]);
});

test('breakdown: the same figures split by product, unattributed usage under product_id null', async () => {
  const t = await app.tenant('Breakdown');
  await consume(t, { resource: 'ai_calls', amount: 3, product_id: 'crm' });
  await consume(t, { resource: 'ai_calls', amount: 4, product_id: 'ads' });
  await consume(t, { resource: 'ai_calls', amount: 2, product_id: 'crm' });
  await consume(t, { resource: 'ai_calls', amount: 1 });
  await consume(t, { resource: 'seats', amount: 2, product_id: 'crm' });
  assert.equal((await consume(t, { resource: 'ai_calls', amount: 50, product_id: 'crm' })).body.allowed, false);
  const res = await app.request('GET', '/api/v1/quota/breakdown', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.org_id, t.orgId);
  assert.deepEqual(res.body.quotas.ai_calls, {
    used: 10,
    limit: 20,
    remaining: 10,
    period: 'month',
    reset_at: nextMonth(),
    products: [
      { product_id: 'ads', used: 4 },
      { product_id: 'crm', used: 5 },
      { product_id: null, used: 1 },
    ],
  });
  assert.deepEqual(res.body.quotas.seats.products, [{ product_id: 'crm', used: 2 }]);
  assert.deepEqual(res.body.quotas.storage_bytes.products, []);
});

test('api_calls counts the real API requests of the org, written with the request log', async () => {
  const a = await app.tenant('TrafficA');
  const b = await app.tenant('TrafficB');
  for (let i = 0; i < 7; i++) assert.equal((await app.request('GET', '/api/v1/whoami', { key: a.key })).status, 200);
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: b.key })).status, 200);
  // Listing the request log flushes it; then quota and log agree, read in one statement.
  assert.equal((await app.request('GET', '/api/v1/dev/api-requests', { key: a.key })).status, 200);
  const counts = async (t: Tenant) =>
    (
      await sql(
        app,
        `select (select count(*)::int from api_requests where org_id = $1) as logged,
                (select coalesce(sum(used), 0)::int from quota_usage where org_id = $1 and resource = 'api_calls') as counted`,
        [t.orgId],
      )
    )[0];
  const ca = await counts(a);
  assert.ok(ca.logged >= 7, JSON.stringify(ca));
  assert.equal(ca.counted, ca.logged);
  const cb = await counts(b);
  assert.equal(cb.counted, cb.logged);
  assert.ok(cb.logged < ca.logged, "B's traffic is counted for B only");

  // Through the API: more requests, another flush, a larger count.
  const before = (await status(a)).quotas.api_calls.used;
  for (let i = 0; i < 5; i++) await app.request('GET', '/api/v1/billing', { key: a.key });
  await app.request('GET', '/api/v1/dev/api-requests', { key: a.key });
  const after = (await status(a)).quotas.api_calls.used;
  assert.ok(after >= before + 6, `${before} → ${after}`);
  assert.equal((await status(a)).quotas.api_calls.remaining, 100_000 - after);
  // Unauthenticated traffic counts for nobody: over the whole database, the counts equal the org-scoped log.
  for (let i = 0; i < 3; i++) await app.request('GET', '/api/v1/billing/tiers');
  await app.request('GET', '/api/v1/dev/api-requests', { key: b.key });
  const [all] = await sql(
    app,
    `select (select count(*)::int from api_requests where org_id is not null) as logged,
            (select count(*)::int from api_requests where org_id is null) as anonymous,
            (select coalesce(sum(used), 0)::int from quota_usage where resource = 'api_calls') as counted`,
  );
  assert.ok(all.anonymous >= 3, JSON.stringify(all));
  assert.equal(all.counted, all.logged);
});

test('api_calls is enforced: past the monthly limit every org operation is 402 quota_exceeded until the reset, on every instance', async () => {
  const t = await app.tenant('Chatty');
  const changed = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'tiny' } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  await app.request('GET', '/api/v1/dev/api-requests', { key: t.key }); // flush: the count so far is known
  const used = (await status(t)).quotas.api_calls.used;
  assert.ok(used < 8, `used ${used}`);
  let refused: Response | undefined;
  for (let i = 0; i < 12 && !refused; i++) {
    const res = await app.request('GET', '/api/v1/activity-log', { key: t.key });
    if (res.status === 402) refused = res;
    else assert.equal(res.status, 200, JSON.stringify(res.body));
  }
  assert.ok(refused, 'refused once the limit was reached');
  assertEnvelope(refused, 402, 'quota_exceeded');
  assert.match(refused.body.message, /8 API calls/);
  assert.equal(refused.body.details.resource, 'api_calls');
  assert.equal(refused.body.details.limit, 8);
  assert.equal(refused.body.details.reset_at, nextMonth(), 'says when the period resets');
  // Writes too, and nothing is written.
  const write = await app.request('POST', '/api/v1/activity-log', { key: t.key, body: { action: 'over.quota', entity_type: 'x' } });
  assertEnvelope(write, 402, 'quota_exceeded');
  // Usage and billing stay reachable, so the org can see why and change plan.
  assert.equal((await app.request('GET', '/api/v1/quota/status', { key: t.key })).status, 200);
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).status, 200);
  // Another instance refuses it too once it has seen the org's count (its first request loads it).
  const second = await app.second();
  try {
    await app.request('GET', '/api/v1/dev/api-requests', { key: app.admin.key }); // flush instance 1's log
    await app.app.services.requestLog.flush();
    await second.request('GET', '/api/v1/activity-log', { key: t.key });
    await new Promise((r) => setTimeout(r, 200));
    assertEnvelope(await second.request('GET', '/api/v1/activity-log', { key: t.key }), 402, 'quota_exceeded', 'on instance 2');
  } finally {
    await second.close();
  }
  // A larger plan lifts it at once.
  assert.equal((await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier: 'free' } })).status, 200);
  assert.equal((await app.request('GET', '/api/v1/activity-log?action=over.quota', { key: t.key })).body.data.length, 0);
});

test('bad input → 400 and nothing counted; unknown resource → 400', async () => {
  const t = await app.tenant('BadInput');
  const bad: Record<string, unknown>[] = [
    { resource: 'ai_calls', amount: 0 },
    { resource: 'ai_calls', amount: -1 },
    { resource: 'ai_calls', amount: 1.5 },
    { resource: 'ai_calls', amount: '2' },
    { resource: 'gpu_hours', amount: 1 },
    { amount: 1 },
    { resource: 'ai_calls', product_id: 'has spaces' },
    { resource: 'ai_calls', idempotency_key: '' },
  ];
  for (const body of bad) {
    const res = await consume(t, body);
    assertEnvelope(res, 400, 'invalid_request', JSON.stringify(body));
    assert.ok(Array.isArray(res.body.details), JSON.stringify(res.body));
  }
  const unknown = await consume(t, { resource: 'gpu_hours' });
  assert.ok(
    unknown.body.details.some((d: { field: string }) => d.field === 'resource'),
    JSON.stringify(unknown.body),
  );
  assert.deepEqual(await sql(app, `select * from quota_usage where org_id = $1 and resource <> 'api_calls'`, [t.orgId]), []);
  assert.equal((await status(t)).quotas.ai_calls.used, 0);
});

test("orgs are isolated: one org's consumption never shows in, or limits, another's", async () => {
  const a = await app.tenant('IsoA');
  const b = await app.tenant('IsoB');
  assert.equal((await consume(a, { resource: 'ai_calls', amount: 20 })).body.allowed, true);
  assert.equal((await consume(a, { resource: 'ai_calls' })).body.allowed, false);
  const bs = await consume(b, { resource: 'ai_calls', amount: 20 });
  assert.deepEqual([bs.body.allowed, bs.body.used], [true, 20]);
  const sa = await status(a);
  const sb = await status(b);
  assert.equal(sa.org_id, a.orgId);
  assert.equal(sb.org_id, b.orgId);
  assert.equal(sa.quotas.ai_calls.used, 20);
  assert.equal(sb.quotas.ai_calls.used, 20);
  // B's key naming A's org gets B's figures, never A's.
  const cross = await app.request('GET', '/api/v1/quota/status', { key: b.key, headers: { 'x-org-id': a.orgId } });
  assert.equal(cross.body.org_id, b.orgId);
  // A key without quota scopes is refused.
  const weak = await app.request('POST', '/api/v1/keys', { key: a.key, body: { name: 'weak', scopes: ['quota:read'] } });
  assertEnvelope(await app.request('POST', '/api/v1/quota/consume', { key: weak.body.secret, body: { resource: 'ai_calls' } }), 403, 'forbidden');
  assert.equal((await app.request('GET', '/api/v1/quota/status', { key: weak.body.secret })).status, 200);
});
