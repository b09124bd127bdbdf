// Buying a pack on Stripe's hosted checkout page (`billing.checkout` with `pack_id`): the session Stripe is asked
// for (payment mode, the pack's price, the metadata the webhook credits from), and the signed checkout.session.*
// webhooks crediting exactly the pack, once per session, to the org that bought it, only when paid. Against the real
// Stripe SDK talking to the local fake of Stripe's API; nothing of ours is faked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dispatchEvents } from '../src/modules/events/dispatch.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { type FakeStripe, startFakeStripe } from './helpers/fake-stripe.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { invariantViolations, ledgerState } from './helpers/ledger.ts';
import { newWebhookSecret, stripeDeliverer, stripeEvent } from './helpers/stripe-webhook.ts';

const WHSEC = newWebhookSecret();
const deliver = stripeDeliverer(WHSEC);
let fake: FakeStripe;
let app: TestApp;
let manual: TestApp;

before(async () => {
  fake = await startFakeStripe();
  [app, manual] = await Promise.all([
    startTestApp({
      env: { STRIPE_SECRET_KEY: fake.secretKey, STRIPE_WEBHOOK_SECRET: WHSEC, OPSBASE_STRIPE_API_BASE: fake.url, OPSBASE_PUBLIC_URL: 'https://ops.example.com' },
    }),
    startTestApp({ env: { STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '' } }),
  ]);
});
after(async () => {
  await Promise.all([app?.close(), manual?.close()]);
  await fake?.close();
});

const query = async <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => (await app.app.services.database.pool.query(sql, params)).rows;
const entries = (orgId: string) => query('select currency, kind, amount, reference, idempotency_key from ledger_entries where org_id = $1 order by created_at', [orgId]);
const paidEvents = (orgId: string) => query('select subject, data from events where org_id = $1 and type = $2 order by id', [orgId, 'payment.succeeded']);

async function available(t: Tenant, currency: 'credits' | 'tokens' = 'credits'): Promise<number> {
  const res = await app.request('GET', currency === 'credits' ? '/api/v1/wallet' : '/api/v1/tokens/balance', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.available;
}

async function assertLedgerSound(orgId: string, currency = 'credits') {
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, orgId, currency)), []);
}

/** Starts a pack checkout through the API; returns the answer and the session request Stripe received. */
async function checkoutPack(t: Tenant, packId: string, extra: Record<string, string> = {}) {
  const before = fake.calls('/v1/checkout/sessions').length;
  const res = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { pack_id: packId, ...extra } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const sent = fake.calls('/v1/checkout/sessions');
  assert.equal(sent.length, before + 1, 'one Checkout Session created at Stripe');
  return { res: res.body, sent: sent.at(-1)!.body };
}

/** The session object as Stripe's checkout.session.* events carry it, from what was sent to create it. */
function session(id: string, sent: Record<string, any>, o: Record<string, unknown> = {}) {
  return {
    id,
    object: 'checkout.session',
    mode: 'payment',
    customer: sent.customer,
    client_reference_id: sent.client_reference_id,
    metadata: sent.metadata,
    amount_total: Number(sent.line_items[0].price_data?.unit_amount ?? 0),
    currency: 'usd',
    payment_intent: `pi_for_${id}`,
    status: 'complete',
    payment_status: 'paid',
    ...o,
  };
}

