// The dashboard in a real Chromium against a real server (API + worker, as `npm start` runs) on a fresh database:
// first account, org, keys, invites in a second browser, roles, credits and the ledger, webhooks, a live queue
// (submits, claims, completions), a password change, a generic operation page's field errors, the keyboard-only
// palette, and axe on every designed page in both themes.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startWorker, type Worker } from '../src/jobs/worker.ts';
import { operations } from '../src/operations.ts';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled } from './helpers/browser.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { PAID_COST, paidOp } from './helpers/paid-op.ts';

const skip = SKIP_BROWSER;
let app: TestApp;
let worker: Worker;
let browser: Browser;
let owner: BrowserContext;
let page: Page;
let apiKey = '';
const OWNER = { username: 'owner', email: 'owner@example.com', password: 'correct-horse-battery' };

before(async () => {
  if (skip) return;
  // No admin tenant: the instance starts empty, so the browser creates its first account.
  // Plus the tests' paid operation, until the registry has real ones: its generic page must ask before paying.
  app = await startTestApp({ admin: {} as Tenant, operations: [...operations, paidOp] });
  worker = await startWorker(app.app.services);
  browser = await launch();
  owner = await browser.newContext({ baseURL: app.url, viewport: { width: 1280, height: 860 } });
  await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
  page = await owner.newPage();
});
after(async () => {
  await browser?.close();
  await worker?.stop();
  await app?.close();
});

const field = (p: Page, label: string) => p.getByLabel(label, { exact: true });

test('the first account is created on the empty instance, then its org; the overview loads in under a second', { skip }, async () => {
  await page.goto('/');
  await page.waitForURL(/\/sign-in\?next=%2F/);
  await page.getByRole('heading', { name: 'Create the first account' }).waitFor();
  await field(page, 'Username').fill(OWNER.username);
  await field(page, 'Email').fill(OWNER.email);
  await field(page, 'Password').fill(OWNER.password);
  await page.getByLabel(/I accept the terms/).check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/welcome/);
  await field(page, 'Organization name').fill('Acme');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.locator('[data-ready="overview"]').waitFor();

  // In-page time from navigation start to balances and plan on screen (performance mark set by the page): the
  // first load after sign-up is cold (nothing cached, code compiled for the first time), the next ones warm.
  const samples: number[] = [];
  for (let i = 0; i < 4; i++) {
    if (i > 0) await page.goto('/');
    await page.locator('[data-ready="overview"]').waitFor();
    samples.push(Math.round(await page.evaluate(() => (globalThis as any).performance.getEntriesByName('overview-ready')[0].startTime)));
  }
  const warm = samples.slice(1).sort((a, b) => a - b);
  console.log(`# overview load: cold ${samples[0]} ms, warm ${samples.slice(1).join(' / ')} ms (median ${warm[1]} ms)`);
  // The best warm load is what the page costs: other work on a shared machine only ever adds to a sample.
  assert.ok(warm[0] < 1000, `overview took ${warm[0]} ms at best`);
  assert.match(await page.getByRole('button', { name: /^Organization: Acme/ }).innerText(), /Acme/);
});

test('a key is created, its secret shown once and copied, then listed masked', { skip }, async () => {
  await page.goto('/keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  await field(page, 'Name').fill('ci');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  const secret = await page.getByTestId('secret').inputValue();
  assert.match(secret, /^obk_live_/);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()), secret);
  await page.getByRole('button', { name: 'I have stored it' }).click();
  const row = page.getByRole('row', { name: /ci/ });
  await row.waitFor();
  const masked = await row.locator('code').innerText();
  assert.ok(masked.endsWith(secret.slice(-4)), `${masked} ends like the secret`);
  assert.ok(!(await page.content()).includes(secret), 'the secret is nowhere on the page after closing');
  apiKey = secret;
  // The key works: what the dashboard showed is the real thing.
  assert.equal((await app.request('GET', '/api/v1/whoami', { key: secret })).status, 200);
});

