// Payments through Stripe (issue 3, Payments): checkout, portal, payment intents, the signed webhook applied exactly
// once, and auto top-up — against the real Stripe SDK talking to a local fake of Stripe's API. Webhooks are signed
// with the SDK's own test helper. Plus the manual provider (no Stripe configured).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isExposed } from '../src/mcp/tools.ts';
import { maybeAutoTopup, scanAutoTopups } from '../src/modules/billing/auto-topup.ts';
import { DEFAULT_CATALOG } from '../src/modules/billing/plans.ts';
import { findOperation } from '../src/operations.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { type FakeStripe, startFakeStripe } from './helpers/fake-stripe.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { type DeliverOptions, newWebhookSecret, stripeDeliverer, stripeEvent } from './helpers/stripe-webhook.ts';
import { invariantViolations, ledgerState } from './helpers/ledger.ts';

const WHSEC = newWebhookSecret();
const PRO_PRICE = 'price_pro_monthly_fake';

let fake: FakeStripe;
let app: TestApp;
let manual: TestApp;

before(async () => {
  fake = await startFakeStripe();
  // The built-in catalog, with a Stripe price for `pro` (business keeps none: checkout prices it from the catalog).
  const dir = mkdtempSync(join(tmpdir(), 'opsbase-stripe-'));
  const file = join(dir, 'billing.json');
  const tiers = DEFAULT_CATALOG.tiers.map((t) => (t.id === 'pro' ? { ...t, stripe_price_id: PRO_PRICE } : t));
  writeFileSync(file, JSON.stringify({ tiers, packs: DEFAULT_CATALOG.packs }));
  const [a, m] = await Promise.all([
    startTestApp({
      env: {
        STRIPE_SECRET_KEY: fake.secretKey,
        STRIPE_WEBHOOK_SECRET: WHSEC,
        OPSBASE_STRIPE_API_BASE: fake.url,
        OPSBASE_BILLING_CONFIG: file,
        OPSBASE_RATE_LIMIT_PER_MINUTE: '100000',
      },
    }),
    startTestApp({ env: { STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '' } }),
  ]);
  app = a;
  manual = m;
});
after(async () => {
  await Promise.all([app?.close(), manual?.close()]);
  await fake?.close();
});

// ---- helpers -------------------------------------------------------------------------------------------------------

/** Posts an event to the webhook as Stripe does: the JSON bytes and a Stripe-Signature made by the SDK's helper. */
const deliver = stripeDeliverer(WHSEC);

async function query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await app.app.services.database.pool.query(sql, params)).rows;
}

const eventsOf = (orgId: string, type: string) => query('select data from events where org_id = $1 and type = $2 order by id', [orgId, type]);
const stripeEventRow = (id: string) => query('select id, type, org_id from stripe_events where id = $1', [id]);

