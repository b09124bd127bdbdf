// The documents pages in a real Chromium against a real server on a fresh database: a folder created in the tree,
// a document created in it and written in the editor with its live preview (raw HTML shown as text, never run),
// edited again (revision 3), the diff between two revisions in the history, a folder renamed and an empty one
// deleted; axe on every page in both themes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signedInPage } from './helpers/browser.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

const skip = SKIP_BROWSER;
let app: TestApp;
let browser: Browser;
let page: Page;
let worker: Worker | undefined;

before(async () => {
  if (skip) return;
  app = await startTestApp();
  // The summary job runs, so the document page shows a drafted summary.
  worker = await startWorker(app.app.services, { pollMs: 200 });
  browser = await launch();
  page = await signedInPage(browser, app, '/documents');
});
after(async () => {
  await worker?.stop();
  await browser?.close();
  await app?.close();
});

const api = (method: string, path: string, body?: unknown) => app.request(method, `/api/v1${path}`, { key: app.admin.key, body });
const folders = () => page.getByRole('navigation', { name: 'Folders' });
let folderId = '';
let docId = '';

test('a folder is created in the tree, and a document in it', { skip }, async () => {
  await settled(page);
  await page.getByRole('button', { name: 'New folder' }).click();
  const dialog = page.getByRole('dialog', { name: 'New folder' });
  await dialog.getByLabel('Name').fill('Policies');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForURL(/folder=fld_/);
  folderId = new URL(page.url()).searchParams.get('folder') ?? '';
  // The new folder is the one shown.
  await folders().locator('a[aria-current="page"]', { hasText: 'Policies' }).waitFor();

  // A folder made while one is shown goes inside it.
  await page.getByRole('button', { name: 'New folder' }).click();
  const again = page.getByRole('dialog', { name: 'New folder' });
  await again.getByLabel('Name').fill('Scratch');
  await again.getByRole('button', { name: 'Create' }).click();
  await again.waitFor({ state: 'hidden' });
  await folders().getByRole('link', { name: 'Scratch' }).waitFor();
  assert.equal(
    (await api('GET', '/folders')).body.data.find((f: { name: string }) => f.name === 'Scratch').path,
    'Policies/Scratch',
    'made inside the folder shown',
  );

  await folders().getByRole('link', { name: 'Policies' }).click();
  await page.getByRole('heading', { name: 'Policies', exact: true }).waitFor();
  await page.getByRole('button', { name: 'New document' }).click();
  const create = page.getByRole('dialog', { name: 'New document' });
  await create.getByLabel('Title').fill('Refund policy');
  await create.getByLabel('Kind').selectOption('policy');
  await create.getByLabel('Tags').fill('customers, money');
  await create.getByRole('button', { name: 'Create and write' }).click();
  await page.waitForURL(/\/documents\/doc_/);
  docId = page.url().split('/documents/')[1];
  const doc = (await api('GET', `/documents/${docId}`)).body;
  assert.deepEqual(
    [doc.title, doc.kind, doc.folder_path, doc.tags, doc.revision],
    ['Refund policy', 'policy', 'Policies', ['customers', 'money'], 1],
  );
});

test('the editor previews markdown live and safely; each save of new text is the next revision', { skip }, async () => {
  await page.goto(`/documents/${docId}`);
  await settled(page);
  const content = page.getByLabel('Content');
  const preview = page.getByRole('region', { name: 'Preview' });
  await content.fill('# Refunds\n\nWe refund **within 14 days**.\n\n- email support\n- keep the receipt\n\n<script>window.pwned = 1</script>');
  await preview.locator('h1', { hasText: 'Refunds' }).waitFor();
  assert.equal(await preview.locator('strong').innerText(), 'within 14 days');
  assert.equal(await preview.locator('li').count(), 2);
  assert.match(await preview.innerText(), /<script>window\.pwned = 1<\/script>/, 'raw HTML is shown as text');
  assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined, 'and never runs');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved — revision 2').waitFor();

  await content.fill('# Refunds\n\nWe refund **within 30 days**.\n\n- email support\n- keep the receipt\n\n<script>window.pwned = 1</script>');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved — revision 3').waitFor();
  assert.equal((await api('GET', `/documents/${docId}`)).body.revision, 3);
  // Tags alone: saved, and no revision.
  await page.getByLabel('Tags').fill('customers, money, support');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved — revision 3').waitFor();
  assert.deepEqual((await api('GET', `/documents/${docId}`)).body.tags, ['customers', 'money', 'support']);
  await page.getByText(/drafted by AI/).waitFor();
  await screenshot(page, 'document-light');

  // A summary written by hand replaces the drafted one, makes no revision, and is kept as the author's.
  await page.reload();
  await settled(page);
  await page.getByLabel('Summary').fill('How and when we refund customers.');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved — revision 3').waitFor();
  const own = (await api('GET', `/documents/${docId}`)).body;
  assert.deepEqual([own.summary, own.summary_source, own.revision], ['How and when we refund customers.', 'author', 3]);
  assert.equal(await page.getByText(/drafted by AI/).count(), 0);
});

