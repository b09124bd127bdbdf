// Monthly credits (issue 3 §5, `limits.credits_per_month`): a `grant` entry keyed `monthly:<YYYY-MM>` per org and
// UTC month — at org creation and from the worker's job — exactly once however often or concurrently it runs;
// 0 and -1 grant nothing; unused credits roll over.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { grantDueMonthlyCredits } from '../src/modules/billing/monthly-credits.ts';
import { startWithTiers } from './helpers/billing-config.ts';
import { closeDb, sql } from './helpers/db.ts';
import type { Tenant, TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  const perMonth = (credits_per_month: number) => ({ credits_per_month });
  app = await startWithTiers({ free: perMonth(10), pro: perMonth(100), zero: perMonth(0), unl: perMonth(-1) });
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const month = (at: Date) => at.toISOString().slice(0, 7);
const monthsFromNow = (n: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + n, 15, 12));
};

async function grants(t: Tenant) {
  return sql(app, `select amount, reference, idempotency_key from ledger_entries where org_id = $1 and kind = 'grant' order by id`, [t.orgId]);
}

async function balance(t: Tenant): Promise<number> {
  const res = await app.request('GET', '/api/v1/wallet', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.balance;
}

async function onTier(name: string, tier: string): Promise<Tenant> {
  const t = await app.tenant(name);
  const res = await app.request('POST', '/api/v1/billing/change-plan', { key: t.key, body: { tier } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return t;
}

test('a new org gets its tier’s credits for the current month at creation, as a `grant` keyed by the month', async () => {
  const t = await app.tenant('New');
  assert.deepEqual(await grants(t), [{ amount: 10, reference: 'free', idempotency_key: `monthly:${month(new Date())}` }]);
  assert.equal(await balance(t), 10);
  const act = await sql(app, `select metadata from activity_log where org_id = $1 and action = 'billing.monthly_credits_granted'`, [t.orgId]);
  assert.equal(act.length, 1);
  assert.equal(act[0].metadata.amount, 10);
  // The job finds nothing left to do for it this month.
  await grantDueMonthlyCredits(app.app.services);
  assert.equal((await grants(t)).length, 1);
});

test('the job: one grant per org and month, however often it runs; a new month grants again; 0 and -1 grant nothing', async () => {
  const free = await app.tenant('Free');
  const pro = await onTier('Pro', 'pro');
  const zero = await onTier('Zero', 'zero');
  const unl = await onTier('Unl', 'unl');
  const next = monthsFromNow(1);

  const first = await grantDueMonthlyCredits(app.app.services, next);
  assert.ok(first.granted >= 2, JSON.stringify(first));
  const again = await grantDueMonthlyCredits(app.app.services, next);
  assert.equal(again.granted, 0, 'a second run grants nothing');
  const key = `monthly:${month(next)}`;
  const inMonth = async (t: Tenant) => (await grants(t)).filter((g) => g.idempotency_key === key);
  assert.deepEqual(await inMonth(free), [{ amount: 10, reference: 'free', idempotency_key: key }]);
  assert.deepEqual(await inMonth(pro), [{ amount: 100, reference: 'pro', idempotency_key: key }]);
  assert.deepEqual(await inMonth(zero), []);
  assert.deepEqual(await inMonth(unl), []);

  // The month after: a second grant, and the first month's credits are still there (they roll over).
  const later = monthsFromNow(2);
  await grantDueMonthlyCredits(app.app.services, later);
  assert.deepEqual(
    (await grants(pro)).map((g) => g.idempotency_key),
    [`monthly:${month(new Date())}`, key, `monthly:${month(later)}`],
  );
  assert.equal(await balance(pro), 10 + 100 + 100, "creation's free grant, then two months of pro");
  assert.equal(await balance(zero), 10, 'only the grant it got at creation, on free');
});

test('concurrent runs (several workers, retries) still grant exactly once per org', async () => {
  const orgs = await Promise.all(Array.from({ length: 5 }, (_, i) => onTier(`Many${i}`, 'pro')));
  const at = monthsFromNow(3);
  const runs = await Promise.all(Array.from({ length: 4 }, () => grantDueMonthlyCredits(app.app.services, at, 2)));
  assert.ok(runs.reduce((n, r) => n + r.granted, 0) >= orgs.length);
  for (const t of orgs) {
    const rows = (await grants(t)).filter((g) => g.idempotency_key === `monthly:${month(at)}`);
    assert.equal(rows.length, 1, t.orgId);
  }
  // The ledger's invariant holds: the balance is the sum of the entries.
  for (const t of orgs) {
    const [row] = await sql(
      app,
      `select (select balance from balances where org_id = $1 and currency = 'credits') as b, (select sum(amount) from ledger_entries where org_id = $1 and currency = 'credits') as s`,
      [t.orgId],
    );
    assert.equal(Number(row.b), Number(row.s));
  }
});

test('moving to a granting tier mid-month grants at the next run; unknown plans count as free; deleted orgs get nothing', async () => {
  const at = monthsFromNow(4);
  const up = await onTier('Mover', 'zero');
  await grantDueMonthlyCredits(app.app.services, at);
  assert.equal((await grants(up)).filter((g) => g.idempotency_key === `monthly:${month(at)}`).length, 0, 'zero grants nothing');
  assert.equal((await app.request('POST', '/api/v1/billing/change-plan', { key: up.key, body: { tier: 'pro' } })).status, 200);
  await grantDueMonthlyCredits(app.app.services, at);
  assert.deepEqual(
    (await grants(up)).filter((g) => g.idempotency_key === `monthly:${month(at)}`).map((g) => [g.amount, g.reference]),
    [[100, 'pro']],
  );

  const gone = await app.tenant('GoneTier');
  await sql(app, `update orgs set plan = 'retired' where id = $1`, [gone.orgId]);
  const deleted = await app.tenant('Deleted');
  await sql(app, 'update orgs set deleted_at = now() where id = $1', [deleted.orgId]);
  const at2 = monthsFromNow(5);
  await grantDueMonthlyCredits(app.app.services, at2);
  assert.deepEqual(
    (await grants(gone)).filter((g) => g.idempotency_key === `monthly:${month(at2)}`).map((g) => [g.amount, g.reference]),
    [[10, 'free']],
  );
  assert.equal((await grants(deleted)).filter((g) => g.idempotency_key === `monthly:${month(at2)}`).length, 0);
});