async function wallet(t: Tenant) {
  const res = await app.request('GET', '/api/v1/wallet', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { balance: number; available: number; plan: string; funding: string };
}

async function tokens(t: Tenant): Promise<number> {
  const res = await app.request('GET', '/api/v1/tokens/balance', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.available;
}

async function plan(t: Tenant): Promise<string> {
  const res = await app.request('GET', '/api/v1/whoami', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.plan;
}

async function subscription(t: Tenant) {
  const res = await app.request('GET', '/api/v1/billing/subscription', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function assertLedgerSound(orgId: string, currency = 'credits') {
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, orgId, currency)), []);
}

/** A PaymentIntent for a pack through the API; returns the object the fake Stripe holds (what the webhook carries). */
async function buyPack(t: Tenant, packId: string) {
  const before = fake.calls('/v1/payment_intents').length;
  const res = await app.request('POST', '/api/v1/billing/payment-intents', { key: t.key, body: { pack_id: packId } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const sent = fake.calls('/v1/payment_intents');
  assert.equal(sent.length, before + 1, 'one PaymentIntent created at Stripe');
  return { res: res.body, sent: sent.at(-1)!.body };
}

function succeededIntent(id: string, sent: Record<string, any>) {
  return {
    id,
    object: 'payment_intent',
    amount: Number(sent.amount),
    amount_received: Number(sent.amount),
    currency: sent.currency,
    customer: sent.customer,
    metadata: sent.metadata,
    status: 'succeeded',
  };
}

// ---- checkout, subscription lifecycle, portal ----------------------------------------------------------------------

test('checkout: a Stripe Checkout Session for the tier price; the signed checkout.session.completed upgrades the plan', async () => {
  const t = await app.tenant('Checkout');
  assert.equal(await plan(t), 'free');

  const res = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'pro' } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const [customerCall] = fake.calls('/v1/customers').filter((r) => r.body.metadata?.org_id === t.orgId);
  assert.ok(customerCall, 'a Stripe customer was made for the org');
  const session = fake.calls('/v1/checkout/sessions').find((r) => r.body.client_reference_id === t.orgId);
  assert.ok(session, 'a checkout session was created for this org');
  assert.equal(session.authorization, `Bearer ${fake.secretKey}`);
  assert.equal(session.body.mode, 'subscription');
  assert.deepEqual(session.body.line_items, [{ price: PRO_PRICE, quantity: '1' }]);
  assert.deepEqual(session.body.metadata, { org_id: t.orgId, tier: 'pro' });
  assert.deepEqual(session.body.subscription_data, { metadata: { org_id: t.orgId, tier: 'pro' } });
  assert.match(session.body.customer, /^cus_/);
  assert.match(res.body.id, /^cs_test_/);
  assert.equal(res.body.url, `https://checkout.stripe.test/c/pay/${res.body.id}`);
  assert.equal(res.body.tier, 'pro');
  // Starting a checkout changes nothing yet.
  assert.equal(await plan(t), 'free');
  assert.equal((await subscription(t)).provider, 'manual');

  const customer = session.body.customer as string;
  const completed = stripeEvent('checkout.session.completed', {
    id: res.body.id,
    object: 'checkout.session',
    mode: 'subscription',
    client_reference_id: t.orgId,
    customer,
    subscription: 'sub_checkout_1',
    payment_status: 'paid',
    status: 'complete',
    metadata: { org_id: t.orgId, tier: 'pro' },
  });
  const hook = await deliver(app, completed);
  assert.equal(hook.status, 200, JSON.stringify(hook.body));
  assert.deepEqual(hook.body, { received: true, id: completed.id, type: 'checkout.session.completed', duplicate: false, ignored: false });
  assert.equal(await plan(t), 'pro');
  const sub = await subscription(t);
  assert.equal(sub.tier, 'pro');
  assert.equal(sub.provider, 'stripe');
  assert.equal(sub.status, 'active');
  const changed = await eventsOf(t.orgId, 'plan.changed');
  assert.equal(changed.length, 1);
  assert.equal(changed[0].data.from, 'free');
  assert.equal(changed[0].data.to, 'pro');
  assert.deepEqual(await stripeEventRow(completed.id), [{ id: completed.id, type: 'checkout.session.completed', org_id: t.orgId }]);

  // The same event again: 200, nothing moves (no second plan.changed).
  const again = await deliver(app, completed);
  assert.equal(again.status, 200);
  assert.equal(again.body.duplicate, true);
  assert.equal((await eventsOf(t.orgId, 'plan.changed')).length, 1);

  // Subscribed: a second checkout would double-bill, so it points at the portal instead.
  const second = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'business' } });
  assertEnvelope(second, 422, 'unprocessable', 'checkout while subscribed');
  assert.match(second.body.message, /portal/);

  // The portal opens for the org's customer.
  const portal = await app.request('POST', '/api/v1/billing/portal', { key: t.key, body: { return_url: 'https://app.example.com/billing' } });
  assert.equal(portal.status, 200, JSON.stringify(portal.body));
  const portalCall = fake.calls('/v1/billing_portal/sessions').at(-1)!;
  assert.equal(portalCall.body.customer, customer);
  assert.equal(portalCall.body.return_url, 'https://app.example.com/billing');
  assert.match(portal.body.url, /^https:\/\/billing\.stripe\.test\/p\/session\/bps_/);

  // Renewal: invoice.paid carries the new period end (current API shape: the subscription under `parent`).
  const periodEnd = Math.floor(Date.now() / 1000) + 30 * 86400;
  const paid = await deliver(
    app,
    stripeEvent('invoice.paid', {
      id: 'in_1',
      object: 'invoice',
      customer,
      parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_checkout_1', metadata: {} } },
      lines: { object: 'list', data: [{ period: { start: periodEnd - 30 * 86400, end: periodEnd } }] },
    }),
  );
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal((await subscription(t)).current_period_end, new Date(periodEnd * 1000).toISOString());

  // Past due keeps the tier; the status shows it.
  const updated = await deliver(
    app,
    stripeEvent('customer.subscription.updated', {
      id: 'sub_checkout_1',
      object: 'subscription',
      customer,
      status: 'past_due',
      metadata: { org_id: t.orgId, tier: 'pro' },
      items: { object: 'list', data: [{ price: { id: PRO_PRICE }, current_period_end: periodEnd + 86400 }] },
    }),
  );
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  const pastDue = await subscription(t);
  assert.equal(pastDue.status, 'past_due');
  assert.equal(pastDue.current_period_end, new Date((periodEnd + 86400) * 1000).toISOString());
  assert.equal(await plan(t), 'pro');

  // Cancelled: back to the free tier.
  const deleted = await deliver(
    app,
    stripeEvent('customer.subscription.deleted', {
      id: 'sub_checkout_1',
      object: 'subscription',
      customer,
      status: 'canceled',
      metadata: { org_id: t.orgId, tier: 'pro' },
      items: { object: 'list', data: [{ price: { id: PRO_PRICE }, current_period_end: periodEnd }] },
    }),
  );
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  assert.equal(await plan(t), 'free');
  assert.equal((await subscription(t)).status, 'canceled');
  const allChanges = await eventsOf(t.orgId, 'plan.changed');
  assert.deepEqual(
    allChanges.map((e) => [e.data.from, e.data.to]),
    [
      ['free', 'pro'],
      ['pro', 'free'],
    ],
  );
  // A new checkout is allowed again, for the same customer (no second customer made).
  const renewed = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'business' } });
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
  assert.equal(fake.calls('/v1/customers').filter((r) => r.body.metadata?.org_id === t.orgId).length, 1);
  const business = fake.calls('/v1/checkout/sessions').at(-1)!;
  assert.equal(business.body.customer, customer);
  // No Stripe price for `business`: priced from the catalog, monthly.
  assert.deepEqual(business.body.line_items, [
    {
      price_data: { currency: 'usd', unit_amount: '9900', recurring: { interval: 'month' }, product_data: { name: 'Opsbase Business' } },
      quantity: '1',
    },
  ]);
});