test('checkout with pack_id: a payment-mode session at the pack price with its metadata; paid, it credits the pack exactly once', async () => {
  const t = await app.tenant('PackCheckout');
  const { res, sent } = await checkoutPack(t, 'credits_500');
  assert.match(res.id, /^cs_test_/);
  assert.deepEqual(res, { id: res.id, url: `https://checkout.stripe.test/c/pay/${res.id}`, mode: 'payment', tier: null, pack_id: 'credits_500' });
  assert.equal(sent.mode, 'payment');
  assert.match(sent.customer, /^cus_/);
  assert.equal(sent.client_reference_id, t.orgId);
  assert.deepEqual(sent.line_items, [{ price_data: { currency: 'usd', unit_amount: '4500', product_data: { name: 'Opsbase 500 credits' } }, quantity: '1' }]);
  assert.deepEqual(sent.metadata, { org_id: t.orgId, pack_id: 'credits_500', currency: 'credits', amount: '500' });
  // The session's PaymentIntent carries no pack metadata: its own payment_intent.succeeded must not credit it again.
  assert.deepEqual(sent.payment_intent_data, { description: 'Opsbase 500 credits' });
  assert.equal(sent.subscription_data, undefined);
  assert.equal(sent.success_url, 'https://ops.example.com/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}');
  assert.equal(sent.cancel_url, 'https://ops.example.com/billing?checkout=cancelled');
  const started = await query("select entity_id, metadata->>'pack_id' as pack_id from activity_log where org_id = $1 and action = $2", [
    t.orgId,
    'billing.checkout_started',
  ]);
  assert.deepEqual(started, [{ entity_id: res.id, pack_id: 'credits_500' }]);
  // Nothing is credited on the client's word.
  assert.equal(await available(t), 0);

  const completed = stripeEvent('checkout.session.completed', session(res.id, sent));
  const hook = await deliver(app, completed);
  assert.equal(hook.status, 200, JSON.stringify(hook.body));
  assert.deepEqual(hook.body, { received: true, id: completed.id, type: 'checkout.session.completed', duplicate: false, ignored: false });
  assert.equal(await available(t), 500);
  assert.deepEqual(await entries(t.orgId), [
    { currency: 'credits', kind: 'purchase', amount: 500, reference: res.id, idempotency_key: `stripe:checkout:${res.id}` },
  ]);
  const paid = await paidEvents(t.orgId);
  assert.equal(paid.length, 1);
  assert.equal(paid[0].subject, `pi_for_${res.id}`);
  assert.equal(paid[0].data.checkout_session, res.id);
  assert.equal(paid[0].data.pack_id, 'credits_500');
  assert.equal(paid[0].data.amount, 500);
  assert.equal(paid[0].data.amount_cents, 4500);

  // The owner is told, by the dispatcher's rule for payment.succeeded.
  await dispatchEvents(app.app.services);
  const notes = await query('select user_id, title, body from notifications where org_id = $1 and type = $2', [t.orgId, 'payment.succeeded']);
  assert.deepEqual(notes, [{ user_id: t.userId, title: 'Payment succeeded', body: '500 credits were added.' }]);

  // Replayed (one by one, then eight at once), or confirmed again by another event of the same session: one credit in all.
  const replay = await deliver(app, completed);
  assert.equal(replay.status, 200);
  assert.equal(replay.body.duplicate, true);
  const burst = await Promise.all(Array.from({ length: 8 }, () => deliver(app, completed)));
  assert.deepEqual(
    burst.map((r) => r.status),
    Array(8).fill(200),
  );
  const again = await deliver(app, stripeEvent('checkout.session.async_payment_succeeded', session(res.id, sent)));
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.duplicate, false, 'a new event id: not deduplicated by the event, but by the session');
  // The session's own PaymentIntent succeeding (Stripe sends that too) is not a pack purchase of its own.
  const pi = await deliver(
    app,
    stripeEvent('payment_intent.succeeded', { id: `pi_for_${res.id}`, object: 'payment_intent', amount: 4500, currency: 'usd', metadata: {} }),
  );
  assert.equal(pi.body.ignored, true);
  assert.equal(await available(t), 500);
  assert.equal((await entries(t.orgId)).length, 1);
  assert.equal((await paidEvents(t.orgId)).length, 1);
  await assertLedgerSound(t.orgId);
});