test('an expired session cookie is renewed from the refresh cookie without leaving the page', { skip }, async () => {
  const sessionCookie = async () => (await owner.cookies()).find((c) => c.name === 'opsbase_session');
  const before = (await sessionCookie())!.value;
  // Away from the dashboard first, so no request of the previous page renews the session in the meantime.
  await page.goto('about:blank');
  // What the browser holds once the 12-hour session cookie has expired: the refresh cookie only.
  await owner.clearCookies({ name: 'opsbase_session' });
  assert.equal(await sessionCookie(), undefined);
  await page.goto('/keys');
  await page.getByRole('row', { name: /ci/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/keys', 'still on the page: no detour through sign-in');
  // Only auth.refresh (or a sign-in, which did not happen) sets a new session cookie.
  const session = await sessionCookie();
  assert.ok(session && session.value !== before, 'a new session cookie came from the refresh');
  assert.ok(session.httpOnly, 'HttpOnly');
  assert.equal(session.sameSite, 'Lax');
});

test('an invite is accepted in a second browser by a new account, and the owner changes its role', { skip }, async () => {
  await page.goto('/members');
  await field(page, 'Email').fill('invitee@example.com');
  await page.getByRole('button', { name: 'Invite' }).click();
  const link = await page.getByTestId('secret').inputValue();
  assert.match(link, /\/accept-invite\?token=/);
  await page.getByText(/This server sends no email/).waitFor();
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByRole('cell', { name: 'invitee@example.com' }).waitFor();

  const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const guest = await other.newPage();
    await guest.goto(link);
    await guest.waitForURL(/\/sign-in\?next=/);
    await guest.getByRole('button', { name: 'Create one' }).click();
    await field(guest, 'Username').fill('invitee');
    await field(guest, 'Email').fill('invitee@example.com');
    await field(guest, 'Password').fill('invitee-password-1');
    await guest.getByLabel(/I accept the terms/).check();
    await guest.getByRole('button', { name: 'Create account' }).click();
    await guest.waitForURL(/\/accept-invite\?token=/);
    await guest.getByRole('button', { name: 'Accept invite' }).click();
    await guest.locator('[data-ready="overview"]').waitFor();
    assert.match(await guest.getByRole('button', { name: /^Organization:/ }).innerText(), /Acme/);
  } finally {
    await other.close();
  }

  await page.goto('/members');
  const role = page.getByLabel('Role of invitee');
  assert.equal(await role.inputValue(), 'member');
  const saved = page.waitForResponse((r) => r.url().includes('/api/v1/org/members/') && r.request().method() === 'PATCH');
  await role.selectOption('admin');
  assert.equal((await saved).status(), 200);
  await page.reload();
  assert.equal(await page.getByLabel('Role of invitee').inputValue(), 'admin');
});

test('the instance admin grants credits and tokens: the wallets and the 30-day chart change', { skip }, async () => {
  await page.goto('/billing');
  await settled(page);
  /** The first number of a stat block or chart caption. */
  const first = (testId: string, css: string) => page.getByTestId(testId).locator(css).first();
  const number = async (testId: string, css: string) => Number((await first(testId, css).innerText()).replace(/\D/g, ''));
  const becomes = (testId: string, css: string, value: number) =>
    page.waitForFunction(
      ([t, c, v]) => Number((globalThis as any).document.querySelector(`[data-testid="${t}"] ${c}`)?.textContent?.replace(/\D/g, '')) === v,
      [testId, css, value] as const,
    );
  const grant = async (currency: string, amount: number) => {
    await field(page, 'Currency').selectOption(currency);
    await field(page, 'Amount').fill(String(amount));
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    await page.getByText(/Granted\. New balance/).waitFor();
  };
  const credits = await number('credits', 'div.text-2xl');
  const creditsAdded = await number('credits-summary', 'span');
  await grant('credits', 500);
  await becomes('credits', 'div.text-2xl', credits + 500);
  await becomes('credits-summary', 'span', creditsAdded + 500);

  const tokens = await number('tokens', 'div.text-2xl');
  const added = await number('tokens-summary', 'span');
  await grant('tokens', 300);
  await becomes('tokens', 'div.text-2xl', tokens + 300);
  await becomes('tokens-summary', 'span', added + 300);
  assert.match(await page.getByRole('img', { name: /tokens added/ }).getAttribute('aria-label') ?? '', new RegExp(`${(added + 300).toLocaleString('en-US')} tokens added`));
});

test('the ledger lists the credits grant, and filters by wallet and day', { skip }, async () => {
  await page.goto('/billing');
  const ledger = page.getByRole('table', { name: 'Ledger entries' });
  // The credits wallet is shown first: the grant above, and nothing of the tokens.
  const grantRow = ledger.getByRole('row', { name: /credits\s+admin_grant\s+500/ });
  await grantRow.waitFor();
  assert.equal(await ledger.getByRole('row', { name: /tokens/ }).count(), 0);
  await field(page, 'Wallet').selectOption('tokens');
  await ledger.getByRole('row', { name: /tokens\s+admin_grant\s+300/ }).waitFor();
  assert.equal(await ledger.getByRole('row', { name: /credits/ }).count(), 0);
  await field(page, 'Wallet').selectOption('');
  await field(page, 'Entry type').selectOption('admin_grant');
  await grantRow.waitFor();
  // A day range that ends yesterday (UTC) holds none of today's entries.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await field(page, 'To').fill(yesterday);
  await page.getByText('Nothing here yet.').waitFor();
  await field(page, 'To').fill('');
  await grantRow.waitFor();
  await field(page, 'Entry type').selectOption('');
  await ledger.getByRole('row', { name: /tokens\s+admin_grant/ }).waitFor();
  await field(page, 'To').blur();
  await page.getByRole('heading', { name: 'Ledger' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await screenshot(page, 'billing-ledger-light');
});

test("a paid operation's page asks first, showing the cost; cancelling charges nothing, confirming charges it", { skip }, async () => {
  const available = async () => (await app.request('GET', '/api/v1/wallet', { key: apiKey })).body.available as number;
  const start = await available();
  await page.goto('/ops/test.paid');
  await page.getByRole('button', { name: `Run (${PAID_COST} credits)` }).click();
  const dialog = page.getByRole('dialog', { name: `This costs ${PAID_COST} credits` });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await available(), start, 'cancelled: nothing reserved or charged');
  await page.getByRole('button', { name: `Run (${PAID_COST} credits)` }).click();
  await page.getByRole('button', { name: `Pay ${PAID_COST} credits` }).click();
  await page.getByRole('heading', { name: 'Result' }).waitFor();
  assert.match(await page.locator('dl').innerText(), /activity_id/);
  assert.equal(await available(), start - PAID_COST);
});

test('a webhook delivery is seen with its response and latency, and replayed', { skip }, async () => {
  let received = 0;
  const rx = createServer((req, res) => {
    req.resume();
    received++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
  try {
    await page.goto('/webhooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await field(page, 'URL').fill(url);
    await page.getByRole('checkbox', { name: 'key.created' }).check();
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    assert.match(await page.getByTestId('secret').inputValue(), /^whsec_/);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('link', { name: url }).click();
    await page.getByRole('button', { name: 'Send test event' }).click();
    for (let i = 0; i < 100 && received < 1; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, 1, 'the worker delivered the test event');
    const row = page.getByRole('row', { name: /succeeded/ });
    await page.reload();
    await row.waitFor();
    assert.match(await row.innerText(), /200/);
    assert.match(await row.innerText(), /\d+ ms/);
    await row.getByRole('button', { name: /^Replay/ }).click();
    for (let i = 0; i < 100 && received < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, 2, 'the replay was delivered again');
  } finally {
    rx.close();
  }
});

test('a submitted job appears on the queue page without a reload', { skip }, async () => {
  await page.goto('/queue');
  await settled(page);
  await page.evaluate(() => ((globalThis as any).marker = 42));
  const job = await app.request('POST', '/api/v1/queue/jobs', { key: apiKey, body: { queue: 'live-emails', task_type: 'send_digest' } });
  assert.equal(job.status, 201);
  await page.getByRole('link', { name: job.body.id }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => (globalThis as any).marker), 42, 'same page: no reload happened');
});

test("a job's claim and completion by a worker update the queue page without a reload", { skip }, async () => {
  const job = await app.request('POST', '/api/v1/queue/jobs', { key: apiKey, body: { queue: 'live-done', task_type: 'render' } });
  assert.equal(job.status, 201);
  await page.goto('/queue');
  const row = page.getByRole('row', { name: new RegExp(job.body.id) });
  await row.getByText('waiting', { exact: true }).waitFor();
  await page.evaluate(() => ((globalThis as any).marker = 43));
  const claim = await app.request('POST', '/api/v1/queue/claim', { key: apiKey, body: { queue: 'live-done', worker_id: 'browser-test' } });
  assert.equal(claim.body.data[0].id, job.body.id);
  await row.getByText('active', { exact: true }).waitFor({ timeout: 5000 });
  const done = await app.request('POST', `/api/v1/queue/jobs/${job.body.id}/complete`, { key: apiKey, body: { worker_id: 'browser-test', result: {} } });
  assert.equal(done.status, 200);
  await row.getByText('completed', { exact: true }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => (globalThis as any).marker), 43, 'same page: no reload happened');
});

test("a generic operation page shows the server's validation message beside the field", { skip }, async () => {
  await page.goto('/ops/orgs.create');
  await page.getByRole('textbox', { name: /^name/ }).fill('Second org');
  const slug = page.getByRole('textbox', { name: /^slug/ });
  await slug.fill('Not A Slug!');
  await page.getByRole('button', { name: 'Submit' }).click();
  await page.locator('.field-error').first().waitFor();
  assert.equal(await slug.getAttribute('aria-invalid'), 'true');
  const describedBy = (await slug.getAttribute('aria-describedby'))!.split(' ');
  const messages = await Promise.all(describedBy.map((id) => page.locator(`[id="${id}"]`).innerText()));
  assert.ok(
    messages.some((m) => m.includes('lowercase letters')),
    `the slug field carries the server's message: ${messages}`,
  );
  assert.equal(await page.locator('.field-error').count(), 1, 'only the slug is marked');
});

test('keyboard only: the palette opens a page, then runs a read operation', { skip }, async () => {
  await page.goto('/');
  await settled(page);
  await page.keyboard.press('Control+k');
  await page.keyboard.type('API keys');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/keys$/);
  await page.keyboard.press('Control+k');
  await page.keyboard.type('run whoami');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ops\/whoami\?run=1/);
  await page.getByRole('heading', { name: 'Result' }).waitFor();
  assert.match(await page.locator('dl').innerText(), /Acme/);
});

test('the activity log filters, and loads more as it scrolls', { skip }, async () => {
  for (let i = 0; i < 60; i++) {
    const res = await app.request('POST', '/api/v1/activity-log', { key: apiKey, body: { action: 'scroll.probe', entity_type: 'probe', entity_id: `p${i}` } });
    assert.equal(res.status, 201);
  }
  await page.goto('/activity');
  await settled(page);
  const filtered = page.waitForResponse((r) => r.url().includes('action=scroll.probe'));
  await field(page, 'Action').fill('scroll.probe');
  await filtered;
  const rows = page.getByRole('row', { name: /scroll\.probe/ });
  await rows.first().waitFor();
  assert.equal(await rows.count(), 50, 'the first page: one request, 50 rows');
  await page.getByRole('table').evaluate((el) => el.scrollIntoView({ block: 'end' }));
  await page.mouse.wheel(0, 5000);
  await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('tbody tr').length === 60);
  assert.equal(await rows.count(), 60);
});