test('subscription events applied out of order: a late, older update never undoes a cancellation or a newer state', async () => {
  const t = await app.tenant('OutOfOrder');
  const res = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'pro' } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const customer = fake.calls('/v1/checkout/sessions').find((r) => r.body.client_reference_id === t.orgId)!.body.customer as string;
  const t0 = Math.floor(Date.now() / 1000) - 600;
  const at = (seconds: number, type: string, object: Record<string, unknown>) => ({ ...stripeEvent(type, object), created: t0 + seconds });
  const sub = (status: string) => ({
    id: 'sub_out_of_order',
    object: 'subscription',
    customer,
    status,
    metadata: { org_id: t.orgId, tier: 'pro' },
    items: { object: 'list', data: [{ price: { id: PRO_PRICE } }] },
  });
  const completed = at(0, 'checkout.session.completed', {
    id: res.body.id,
    object: 'checkout.session',
    mode: 'subscription',
    client_reference_id: t.orgId,
    customer,
    subscription: 'sub_out_of_order',
    payment_status: 'paid',
    metadata: { org_id: t.orgId, tier: 'pro' },
  });
  assert.equal((await deliver(app, completed)).status, 200);
  assert.equal(await plan(t), 'pro');

  // Two updates, the newer first: the older one arriving late changes nothing.
  assert.equal((await deliver(app, at(20, 'customer.subscription.updated', sub('active')))).status, 200);
  assert.equal((await deliver(app, at(10, 'customer.subscription.updated', sub('past_due')))).status, 200);
  assert.equal((await subscription(t)).status, 'active', 'the newer state stands');

  // Cancelled at +40; an update created at +30 is delivered after it (Stripe retried it).
  assert.equal((await deliver(app, at(40, 'customer.subscription.deleted', sub('canceled')))).status, 200);
  assert.equal(await plan(t), 'free');
  const late = await deliver(app, at(30, 'customer.subscription.updated', sub('active')));
  assert.equal(late.status, 200, 'acknowledged, so Stripe stops retrying');
  assert.equal(late.body.ignored, true, JSON.stringify(late.body));
  assert.equal(await plan(t), 'free', 'the late update did not bring the plan back');
  assert.equal((await subscription(t)).status, 'canceled');
  // Even a late invoice.paid of that subscription (or one stamped later) cannot revive a cancelled subscription.
  const invoice = at(50, 'invoice.paid', {
    id: 'in_late',
    object: 'invoice',
    customer,
    parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_out_of_order', metadata: {} } },
    lines: { object: 'list', data: [] },
  });
  assert.equal((await deliver(app, invoice)).status, 200);
  assert.equal(await plan(t), 'free');
  assert.deepEqual(
    (await eventsOf(t.orgId, 'plan.changed')).map((e) => [e.data.from, e.data.to]),
    [
      ['free', 'pro'],
      ['pro', 'free'],
    ],
  );
});

test('checkout refuses unknown and free tiers; the portal needs a Stripe customer; no Stripe call is made for them', async () => {
  const t = await app.tenant('CheckoutBad');
  const before = fake.requests.length;
  assertEnvelope(await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'platinum' } }), 404, 'not_found', 'unknown tier');
  const free = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'free' } });
  assertEnvelope(free, 422, 'unprocessable', 'free tier');
  assert.match(free.body.message, /change_plan/);
  assertEnvelope(await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: {} }), 400, 'invalid_request', 'no tier');
  assertEnvelope(
    await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { tier: 'pro', success_url: 'javascript:alert(1)' } }),
    400,
    'invalid_request',
    'bad success_url',
  );
  const portal = await app.request('POST', '/api/v1/billing/portal', { key: t.key, body: {} });
  assertEnvelope(portal, 422, 'unprocessable', 'portal without a customer');
  assert.match(portal.body.message, /no Stripe customer/);
  assert.equal(fake.requests.length, before, 'Stripe was not called');
  assert.equal(await plan(t), 'free');
});

// ---- packs: payment intent + payment_intent.succeeded --------------------------------------------------------------

