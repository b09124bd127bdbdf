// The Backups page in a real Chromium, as the instance admin, with a worker running: "Back up now" queues a backup
// that turns to succeeded on the page, its download link gives the very file, delete asks first; the Settings page's
// "Export org" link downloads the org's archive; a member who is no instance admin has no Backups in the sidebar; axe
// in both themes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signIn } from './helpers/browser.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

const skip = SKIP_BROWSER;
const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-web-backups-'));
let app: TestApp;
let browser: Browser;
let page: Page;
let worker: Worker;

before(async () => {
  if (skip) return;
  app = await startTestApp({ env: { OPSBASE_DATA_DIR: dataDir, OPSBASE_BACKUP_CRON: 'off' } });
  worker = await startWorker(app.app.services, { pollMs: 100 });
  browser = await launch();
  const ctx = await browser.newContext({ baseURL: app.url, viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page = await ctx.newPage();
  await signIn(page, app.admin, '/backups');
});
after(async () => {
  await worker?.stop();
  await browser?.close();
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('Back up now: the backup succeeds on the page, and its download link gives the file', { skip }, async () => {
  await settled(page);
  await page.getByRole('button', { name: 'Back up now' }).click();
  const table = page.getByRole('table', { name: 'Backups, newest first' });
  await table.getByText('succeeded').waitFor({ timeout: 30_000 });
  const list = await app.request('GET', '/api/v1/backups', { key: app.admin.sessionToken });
  const b = list.body.data[0];
  assert.equal(b.status, 'succeeded');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `Download backup ${b.id}` }).click()]);
  assert.equal(download.suggestedFilename(), b.file_name);
  const saved = await download.path();
  assert.deepEqual(readFileSync(saved), readFileSync(join(dataDir, 'backups', b.file_name)), 'the link downloads the file itself');
  await page.getByText(/succeeded in \d+ ms/).first().waitFor();
  await screenshot(page, 'backups-light');
});

test('delete asks first, then the backup is gone', { skip }, async () => {
  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByRole('table', { name: 'Backups, newest first' }).getByText('succeeded').nth(1).waitFor({ timeout: 30_000 });
  const before = (await app.request('GET', '/api/v1/backups', { key: app.admin.sessionToken })).body.data;
  assert.equal(before.length, 2);
  const victim = before[1];
  await page.getByRole('button', { name: `Delete backup ${victim.id}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete this backup?' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: `Delete backup ${victim.id}` }).waitFor({ state: 'detached' });
  assert.equal((await app.request('GET', `/api/v1/backups/${victim.id}`, { key: app.admin.sessionToken })).status, 404);
});

test('Settings → Export org downloads the org’s archive', { skip }, async () => {
  await page.goto('/settings');
  await settled(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export org' }).click()]);
  const text = gunzipSync(readFileSync(await download.path())).toString('utf8');
  const header = JSON.parse(text.split('\n')[0]).header;
  assert.equal(header.kind, 'org');
  assert.equal(header.org_id, app.admin.orgId);
});

test('a member who is no instance admin has no Backups in the sidebar, and the page says why', { skip }, async () => {
  const t = await app.tenant('Member');
  const ctx = await browser.newContext({ baseURL: app.url, viewport: { width: 1400, height: 900 } });
  const p = await ctx.newPage();
  await signIn(p, t, '/');
  await settled(p);
  assert.equal(await p.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name: 'Backups' }).count(), 0);
  await p.goto('/backups');
  await p.getByText('only instance admins see them').waitFor();
  await ctx.close();
});

async function audit(theme: 'light' | 'dark'): Promise<string[]> {
  await page.goto('/backups');
  await settled(page);
  const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
  assert.equal(await page.evaluate(() => (globalThis as any).document.documentElement.classList.contains('dark')), theme === 'dark', `the ${theme} theme is on`);
  const problems: string[] = [];
  for (const path of ['/backups', '/settings']) {
    await page.goto(path);
    await settled(page);
    for (const p of await axeProblems(page, theme === 'dark' ? ['color-contrast'] : undefined)) problems.push(`${theme} ${path}: ${p}`);
  }
  await page.goto('/backups');
  await settled(page);
  if (theme === 'dark') await screenshot(page, 'backups-dark');
  return problems;
}

test('no serious or critical accessibility violations on the Backups and Settings pages (light, every rule)', { skip }, async () => {
  assert.deepEqual(await audit('light'), []);
});

test('no colour contrast violations on the Backups and Settings pages in the dark theme', { skip }, async () => {
  assert.deepEqual(await audit('dark'), []);
});
