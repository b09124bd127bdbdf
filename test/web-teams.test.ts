// The teams, vault and integrations pages in a real Chromium against a real server: a team created, a member added
// and removed, someone outside the org invited; a credential saved (its value never on the page afterwards) and
// revealed (the read logged); Stripe configured against a local fake and its connection tested; axe on each page in
// both themes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { closeDb, register } from './helpers/db.ts';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signedInPage } from './helpers/browser.ts';
import { startFakeStripe, type FakeStripe } from './helpers/fake-stripe.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

const skip = SKIP_BROWSER;
let app: TestApp;
let stripe: FakeStripe;
let browser: Browser;
let page: Page;
const VALUE = 'sk_live_never_on_the_page_4242';

before(async () => {
  if (skip) return;
  app = await startTestApp();
  stripe = await startFakeStripe();
  browser = await launch();
  page = await signedInPage(browser, app, '/teams');
});
after(async () => {
  await browser?.close();
  await stripe?.close();
  if (app) await closeDb(app);
  await app?.close();
});

const api = (method: string, path: string, body?: unknown) => app.request(method, `/api/v1${path}`, { key: app.admin.key, body });

test('teams: create a team, add an org member, invite an outsider, remove the member', { skip }, async () => {
  const bea = await register(app);
  assert.equal((await api('POST', '/org/members', { user_id: bea.id, role: 'member' })).status, 201);
  await page.goto('/teams');
  await settled(page);
  await page.getByRole('button', { name: 'New team' }).click();
  const dialog = page.getByRole('dialog', { name: 'New team' });
  await dialog.getByLabel('Name').fill('Support');
  await dialog.getByLabel('Description').fill('First line of help');
  await dialog.getByRole('button', { name: 'Create team' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const members = page.getByRole('table', { name: 'Members of Support' });
  await members.getByText(app.admin.email).waitFor();

  await page.getByLabel('Add a member of the org').selectOption({ label: `${bea.username} (${bea.email})` });
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await members.getByText(bea.email).waitFor();

  const outsider = `guest-${Date.now()}@example.com`;
  await page.getByLabel('Invite by email').fill(outsider);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  await page.getByText(`${outsider} was invited to the org`).waitFor();
  await page.getByRole('table', { name: 'Pending invites to Support' }).getByText(outsider).waitFor();
  await screenshot(page, 'teams-light');

  await page.getByRole('button', { name: `Remove ${bea.username} from Support` }).click();
  await members.getByText(bea.email).waitFor({ state: 'hidden' });
  const teams = (await api('GET', '/teams')).body.data;
  assert.deepEqual(
    teams.map((t: { name: string; member_count: number }) => [t.name, t.member_count]),
    [['Support', 1]],
  );
});

test('vault: a value saved is never shown again; revealing it reads it and logs the read', { skip }, async () => {
  await page.goto('/vault');
  await settled(page);
  await page.getByRole('button', { name: 'Add credential' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a credential' });
  await dialog.getByLabel('Name').fill('STRIPE_KEY');
  await dialog.getByLabel('Value').fill(VALUE);
  await dialog.getByLabel('Description').fill('Live key');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('table', { name: 'Credentials' }).getByText('STRIPE_KEY').waitFor();
  assert.ok(!(await page.content()).includes(VALUE), 'the value is not on the page after saving');
  await screenshot(page, 'vault-light');

  await page.getByRole('button', { name: 'Reveal STRIPE_KEY' }).click();
  const reveal = page.getByRole('dialog', { name: 'Reveal STRIPE_KEY' });
  assert.ok(!(await page.content()).includes(VALUE), 'not before asking');
  await reveal.getByRole('button', { name: 'Reveal value' }).click();
  assert.equal(await reveal.getByTestId('revealed').inputValue(), VALUE);
  await reveal.getByRole('button', { name: 'Close' }).click();
  await reveal.waitFor({ state: 'hidden' });
  assert.ok(!(await page.content()).includes(VALUE), 'gone once closed');
  const acts = (await api('GET', '/activity-log?entity_type=credential')).body.data.map((a: { action: string }) => a.action);
  assert.ok(acts.includes('credential.read'), acts.join());
});

test('integrations: configure Stripe against a local fake and test the connection', { skip }, async () => {
  await page.goto('/integrations');
  await settled(page);
  const card = page.getByRole('region', { name: 'Stripe' });
  await card.getByText('Not configured').waitFor();
  await card.getByRole('button', { name: 'Configure Stripe' }).click();
  const dialog = page.getByRole('dialog', { name: 'Configure Stripe' });
  await dialog.getByLabel('Secret key (sk_…) (required)').fill(stripe.secretKey);
  await dialog.getByLabel('API base URL').fill(stripe.url);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await card.getByText('Configured, untested').waitFor();
  await card.getByRole('button', { name: 'Test connection to Stripe' }).click();
  await card.getByText(/Connected: Stripe key works/).waitFor();
  await card.getByText('Connected', { exact: true }).waitFor();
  assert.ok(!(await page.content()).includes(stripe.secretKey), 'the secret is not on the page');
  await screenshot(page, 'integrations-light');
  assert.equal((await api('GET', '/integrations/stripe/status')).body.status, 'ok');
});

const PAGES = ['/teams', '/vault', '/integrations'];

async function audit(theme: 'light' | 'dark'): Promise<string[]> {
  await page.goto('/teams');
  const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
  const problems: string[] = [];
  for (const path of PAGES) {
    await page.goto(path);
    await settled(page);
    if (path === '/teams') {
      await page.getByRole('button', { name: 'Support' }).click();
      await page.getByRole('table', { name: 'Members of Support' }).waitFor();
    }
    for (const p of await axeProblems(page, theme === 'dark' ? ['color-contrast'] : undefined)) problems.push(`${theme} ${path}: ${p}`);
    if (theme === 'dark') await screenshot(page, `${path.slice(1)}-dark`);
  }
  return problems;
}

test('no serious or critical accessibility violations on the teams, vault and integrations pages (light, every rule)', { skip }, async () => {
  assert.deepEqual(await audit('light'), []);
});

test('no colour contrast violations on those pages in the dark theme', { skip }, async () => {
  assert.deepEqual(await audit('dark'), []);
});