test('payment intent for a pack; payment_intent.succeeded credits it exactly once, however often it is delivered', async () => {
  const t = await app.tenant('Pack');
  const { res, sent } = await buyPack(t, 'credits_500');
  assert.match(res.id, /^pi_/);
  assert.equal(res.client_secret, `${res.id}_secret_fake`);
  assert.equal(res.amount_cents, 4500);
  assert.equal(res.currency, 'usd');
  assert.equal(res.pack.id, 'credits_500');
  assert.equal(sent.amount, '4500');
  assert.equal(sent.currency, 'usd');
  assert.match(sent.customer, /^cus_/);
  assert.deepEqual(sent.metadata, { org_id: t.orgId, pack_id: 'credits_500', currency: 'credits', amount: '500' });
  assert.equal(sent.off_session, undefined, 'a customer-present payment, not off-session');
  // Nothing is credited on the client's word.
  assert.equal((await wallet(t)).balance, 0);

  const event = stripeEvent('payment_intent.succeeded', succeededIntent(res.id, sent));
  const first = await deliver(app, event);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.duplicate, false);
  assert.equal((await wallet(t)).balance, 500);
  const entries = await query('select kind, amount, reference, idempotency_key from ledger_entries where org_id = $1', [t.orgId]);
  assert.deepEqual(entries, [{ kind: 'purchase', amount: 500, reference: res.id, idempotency_key: `stripe:${event.id}` }]);
  const paid = await eventsOf(t.orgId, 'payment.succeeded');
  assert.equal(paid.length, 1);
  assert.equal(paid[0].data.amount, 500);
  assert.equal(paid[0].data.amount_cents, 4500);

  // Redelivered, one after another and then eight at once: one credit in all.
  const replay = await deliver(app, event);
  assert.equal(replay.status, 200);
  assert.equal(replay.body.duplicate, true);
  const burst = await Promise.all(Array.from({ length: 8 }, () => deliver(app, event)));
  for (const r of burst) assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await wallet(t)).balance, 500);
  assert.equal((await query('select 1 from ledger_entries where org_id = $1', [t.orgId])).length, 1);
  assert.equal((await eventsOf(t.orgId, 'payment.succeeded')).length, 1);

  // The same burst for a fresh event, concurrently from its first delivery: still exactly one credit.
  const { res: res2, sent: sent2 } = await buyPack(t, 'credits_100');
  const event2 = stripeEvent('payment_intent.succeeded', succeededIntent(res2.id, sent2));
  const results = await Promise.all(Array.from({ length: 8 }, () => deliver(app, event2)));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(8).fill(200),
  );
  assert.equal(results.filter((r) => r.body.duplicate === false).length, 1, 'exactly one delivery applied it');
  assert.equal((await wallet(t)).balance, 600);
  await assertLedgerSound(t.orgId);

  // A token pack credits tokens, not credits.
  const { res: res3, sent: sent3 } = await buyPack(t, 'tokens_100k');
  assert.equal((await deliver(app, stripeEvent('payment_intent.succeeded', succeededIntent(res3.id, sent3)))).status, 200);
  assert.equal(await tokens(t), 100_000);
  assert.equal((await wallet(t)).balance, 600);
  await assertLedgerSound(t.orgId, 'tokens');

  // Orkosi's path for the same operation.
  const alias = await app.request('POST', '/api/v1/billing/create-payment-intent', { key: t.key, body: { pack_id: 'credits_100' } });
  assert.equal(alias.status, 200, JSON.stringify(alias.body));
  assert.match(alias.body.id, /^pi_/);

  // Unknown and foreign packs are refused before Stripe is called.
  const before = fake.requests.length;
  assertEnvelope(await app.request('POST', '/api/v1/billing/payment-intents', { key: t.key, body: { pack_id: 'credits_9' } }), 404, 'not_found');
  assertEnvelope(await app.request('POST', '/api/v1/billing/payment-intents', { key: t.key, body: {} }), 400, 'invalid_request');
  assert.equal(fake.requests.length, before);
});

test('a PaymentIntent that is not an Opsbase pack (a subscription invoice) is acknowledged and changes nothing', async () => {
  const t = await app.tenant('ForeignPI');
  const event = stripeEvent('payment_intent.succeeded', {
    id: 'pi_invoice_payment',
    object: 'payment_intent',
    amount: 2900,
    amount_received: 2900,
    currency: 'usd',
    metadata: {},
    status: 'succeeded',
  });
  const res = await deliver(app, event);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.ignored, true);
  // Even metadata naming a real org but a bogus amount is not credited.
  const bogus = stripeEvent('payment_intent.succeeded', {
    id: 'pi_bogus',
    object: 'payment_intent',
    amount: 100,
    currency: 'usd',
    metadata: { org_id: t.orgId, pack_id: 'credits_100', currency: 'credits', amount: '-5' },
  });
  assert.equal((await deliver(app, bogus)).body.ignored, true);
  assert.equal((await wallet(t)).balance, 0);
});

// ---- signature verification -----------------------------------------------------------------------------------------

