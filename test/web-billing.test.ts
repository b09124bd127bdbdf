// Buying a pack from the dashboard in a real Chromium against a real server whose Stripe is the local fake: the Top up
// card lists the packs, Buy starts billing.checkout and goes to Stripe's page (answered here by the test: the fake's
// URLs are not a real host), back on /billing?checkout=success the note shows and the balance rises without a reload
// when the signed webhook credits the pack; the billing portal stays; without Stripe the card says how credits are
// granted and offers nothing to buy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signIn } from './helpers/browser.ts';
import { type FakeStripe, startFakeStripe } from './helpers/fake-stripe.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { newWebhookSecret, stripeDeliverer, stripeEvent } from './helpers/stripe-webhook.ts';

const skip = SKIP_BROWSER;
const WHSEC = newWebhookSecret();
const deliver = stripeDeliverer(WHSEC);
let fake: FakeStripe;
let app: TestApp;
let manual: TestApp;
let browser: Browser;

before(async () => {
  if (skip) return;
  fake = await startFakeStripe();
  [app, manual, browser] = await Promise.all([
    startTestApp({ env: { STRIPE_SECRET_KEY: fake.secretKey, STRIPE_WEBHOOK_SECRET: WHSEC, OPSBASE_STRIPE_API_BASE: fake.url } }),
    startTestApp({ env: { STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '' } }),
    launch(),
  ]);
});
after(async () => {
  await browser?.close();
  await Promise.all([app?.close(), manual?.close()]);
  await fake?.close();
});

/** A page signed in as the instance's first user (owner of their org) on `target`, at /billing. */
async function signedIn(target: TestApp): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: target.url, viewport: { width: 1400, height: 1000 } });
  // Stripe's hosted pages, as the fake names them: answered here, so the browser "arrives at Stripe" offline.
  await ctx.route(/^https:\/\/(checkout|billing)\.stripe\.test\//, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>Stripe</title><h1>Fake Stripe page</h1>' }),
  );
  const page = await ctx.newPage();
  await signIn(page, target.admin, '/billing');
  await settled(page);
  return page;
}

const balanceIs = (page: Page, value: number) =>
  page.waitForFunction(
    (v) => Number((globalThis as any).document.querySelector('[data-testid="credits"] div.text-2xl')?.textContent?.replace(/\D/g, '')) === v,
    value,
  );

test('Buy starts a Stripe checkout for the pack and goes to its page; back from it, the credits arrive without a reload', { skip }, async () => {
  // A pack with a name of its own (the defaults are named by what they add), and one with no price: not for sale.
  const admin = { key: app.admin.sessionToken };
  const named = { name: 'Starter', currency: 'credits', amount: 250, price_cents: 2500 };
  assert.ok((await app.request('PUT', '/api/v1/billing/packs/starter', { ...admin, body: named })).status < 300);
  const free = { name: 'Sample', currency: 'credits', amount: 5, price_cents: 0 };
  assert.ok((await app.request('PUT', '/api/v1/billing/packs/sample', { ...admin, body: free })).status < 300);
  const page = await signedIn(app);
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Top up' }) });
  const packs = card.getByRole('table', { name: 'Packs for sale' });
  const row = packs.getByRole('row', { name: /500 credits/ });
  await row.waitFor();
  assert.match(await row.innerText(), /^500 credits\s+\$45\.00\s+Buy$/);
  assert.match(await packs.getByRole('row', { name: /^100,000 tokens/ }).innerText(), /^100,000 tokens\s+\$10\.00\s+Buy$/);
  assert.match(await packs.getByRole('row', { name: /Starter/ }).innerText(), /^Starter\s+adds 250 credits\s+\$25\.00\s+Buy$/);
  assert.equal(await packs.getByRole('row', { name: /Sample/ }).count(), 0, 'a pack without a price is not for sale');
  assert.equal(await packs.getByRole('button', { name: /^Buy / }).count(), 6);
  await balanceIs(page, 0);

  const started = page.waitForResponse((r) => r.url().endsWith('/api/v1/billing/checkout') && r.request().method() === 'POST');
  await card.getByRole('button', { name: 'Buy 500 credits' }).click();
  const res = await started;
  assert.equal(res.status(), 200);
  assert.deepEqual(res.request().postDataJSON(), {
    pack_id: 'credits_500',
    success_url: `${app.url}/billing?checkout=success`,
    cancel_url: `${app.url}/billing?checkout=cancelled`,
  });
  // The session's URL, as the fake Stripe made it for the session it recorded last.
  await page.waitForURL(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
  await page.getByRole('heading', { name: 'Fake Stripe page' }).waitFor();
  const sessionId = page.url().split('/').at(-1)!;
  const sent = fake.calls('/v1/checkout/sessions').at(-1)!.body;
  assert.equal(sent.mode, 'payment');
  assert.equal(sent.metadata.pack_id, 'credits_500');
  assert.equal(sent.metadata.org_id, app.admin.orgId);

  // Stripe sends the payer back before (or after) its webhook: the note says what happens, the stream does the rest.
  await page.goto('/billing?checkout=success');
  await settled(page);
  const note = page.getByRole('status').filter({ hasText: 'Stripe has your payment' });
  await note.waitFor();
  await balanceIs(page, 0);
  const hook = await deliver(
    app,
    stripeEvent('checkout.session.completed', {
      id: sessionId,
      object: 'checkout.session',
      mode: 'payment',
      customer: sent.customer,
      client_reference_id: sent.client_reference_id,
      metadata: sent.metadata,
      amount_total: 4500,
      currency: 'usd',
      payment_status: 'paid',
      status: 'complete',
    }),
  );
  assert.equal(hook.body.ignored, false, JSON.stringify(hook.body));
  await balanceIs(page, 500);
  await page.getByRole('table', { name: 'Ledger entries' }).getByRole('row', { name: /credits\s+purchase\s+500/ }).waitFor();
  assert.deepEqual(await axeProblems(page), []);
  await card.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await screenshot(page, 'billing-light');
  await note.getByRole('button', { name: 'Dismiss' }).click();
  await note.waitFor({ state: 'detached' });
  assert.doesNotMatch(page.url(), /checkout=/);

  // Cancelled on Stripe's page: said so, nothing charged.
  await page.goto('/billing?checkout=cancelled');
  await page.getByRole('status').filter({ hasText: 'Checkout cancelled: nothing was charged.' }).waitFor();

  // The billing portal stays, for cards and invoices.
  await page.getByRole('button', { name: 'Open billing portal' }).click();
  await page.waitForURL(/^https:\/\/billing\.stripe\.test\/p\/session\/bps_/);
  assert.equal(fake.calls('/v1/billing_portal/sessions').at(-1)!.body.customer, sent.customer);
  await page.context().close();
});

test('without Stripe the Top up card says how an admin grants credits, and offers nothing to buy', { skip }, async () => {
  const page = await signedIn(manual);
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Top up' }) });
  await card.getByText('This server takes no card payments (Stripe is not configured).').waitFor();
  assert.equal(await card.locator('pre').innerText(), `opsbase billing grant --org ${manual.admin.orgId} --credits 1000`);
  assert.equal(await card.getByRole('button', { name: /^Buy/ }).count(), 0);
  assert.equal(await card.getByRole('button', { name: 'Open billing portal' }).count(), 0);
  await page.context().close();
});