test('a delayed payment: completed but unpaid credits nothing; async_payment_succeeded credits it; expired and failed sessions nothing', async () => {
  const t = await app.tenant('PackDelayed');
  const { res, sent } = await checkoutPack(t, 'tokens_100k', { success_url: 'https://app.example.com/done', cancel_url: 'https://app.example.com/no' });
  assert.equal(sent.success_url, 'https://app.example.com/done');
  assert.equal(sent.cancel_url, 'https://app.example.com/no');
  assert.deepEqual(sent.metadata, { org_id: t.orgId, pack_id: 'tokens_100k', currency: 'tokens', amount: '100000' });

  const unpaid = await deliver(app, stripeEvent('checkout.session.completed', session(res.id, sent, { payment_status: 'unpaid', payment_intent: null })));
  assert.equal(unpaid.status, 200, JSON.stringify(unpaid.body));
  assert.equal(unpaid.body.ignored, true);
  assert.equal(await available(t, 'tokens'), 0);

  const failed = await deliver(app, stripeEvent('checkout.session.async_payment_failed', session(res.id, sent, { payment_status: 'unpaid' })));
  assert.equal(failed.body.ignored, true);
  assert.equal(await available(t, 'tokens'), 0);

  const succeeded = await deliver(app, stripeEvent('checkout.session.async_payment_succeeded', session(res.id, sent)));
  assert.equal(succeeded.status, 200, JSON.stringify(succeeded.body));
  assert.equal(succeeded.body.ignored, false);
  assert.equal(await available(t, 'tokens'), 100_000);
  assert.equal(await available(t, 'credits'), 0, 'a token pack credits tokens only');
  await assertLedgerSound(t.orgId, 'tokens');

  // Another session, abandoned: Stripe expires it; nothing is credited.
  const { res: res2, sent: sent2 } = await checkoutPack(t, 'credits_100');
  const expired = await deliver(app, stripeEvent('checkout.session.expired', session(res2.id, sent2, { status: 'expired', payment_status: 'unpaid' })));
  assert.equal(expired.status, 200);
  assert.equal(expired.body.ignored, true);
  assert.equal(await available(t), 0);
  assert.deepEqual(
    (await entries(t.orgId)).map((e) => [e.currency, e.amount]),
    [['tokens', 100_000]],
  );
});

test("a session credits only the org that bought it: metadata naming another org, or another org's customer, credits no one", async () => {
  const a = await app.tenant('PackOrgA');
  const b = await app.tenant('PackOrgB');
  const { res, sent } = await checkoutPack(a, 'credits_100');
  const { sent: sentB } = await checkoutPack(b, 'credits_100');
  assert.notEqual(sentB.customer, sent.customer);
  const toB = { ...sent.metadata, org_id: b.orgId };

  const attempts: [string, Record<string, unknown>][] = [
    ["A's session with metadata naming B", { metadata: toB }],
    ["A's session naming B twice, paid by A's customer", { metadata: toB, client_reference_id: b.orgId }],
    ["A's session naming B, with no client reference", { metadata: toB, client_reference_id: null }],
    ["A's session with B's customer", { customer: sentB.customer }],
    ['a session with no customer', { customer: null }],
  ];
  for (const [what, change] of attempts) {
    const hook = await deliver(app, stripeEvent('checkout.session.completed', session(res.id, sent, change)));
    assert.equal(hook.status, 200, `${what}: ${JSON.stringify(hook.body)}`);
    assert.equal(hook.body.ignored, true, what);
  }
  assert.equal(await available(a), 0);
  assert.equal(await available(b), 0);
  assert.equal((await paidEvents(b.orgId)).length, 0);

  // The genuine event credits A, and only A.
  const genuine = await deliver(app, stripeEvent('checkout.session.completed', session(res.id, sent)));
  assert.equal(genuine.body.ignored, false, JSON.stringify(genuine.body));
  assert.equal(await available(a), 100);
  assert.equal(await available(b), 0);
  assert.deepEqual(await entries(b.orgId), []);
});