test('forged, tampered, missing or stale signatures → 400 and nothing changes; the genuine event then applies', async () => {
  const t = await app.tenant('Forged');
  const { res, sent } = await buyPack(t, 'credits_100');
  const event = stripeEvent('payment_intent.succeeded', succeededIntent(res.id, sent));
  const payload = JSON.stringify(event);
  const inflated = JSON.stringify({ ...event, data: { object: { ...event.data.object, metadata: { ...sent.metadata, amount: '1000000' } } } });
  const now = Math.floor(Date.now() / 1000);

  const attempts: [string, DeliverOptions][] = [
    ['signed with another secret', { secret: newWebhookSecret() }],
    ['a tampered body under a valid signature', { body: inflated }],
    ['no Stripe-Signature header', { header: null }],
    ['a garbage header', { header: 'not-a-signature' }],
    ['a signature with no v1', { header: `t=${now}` }],
    ['a timestamp 10 minutes old (replay)', { timestamp: now - 600 }],
  ];
  for (const [label, o] of attempts) {
    const r = await deliver(app, event, o);
    assertEnvelope(r, 400, 'invalid_request', label);
  }
  const stale = await deliver(app, event, { timestamp: now - 600 });
  assert.match(stale.body.message, /tolerance/i);
  // The signature over different bytes does not verify even when the JSON means the same.
  const respaced = await deliver(app, event, { body: JSON.stringify(event, null, 2) });
  assertEnvelope(respaced, 400, 'invalid_request', 'same JSON, other bytes');

  assert.equal((await wallet(t)).balance, 0);
  assert.deepEqual(await stripeEventRow(event.id), [], 'no forged delivery consumed the event id');
  assert.equal((await eventsOf(t.orgId, 'payment.succeeded')).length, 0);

  // The control: the very same event, honestly signed, applies (so the 400s were about the signature alone).
  const ok = await deliver(app, event);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(payload, JSON.stringify(event));
  assert.equal((await wallet(t)).balance, 100);
});

test('unknown event types are acknowledged with 200 and ignored; malformed bodies are 400', async () => {
  const event = stripeEvent('customer.tax_id.created', { id: 'txi_1', object: 'tax_id' });
  const res = await deliver(app, event);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { received: true, id: event.id, type: 'customer.tax_id.created', duplicate: false, ignored: true });
  // No API key needed, and an API key does not help a bad signature either.
  const t = await app.tenant('HookKey');
  const keyed = await app.request('POST', '/api/v1/billing/webhook', {
    key: t.key,
    raw: JSON.stringify(event),
    headers: { 'stripe-signature': 't=1,v1=00' },
  });
  assertEnvelope(keyed, 400, 'invalid_request', 'API key but bad signature');
  const broken = await app.request('POST', '/api/v1/billing/webhook', { raw: '{"id":', headers: { 'stripe-signature': 't=1,v1=00' } });
  assertEnvelope(broken, 400, 'invalid_request', 'malformed JSON');
  // The webhook is not an MCP tool (nor a CLI command: cli.test.ts), but it is in the OpenAPI document.
  assert.equal(isExposed(findOperation('billing.webhook')!), false);
  assert.equal(isExposed(findOperation('billing.checkout')!), true);
  const doc = await app.request('GET', '/api/openapi.json');
  assert.equal(doc.body.paths['/api/v1/billing/webhook'].post.operationId, 'billing.webhook');
});

// ---- manual provider ------------------------------------------------------------------------------------------------

test('manual provider (no Stripe configured): checkout, portal, payment intents and webhooks answer 422 with the grant hint', async () => {
  const t = await manual.tenant('Manual');
  const before = fake.requests.length;
  for (const [path, body] of [
    ['/api/v1/billing/checkout', { tier: 'pro' }],
    ['/api/v1/billing/portal', {}],
    ['/api/v1/billing/payment-intents', { pack_id: 'credits_100' }],
  ] as const) {
    const res = await manual.request('POST', path, { key: t.key, body });
    assertEnvelope(res, 422, 'unprocessable', path);
    assert.match(res.body.message, /not configured/);
    assert.match(res.body.message, /opsbase billing grant/);
  }
  const hook = await deliver(manual, stripeEvent('payment_intent.succeeded', { id: 'pi_x', object: 'payment_intent', metadata: {} }));
  assertEnvelope(hook, 422, 'unprocessable', 'webhook without Stripe');
  // Auto top-up can be stored disabled, not enabled: nothing could charge it.
  const enable = await manual.request('POST', '/api/v1/billing/credit-auto-topup', {
    key: t.key,
    body: { threshold: 10, pack_id: 'credits_100', payment_method_id: 'pm_manual' },
  });
  assertEnvelope(enable, 422, 'unprocessable', 'enable without Stripe');
  const stored = await manual.request('POST', '/api/v1/billing/credit-auto-topup', {
    key: t.key,
    body: { threshold: 10, pack_id: 'credits_100', enabled: false },
  });
  assert.equal(stored.status, 201, JSON.stringify(stored.body));
  assert.equal(stored.body.enabled, false);
  assert.deepEqual(await maybeAutoTopup(manual.app.services, t.orgId, 'credits'), { status: 'skipped', reason: 'payments_not_configured' });
  assert.equal((await manual.request('GET', '/api/v1/wallet', { key: t.key })).body.funding, 'manual');
  assert.equal(fake.requests.length, before, 'Stripe was never called');
});

// ---- auto top-up ----------------------------------------------------------------------------------------------------