test('the history lists the revisions and shows the diff between two', { skip }, async () => {
  await page.getByRole('link', { name: 'History (3)' }).click();
  await page.waitForURL(/view=history/);
  const diff = page.getByRole('region', { name: 'Changes from revision 2 to 3' });
  await diff.waitFor();

  assert.match(await diff.locator('[data-diff="removed"]').innerText(), /−\s*We refund \*\*within 14 days\*\*\./);
  assert.match(await diff.locator('[data-diff="added"]').innerText(), /\+\s*We refund \*\*within 30 days\*\*\./);
  assert.equal(await diff.locator('[data-diff="removed"]').count(), 1);
  assert.equal(await diff.locator('[data-diff="added"]').count(), 1);

  // From the first (empty) revision everything is added.
  await page.getByLabel('Compare revision').selectOption('1');
  const whole = page.getByRole('region', { name: 'Changes from revision 1 to 3' });
  await whole.waitFor();
  assert.equal(await whole.locator('[data-diff="added"]').count(), 8);
  assert.equal(await whole.locator('[data-diff="removed"]').count(), 0);
  await page.getByLabel('Compare revision').selectOption('2');
  await page.getByRole('region', { name: 'Changes from revision 2 to 3' }).waitFor();
  await screenshot(page, 'document-history-light');
});

test('a folder is renamed; an empty one is deleted; a folder with documents asks before deleting everything', { skip }, async () => {
  await page.goto(`/documents?folder=${folderId}`);
  await settled(page);
  await page.getByRole('button', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename Policies' });
  await rename.getByLabel('Name').fill('Company policies');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await rename.waitFor({ state: 'hidden' });
  await page.getByRole('heading', { name: 'Company policies', exact: true }).waitFor();
  assert.equal((await api('GET', `/documents/${docId}`)).body.folder_path, 'Company policies');

  await folders().getByRole('link', { name: 'Scratch' }).click();
  await page.getByRole('heading', { name: 'Company policies/Scratch' }).waitFor();
  await page.getByRole('button', { name: 'Delete folder' }).click();
  await page.getByRole('dialog', { name: 'Delete Scratch?' }).getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(/folder=all/);
  await folders().getByRole('link', { name: 'Scratch' }).waitFor({ state: 'detached' });

  await folders().getByRole('link', { name: 'Company policies' }).click();
  await page.getByRole('button', { name: 'Delete folder' }).click();
  await page.getByRole('dialog', { name: 'Delete Company policies?' }).getByRole('button', { name: 'Delete' }).click();
  const notEmpty = page.getByRole('dialog', { name: 'Company policies is not empty' });
  await notEmpty.getByText(/1 document/).waitFor();
  await notEmpty.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await api('GET', `/documents/${docId}`)).status, 200, 'nothing was deleted');
});

async function audit(theme: 'light' | 'dark'): Promise<string[]> {
  await page.goto('/documents');
  const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
  const problems: string[] = [];
  const pages = ['/documents', `/documents?folder=${folderId}`, `/documents/${docId}`, `/documents/${docId}?view=history`];
  for (const path of pages) {
    await page.goto(path);
    await settled(page);
    if (path.endsWith('history')) await page.getByRole('region', { name: /Changes from revision/ }).waitFor();
    for (const p of await axeProblems(page, theme === 'dark' ? ['color-contrast'] : undefined)) problems.push(`${theme} ${path}: ${p}`);
  }
  await page.goto(`/documents?folder=${folderId}`);
  await settled(page);
  await screenshot(page, `documents-${theme}`);
  return problems;
}

test('no serious or critical accessibility violations on the documents pages (light, every rule)', { skip }, async () => {
  assert.deepEqual(await audit('light'), []);
});

test('no colour contrast violations on the documents pages in the dark theme', { skip }, async () => {
  assert.deepEqual(await audit('dark'), []);
  await page.goto(`/documents/${docId}?view=history`);
  await page.getByRole('region', { name: /Changes from revision/ }).waitFor();
  await screenshot(page, 'document-history-dark');
});