test("a pack with a Stripe price is sold at that price; a pack removed after the sale is still credited as sold", async () => {
  const t = await app.tenant('PackPriced');
  const admin = { key: app.admin.sessionToken };
  const upsert = await app.request('PUT', '/api/v1/billing/packs/credits_750', {
    ...admin,
    body: { name: '750 credits', currency: 'credits', amount: 750, price_cents: 6000, stripe_price_id: 'price_pack_750' },
  });
  assert.ok(upsert.status === 200 || upsert.status === 201, JSON.stringify(upsert.body));
  const { res, sent } = await checkoutPack(t, 'credits_750');
  assert.deepEqual(sent.line_items, [{ price: 'price_pack_750', quantity: '1' }]);
  assert.deepEqual(sent.metadata, { org_id: t.orgId, pack_id: 'credits_750', currency: 'credits', amount: '750' });

  assert.equal((await app.request('DELETE', '/api/v1/billing/packs/credits_750', admin)).status, 200);
  const gone = await app.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { pack_id: 'credits_750' } });
  assertEnvelope(gone, 404, 'not_found', 'a pack no longer sold');
  const hook = await deliver(app, stripeEvent('checkout.session.completed', session(res.id, sent, { amount_total: 6000 })));
  assert.equal(hook.body.ignored, false, JSON.stringify(hook.body));
  assert.equal(await available(t), 750);
  await assertLedgerSound(t.orgId);
});

test('bad input: tier and pack_id both or neither → 400 naming the field; unknown or unpriced pack → 404/422; Stripe is not called', async () => {
  const t = await app.tenant('PackBad');
  const before = fake.requests.length;
  const post = (body: unknown) => app.request('POST', '/api/v1/billing/checkout', { key: t.key, body });

  const both = await post({ tier: 'pro', pack_id: 'credits_100' });
  assertEnvelope(both, 400, 'invalid_request', 'both');
  assert.deepEqual(
    both.body.details.map((d: { field: string }) => d.field),
    ['pack_id'],
  );
  assert.match(both.body.message, /pack_id: give either tier or pack_id, not both/);
  const neither = await post({ success_url: 'https://app.example.com/' });
  assertEnvelope(neither, 400, 'invalid_request', 'neither');
  assert.deepEqual(
    neither.body.details.map((d: { field: string }) => d.field),
    ['tier'],
  );
  for (const body of [{ pack_id: '' }, { pack_id: 7 }, { pack_id: 'x'.repeat(64) }, { pack_id: 'credits_100', cancel_url: 'javascript:alert(1)' }]) {
    const res = await post(body);
    assertEnvelope(res, 400, 'invalid_request', JSON.stringify(body));
  }
  assertEnvelope(await post({ pack_id: 'credits_9' }), 404, 'not_found', 'unknown pack');
  // The contract says the same: one of the two, not both.
  const doc = (await app.request('GET', '/api/openapi.json')).body;
  const schema = doc.paths['/api/v1/billing/checkout'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(schema.oneOf, [{ required: ['tier'] }, { required: ['pack_id'] }]);
  const admin = { key: app.admin.sessionToken };
  const free = await app.request('PUT', '/api/v1/billing/packs/credits_free', { ...admin, body: { currency: 'credits', amount: 5, price_cents: 0 } });
  assert.ok(free.status < 300, JSON.stringify(free.body));
  const unpriced = await post({ pack_id: 'credits_free' });
  assertEnvelope(unpriced, 422, 'unprocessable', 'a pack without a price');
  assert.equal(fake.requests.length, before, 'Stripe was not called');
  assert.equal(await available(t), 0);
});

test('without Stripe (the manual provider) a pack checkout answers 422 with how an admin grants credits', async () => {
  const t = await manual.tenant('PackManual');
  const res = await manual.request('POST', '/api/v1/billing/checkout', { key: t.key, body: { pack_id: 'credits_100' } });
  assertEnvelope(res, 422, 'unprocessable', 'manual');
  assert.match(res.body.message, /not configured.*opsbase billing grant/s);
  assert.equal((await manual.request('GET', '/api/v1/wallet', { key: t.key })).body.funding, 'manual');
});