test('auto top-up settings: read, configure, update, with validation of pack, currency, threshold, cap and payment method', async () => {
  const t = await app.tenant('TopupCfg');
  const empty = await app.request('GET', '/api/v1/billing/auto-topup', { key: t.key });
  assert.equal(empty.status, 200, JSON.stringify(empty.body));
  assert.equal(empty.body.currency, 'tokens');
  assert.equal(empty.body.configured, false);
  assert.equal(empty.body.enabled, false);
  assert.deepEqual(
    empty.body.packs.map((p: { id: string }) => p.id),
    ['tokens_100k', 'tokens_1m'],
  );
  const creditPacks = (await app.request('GET', '/api/v1/billing/credit-auto-topup', { key: t.key })).body.packs;
  assert.deepEqual(
    creditPacks.map((p: { id: string }) => p.id),
    ['credits_100', 'credits_500', 'credits_2000'],
  );

  const post = (body: unknown) => app.request('POST', '/api/v1/billing/auto-topup', { key: t.key, body });
  const pm = `pm_${randomBytes(8).toString('hex')}`;
  fake.addPaymentMethod(pm);
  const good = { threshold: 5000, pack_id: 'tokens_100k', max_per_month: 2, payment_method_id: pm };

  assertEnvelope(await post({ ...good, pack_id: 'tokens_7' }), 404, 'not_found', 'unknown pack');
  const wrong = await post({ ...good, pack_id: 'credits_100' });
  assertEnvelope(wrong, 422, 'unprocessable', 'a credits pack for tokens');
  assert.match(wrong.body.message, /sells credits, not tokens/);
  assertEnvelope(await post({ ...good, threshold: -1 }), 400, 'invalid_request', 'negative threshold');
  assertEnvelope(await post({ ...good, threshold: 1.5 }), 400, 'invalid_request', 'fractional threshold');
  assertEnvelope(await post({ ...good, max_per_month: 0 }), 400, 'invalid_request', 'max 0');
  assertEnvelope(await post({ ...good, max_per_month: 101 }), 400, 'invalid_request', 'max 101');
  assertEnvelope(await post({ ...good, payment_method_id: 'tok_visa' }), 400, 'invalid_request', 'not a pm id');
  const noPm = await post({ threshold: 5000, pack_id: 'tokens_100k' });
  assertEnvelope(noPm, 422, 'unprocessable', 'enabled without a payment method');
  assert.match(noPm.body.message, /payment_method_id/);
  const unknownPm = await post({ ...good, payment_method_id: 'pm_unknown_to_stripe' });
  assertEnvelope(unknownPm, 422, 'unprocessable', 'a payment method Stripe does not know');
  const foreignPm = `pm_${randomBytes(8).toString('hex')}`;
  fake.addPaymentMethod(foreignPm, { customer: 'cus_someone_else' });
  assertEnvelope(await post({ ...good, payment_method_id: foreignPm }), 422, 'unprocessable', "another customer's payment method");
  assert.equal((await app.request('GET', '/api/v1/billing/auto-topup', { key: t.key })).body.configured, false, 'nothing was stored');

  const created = await post(good);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.configured, true);
  assert.equal(created.body.enabled, true);
  assert.equal(created.body.threshold, 5000);
  assert.equal(created.body.pack_id, 'tokens_100k');
  assert.equal(created.body.max_per_month, 2);
  assert.equal(created.body.payment_method_id, pm);
  assert.equal(created.body.used_this_month, 0);
  assert.equal(created.body.last_charge, null);
  // The loose card was attached to the org's customer.
  assert.match(fake.paymentMethodCustomer(pm) ?? '', /^cus_/);
  assertEnvelope(await post(good), 409, 'conflict', 'configured twice');

  const patch = (body: unknown) => app.request('PATCH', '/api/v1/billing/auto-topup', { key: t.key, body });
  const updated = await patch({ threshold: 20_000, max_per_month: 5 });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.equal(updated.body.threshold, 20_000);
  assert.equal(updated.body.max_per_month, 5);
  assert.equal(updated.body.pack_id, 'tokens_100k', 'untouched fields stay');
  assertEnvelope(await patch({ pack_id: 'credits_500' }), 422, 'unprocessable', 'update to a wrong-currency pack');
  assertEnvelope(await patch({ pack_id: 'nope' }), 404, 'not_found', 'update to an unknown pack');
  assertEnvelope(await patch({ max_per_month: 1000 }), 400, 'invalid_request', 'update cap 1000');
  assertEnvelope(await patch({ payment_method_id: null }), 422, 'unprocessable', 'clearing the card of an enabled auto top-up');
  const off = await patch({ enabled: false, payment_method_id: null });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  assert.equal(off.body.enabled, false);
  assert.equal(off.body.payment_method_id, null);
  const still = (await app.request('GET', '/api/v1/billing/auto-topup', { key: t.key })).body;
  assert.equal(still.pack_id, 'tokens_100k');
  assert.equal(still.threshold, 20_000);

  // Credits have their own settings: not configured yet → update is 404.
  assertEnvelope(
    await app.request('PATCH', '/api/v1/billing/credit-auto-topup', { key: t.key, body: { threshold: 1 } }),
    404,
    'not_found',
    'update before configure',
  );
  const credits = await app.request('POST', '/api/v1/billing/credit-auto-topup', {
    key: t.key,
    body: { threshold: 25, pack_id: 'credits_100', payment_method_id: pm },
  });
  assert.equal(credits.status, 201, JSON.stringify(credits.body));
  assert.equal(credits.body.currency, 'credits');
  assert.equal(credits.body.max_per_month, 3, 'default cap');
  // The wallet shows the credit auto top-up; tokens show theirs.
  const w = (await app.request('GET', '/api/v1/wallet', { key: t.key })).body;
  assert.deepEqual(w.auto_recharge, { enabled: true, threshold: 25, pack_id: 'credits_100', max_per_month: 3 });
});