test('the password is changed in Settings; signing in then takes the new one, not the old', { skip }, async () => {
  const next = 'a-brand-new-horse-battery';
  await page.goto('/settings');
  await field(page, 'Current password').fill('not-the-password');
  await field(page, 'New password').fill(next);
  await field(page, 'New password again').fill(next);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('wrong password').waitFor();
  await field(page, 'Current password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('status').getByText(/Password changed/).waitFor();
  const old = OWNER.password;
  OWNER.password = next;
  // This session stays: the page still reads.
  await page.goto('/keys');
  await page.getByRole('row', { name: /ci/ }).waitFor();
  const ctx = await browser.newContext({ baseURL: app.url });
  try {
    const p = await ctx.newPage();
    await p.goto('/sign-in');
    await field(p, 'Email').fill(OWNER.email);
    await field(p, 'Password').fill(old);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('alert').waitFor();
    await field(p, 'Password').fill(next);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('[data-ready="overview"]').waitFor();
  } finally {
    await ctx.close();
  }
});

test('signed out, a page sends you to sign in and brings you back', { skip }, async () => {
  const ctx = await browser.newContext({ baseURL: app.url });
  try {
    const p = await ctx.newPage();
    await p.goto('/billing');
    await p.waitForURL(/\/sign-in\?next=%2Fbilling/);
    await field(p, 'Email').fill(OWNER.email);
    await field(p, 'Password').fill('wrong-password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('alert').waitFor();
    await field(p, 'Password').fill(OWNER.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL(/\/billing$/);
    await p.getByRole('heading', { name: 'Billing' }).waitFor();
  } finally {
    await ctx.close();
  }
});

test('the org switcher creates a second org and switches between them', { skip }, async () => {
  await page.goto('/');
  await page.getByRole('button', { name: /^Organization: Acme/ }).click();
  await page.getByRole('menuitem', { name: 'New organization…' }).click();
  await field(page, 'Organization name').fill('Beta');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.getByRole('button', { name: /^Organization: Beta/ }).waitFor();
  await page.goto('/keys');
  await page.getByText('Nothing here yet.').waitFor();
  await page.getByRole('button', { name: /^Organization: Beta/ }).click();
  await page.getByRole('menuitem', { name: /^Acme/ }).click();
  await page.getByRole('button', { name: /^Organization: Acme/ }).waitFor();
  await page.getByRole('row', { name: /ci/ }).waitFor();
});

const AREAS = [
  { path: '/', label: 'Overview' },
  { path: '/keys', label: 'API keys' },
  { path: '/members', label: 'Members' },
  { path: '/billing', label: 'Billing' },
  { path: '/webhooks', label: 'Webhooks' },
  { path: '/queue', label: 'Queue & workers' },
  { path: '/notifications', label: 'Notifications' },
  { path: '/activity', label: 'Activity log' },
  { path: '/settings', label: 'Settings' },
  { path: '/ops', label: 'All operations' },
];

/** Detail pages of things made above, and two generic pages: a read with its result, a list with its CLI columns. */
async function detailPaths(): Promise<string[]> {
  await page.goto('/keys');
  const keyPath = await page.getByRole('link', { name: 'ci' }).getAttribute('href');
  await page.goto('/webhooks');
  const hookPath = await page.locator('a[href^="/webhooks/"]').first().getAttribute('href');
  await page.goto('/queue');
  const jobPath = await page.locator('a[href^="/queue/jobs/"]').first().getAttribute('href');
  return [keyPath!, hookPath!, jobPath!, '/ops/whoami', '/ops/events.list'];
}

/** axe on every designed page (and the sign-in page, signed out) in one theme; the violations found, as text. */
async function auditTheme(theme: 'light' | 'dark'): Promise<string[]> {
  const problems: string[] = [];
  // The dark theme changes colours only: there, contrast is what can newly fail.
  const rules = theme === 'dark' ? ['color-contrast'] : undefined;
  const check = async (p: Page, path: string) => {
    const started = Date.now();
    await settled(p);
    for (const x of await axeProblems(p, rules)) problems.push(`${theme} ${path}: ${x}`);
    const name = path === '/' ? 'overview' : path.slice(1).replace(/\/(key|whk|job)_[^/]+$/, '-detail').replaceAll('/', '-');
    // Every page in the light theme; a few in dark, enough to show it (the docs need no more weight). Billing in
    // light is taken by test/web-billing.test.ts, with Stripe configured (its packs for sale).
    const shot = theme === 'light' ? name !== 'billing' : ['/', '/billing', '/queue', '/sign-in'].includes(path);
    if (shot) await screenshot(p, `${name}-${theme}`);
    if (process.env.OPSBASE_TEST_TIMING) console.log(`# axe ${theme} ${path}: ${Date.now() - started} ms`);
  };
  const details = await detailPaths();
  await page.goto('/');
  const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
  // Sidebar pages by the sidebar (client-side, as a user moves), detail pages by their address.
  for (const item of AREAS) {
    await page.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name: new RegExp(`^${item.label}`) }).click();
    await page.waitForURL((u) => u.pathname === item.path);
    await check(page, item.path);
  }
  for (const path of details) {
    await page.goto(path);
    await check(page, path);
  }
  const signedOut = await browser.newContext({ baseURL: app.url, colorScheme: theme });
  try {
    const p = await signedOut.newPage();
    await p.goto('/sign-in');
    await p.getByRole('heading', { name: 'Sign in' }).waitFor();
    await check(p, '/sign-in');
  } finally {
    await signedOut.close();
  }
  return problems;
}

test('no serious or critical accessibility violations on the designed pages (light theme, every axe rule)', { skip }, async () => {
  assert.deepEqual(await auditTheme('light'), []);
});

test('no colour contrast violations on the designed pages in the dark theme', { skip }, async () => {
  assert.deepEqual(await auditTheme('dark'), []);
});

test('sign out ends the session: the cookie is gone and pages ask to sign in again', { skip }, async () => {
  await page.goto('/');
  await page.getByRole('button', { name: `Account: ${OWNER.email}` }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in/);
  assert.equal((await owner.cookies()).find((c) => c.name === 'opsbase_session'), undefined);
  await page.goto('/keys');
  await page.waitForURL(/\/sign-in\?next=%2Fkeys/);
});
