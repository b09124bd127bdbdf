// The Files and Records pages in a real Chromium against a real server (with a worker, so text is extracted): a text
// file uploaded through the file input shows in the list, its extracted text in the preview, found by the search box,
// downloaded with the same bytes; an image previewed; a record's detail and revisions; axe in both themes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signedInPage } from './helpers/browser.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

const skip = SKIP_BROWSER;
let app: TestApp;
let browser: Browser;
let page: Page;
let worker: Worker;
const dir = mkdtempSync(join(tmpdir(), 'opsbase-web-files-'));
const NOTE = 'Refund policy: customers of the aardwolf plan get 30 days.\nSee https://example.com/refunds/RF-2291 for details.';

// A 2×2 PNG (red, green / blue, white), small enough to write out here.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC',
  'base64',
);

before(async () => {
  if (skip) return;
  app = await startTestApp();
  worker = await startWorker(app.app.services, { pollMs: 200 });
  browser = await launch();
  page = await signedInPage(browser, app, '/files', { acceptDownloads: true });
});
after(async () => {
  await worker?.stop();
  await browser?.close();
  await app?.close();
});

const api = (method: string, path: string, body?: unknown) => app.request(method, `/api/v1${path}`, { key: app.admin.key, body });

test('a text file is uploaded with the file input, listed, its text previewed, found by search, downloaded unchanged', { skip }, async () => {
  const local = join(dir, 'refund-policy.txt');
  writeFileSync(local, NOTE);
  await page.goto('/files');
  await settled(page);
  await page.getByLabel('File', { exact: true }).setInputFiles(local);
  await page.getByLabel('Path (optional)').fill('policies/refund-policy.txt');
  await page.getByLabel('Category').fill('policy');
  await page.getByRole('button', { name: 'Upload' }).click();

  const table = page.getByRole('table', { name: 'Files' });
  await table.getByRole('button', { name: 'refund-policy.txt' }).waitFor();
  assert.match(await table.innerText(), /policies\/refund-policy\.txt/);
  // The uploaded file opens in the preview; its text arrives once the worker has extracted it.
  const preview = page.getByRole('region', { name: 'refund-policy.txt' }).or(page.locator('section', { has: page.getByRole('heading', { name: 'refund-policy.txt' }) }));
  await preview.getByText('Extracted text').waitFor();
  assert.match(await preview.innerText(), /aardwolf plan get 30 days/);
  assert.match(await table.innerText(), /text extracted/);
  const [file] = (await api('GET', '/files?path_prefix=policies/')).body.data;
  assert.equal(file.category, 'policy');

  await page.getByLabel('Search names and content').fill('aardwolf');
  await table.getByRole('button', { name: 'refund-policy.txt' }).waitFor();
  await page.getByLabel('Search names and content').fill('RF-2291');
  await table.getByRole('button', { name: 'refund-policy.txt' }).waitFor();
  await page.getByLabel('Search names and content').fill('nothingmatchesthis');
  await table.getByText('Nothing here yet.').waitFor();
  await page.getByLabel('Search names and content').fill('');
  await table.getByRole('button', { name: 'refund-policy.txt' }).waitFor();

  const downloading = page.waitForEvent('download');
  await preview.getByRole('button', { name: 'Download' }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), 'refund-policy.txt');
  const saved = join(dir, 'downloaded.txt');
  await download.saveAs(saved);
  assert.equal(readFileSync(saved, 'utf8'), NOTE);
  await screenshot(page, 'files-light');
});

test('an image is previewed as an image', { skip }, async () => {
  const local = join(dir, 'logo.png');
  writeFileSync(local, PNG);
  await page.goto('/files');
  await settled(page);
  await page.getByLabel('File', { exact: true }).setInputFiles(local);
  await page.getByRole('button', { name: 'Upload' }).click();
  const img = page.getByRole('img', { name: 'logo.png' });
  await img.waitFor();
  await page.waitForFunction(() => {
    const el = (globalThis as any).document.querySelector('img[alt="logo.png"]');
    return el?.complete && el.naturalWidth === 2;
  });
});

test('records: filtered list, a record with its data and revisions', { skip }, async () => {
  const body = { source_product: 'crm', record_type: 'deal', source_ref: 'deal_1', title: 'Acme — $42k', summary_text: 'Renewal negotiation.', meta: { stage: 'negotiation' } };
  assert.equal((await api('POST', '/records', body)).status, 201);
  assert.equal((await api('POST', '/records', { ...body, title: 'Acme — $45k' })).status, 200);
  assert.equal((await api('POST', '/records', { source_product: 'billing', record_type: 'invoice', source_ref: 'inv_9', title: 'Invoice 9' })).status, 201);
  await page.goto('/records');
  await settled(page);
  const table = page.getByRole('table', { name: 'Workspace records' });
  await table.getByRole('button', { name: 'Invoice 9' }).waitFor();
  await page.getByLabel('Record type').fill('deal');
  await table.getByRole('button', { name: 'Invoice 9' }).waitFor({ state: 'detached' });
  await table.getByRole('button', { name: 'Acme — $45k' }).click();
  const detail = page.locator('section', { has: page.getByRole('heading', { name: 'Acme — $45k' }) });
  await detail.getByText('#2').waitFor();
  const text = await detail.innerText();
  assert.match(text, /#1 Acme — \$42k/);
  assert.match(text, /"stage": "negotiation"/);
  assert.match(text, /Renewal negotiation\./);
  await screenshot(page, 'records-light');
});

async function audit(theme: 'light' | 'dark'): Promise<string[]> {
  await page.goto('/files');
  const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
  const problems: string[] = [];
  for (const path of ['/files', '/records']) {
    await page.goto(path);
    await settled(page);
    // With a file or record open beside the list: the preview and the detail are audited too.
    const first = page.getByRole('table').getByRole('button').first();
    await first.click();
    await page.waitForTimeout(300);
    await settled(page);
    for (const p of await axeProblems(page, theme === 'dark' ? ['color-contrast'] : undefined)) problems.push(`${theme} ${path}: ${p}`);
    if (theme === 'dark') await screenshot(page, `${path.slice(1)}-dark`);
  }
  return problems;
}

test('no serious or critical accessibility violations on the files and records pages (light, every rule)', { skip }, async () => {
  assert.deepEqual(await audit('light'), []);
});

test('no colour contrast violations on the files and records pages in the dark theme', { skip }, async () => {
  assert.deepEqual(await audit('dark'), []);
});