async function setUpTopup(t: Tenant, currency: 'tokens' | 'credits', body: Record<string, unknown>, opts: { declines?: boolean } = {}) {
  const pm = `pm_${randomBytes(8).toString('hex')}`;
  fake.addPaymentMethod(pm, { declines: opts.declines });
  const path = currency === 'tokens' ? '/api/v1/billing/auto-topup' : '/api/v1/billing/credit-auto-topup';
  const res = await app.request('POST', path, { key: t.key, body: { ...body, payment_method_id: pm } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { pm, path };
}

/** Delivers payment_intent.succeeded for the auto top-up PaymentIntent the fake Stripe received last for this org. */
async function confirmLastCharge(t: Tenant) {
  const call = fake
    .calls('/v1/payment_intents')
    .filter((r) => r.body.metadata?.org_id === t.orgId)
    .at(-1)!;
  const [charge] = await query('select payment_intent_id from auto_topup_charges where id = $1', [call.body.metadata.auto_topup_charge_id]);
  assert.match(charge.payment_intent_id, /^pi_/, 'the charge knows its PaymentIntent');
  const res = await deliver(app, stripeEvent('payment_intent.succeeded', succeededIntent(charge.payment_intent_id, call.body)));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return call;
}

test('auto top-up charges off-session below the threshold, once at a time, at most max_per_month per month', async () => {
  const t = await app.tenant('Topup');
  const services = app.app.services;
  const { pm, path } = await setUpTopup(t, 'tokens', { threshold: 50_000, pack_id: 'tokens_100k', max_per_month: 2 });
  const piCalls = () => fake.calls('/v1/payment_intents').filter((r) => r.body.metadata?.org_id === t.orgId);

  // Below the threshold (0 < 50,000): one off-session charge for the pack.
  const first = await maybeAutoTopup(services, t.orgId, 'tokens');
  assert.equal(first.status, 'charged', JSON.stringify(first));
  assert.equal(piCalls().length, 1);
  const sent = piCalls()[0];
  assert.equal(sent.body.off_session, 'true');
  assert.equal(sent.body.confirm, 'true');
  assert.equal(sent.body.payment_method, pm);
  assert.match(sent.body.customer, /^cus_/);
  assert.equal(sent.body.amount, '1000');
  assert.equal(sent.body.currency, 'usd');
  assert.equal(sent.body.metadata.pack_id, 'tokens_100k');
  assert.equal(sent.body.metadata.currency, 'tokens');
  assert.equal(sent.body.metadata.amount, '100000');
  assert.equal(first.status === 'charged' && sent.body.metadata.auto_topup_charge_id, first.status === 'charged' && first.charge_id);
  assert.ok(sent.idempotencyKey?.includes(sent.body.metadata.auto_topup_charge_id), 'the charge id is the Stripe idempotency key');
  // The credit waits for Stripe's webhook; meanwhile no second charge.
  assert.equal(await tokens(t), 0);
  assert.deepEqual(await maybeAutoTopup(services, t.orgId, 'tokens'), { status: 'skipped', reason: 'pending' });
  await scanAutoTopups(services); // the scan, too, leaves an org with a charge in flight alone
  assert.equal(piCalls().length, 1);
  let view = (await app.request('GET', path, { key: t.key })).body;
  assert.equal(view.used_this_month, 1);
  assert.equal(view.last_charge.status, 'pending');

  await confirmLastCharge(t);
  assert.equal(await tokens(t), 100_000);
  view = (await app.request('GET', path, { key: t.key })).body;
  assert.equal(view.last_charge.status, 'succeeded');
  assert.equal((await eventsOf(t.orgId, 'payment.succeeded')).at(-1).data.auto_topup, true);
  // Above the threshold now: nothing to do.
  assert.deepEqual(await maybeAutoTopup(services, t.orgId, 'tokens'), { status: 'skipped', reason: 'above_threshold' });

  // Spend below the threshold again: the scheduled scan finds it.
  const spend = async (amount: number) => {
    const r = await app.request('POST', '/api/v1/tokens/consume', {
      key: t.key,
      body: { amount, action: 'test', reference_id: randomBytes(6).toString('hex') },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  await spend(60_000);
  const scan = await scanAutoTopups(services);
  assert.ok(scan.checked >= 1);
  assert.ok(scan.charged >= 1);
  assert.equal(piCalls().length, 2);
  await confirmLastCharge(t);
  assert.equal(await tokens(t), 140_000);
  assert.equal((await app.request('GET', path, { key: t.key })).body.used_this_month, 2);

  // The monthly cap (2) is reached: below the threshold, still no charge.
  await spend(100_000);
  assert.equal(await tokens(t), 40_000);
  assert.deepEqual(await maybeAutoTopup(services, t.orgId, 'tokens'), { status: 'skipped', reason: 'monthly_limit' });
  await scanAutoTopups(services);
  assert.equal(piCalls().length, 2);

  // Next calendar month the count starts again.
  const now = new Date();
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 2));
  const renewed = await maybeAutoTopup(services, t.orgId, 'tokens', { now: nextMonth });
  assert.equal(renewed.status, 'charged', JSON.stringify(renewed));
  assert.equal(piCalls().length, 3);
  const [charge] = await query('select month from auto_topup_charges where id = $1', [renewed.status === 'charged' ? renewed.charge_id : '']);
  assert.equal(charge.month, nextMonth.toISOString().slice(0, 7));
  await assertLedgerSound(t.orgId, 'tokens');

  // Disabled: nothing, even below the threshold.
  await confirmLastCharge(t);
  await spend(140_000 - 1);
  assert.equal((await app.request('PATCH', path, { key: t.key, body: { enabled: false } })).status, 200);
  assert.deepEqual(await maybeAutoTopup(services, t.orgId, 'tokens', { now: nextMonth }), { status: 'skipped', reason: 'disabled' });
  assert.equal(piCalls().length, 3);
});

test('auto top-up: a declined card fails the charge and disables it; Stripe being down retries the same charge later', async () => {
  const services = app.app.services;
  const t = await app.tenant('TopupDeclined');
  const { path } = await setUpTopup(t, 'credits', { threshold: 10, pack_id: 'credits_100' }, { declines: true });
  const declined = await maybeAutoTopup(services, t.orgId, 'credits');
  assert.equal(declined.status, 'failed', JSON.stringify(declined));
  assert.equal(declined.status === 'failed' && declined.retry, false);
  const view = (await app.request('GET', path, { key: t.key })).body;
  assert.equal(view.enabled, false, 'switched off: the same card would be declined again');
  assert.equal(view.used_this_month, 0, 'a failed charge does not count against the month');
  assert.equal(view.last_charge.status, 'failed');
  assert.match(view.last_charge.error, /declined/);
  assert.equal((await wallet(t)).balance, 0);
  assert.deepEqual(await maybeAutoTopup(services, t.orgId, 'credits'), { status: 'skipped', reason: 'disabled' });

  // An asynchronous failure (payment_intent.payment_failed after the charge was accepted) undoes it the same way.
  const v = await app.tenant('TopupAsyncFail');
  const { path: vPath } = await setUpTopup(v, 'credits', { threshold: 10, pack_id: 'credits_100' });
  const accepted = await maybeAutoTopup(services, v.orgId, 'credits');
  assert.equal(accepted.status, 'charged', JSON.stringify(accepted));
  assert.equal((await app.request('GET', vPath, { key: v.key })).body.used_this_month, 1);
  const call = fake.calls('/v1/payment_intents').at(-1)!;
  const failedEvent = stripeEvent('payment_intent.payment_failed', {
    ...succeededIntent(accepted.status === 'charged' ? accepted.payment_intent_id : '', call.body),
    status: 'requires_payment_method',
    amount_received: 0,
    last_payment_error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' },
  });
  assert.equal((await deliver(app, failedEvent)).status, 200);
  const vView = (await app.request('GET', vPath, { key: v.key })).body;
  assert.equal(vView.enabled, false);
  assert.equal(vView.used_this_month, 0);
  assert.equal(vView.last_charge.status, 'failed');
  assert.equal(vView.last_charge.error, 'Your card was declined.');
  assert.equal((await wallet(v)).balance, 0);

  // Stripe answers 500 (through the SDK's retries): the charge stays pending and is resent with the same key.
  const u = await app.tenant('TopupOutage');
  await setUpTopup(u, 'credits', { threshold: 10, pack_id: 'credits_100' });
  const before = fake.calls('/v1/payment_intents').length;
  fake.failNext(3);
  const down = await maybeAutoTopup(services, u.orgId, 'credits');
  assert.equal(down.status, 'failed', JSON.stringify(down));
  assert.equal(down.status === 'failed' && down.retry, true);
  const attempts = fake.calls('/v1/payment_intents').slice(before);
  assert.equal(attempts.length, 3, 'the SDK tried three times');
  assert.equal(new Set(attempts.map((a) => a.idempotencyKey)).size, 1, 'all with one idempotency key');
  assert.deepEqual(await maybeAutoTopup(services, u.orgId, 'credits'), { status: 'skipped', reason: 'pending' });
  const later = await maybeAutoTopup(services, u.orgId, 'credits', { now: new Date(Date.now() + 3 * 60_000) });
  assert.equal(later.status, 'charged', JSON.stringify(later));
  const resent = fake.calls('/v1/payment_intents').at(-1)!;
  assert.equal(resent.idempotencyKey, attempts[0].idempotencyKey, 'resent under the first key: Stripe charges it once');
  assert.equal(down.status === 'failed' && later.status === 'charged' && later.charge_id, down.status === 'failed' && down.charge_id);
  await confirmLastCharge(u);
  assert.equal((await wallet(u)).balance, 100);
  await assertLedgerSound(u.orgId);
});
