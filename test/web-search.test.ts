// Global search in a real Chromium: the search page groups what matched by type with escaped, highlighted snippets
// and links to each hit; the palette (Ctrl-K) shows the org's hits from two characters on and opens one; axe finds
// nothing serious on the page in either theme.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { indexEntry } from '../src/modules/search/entries.ts';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signedInPage } from './helpers/browser.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

const skip = SKIP_BROWSER;
let app: TestApp;
let browser: Browser;
let page: Page;
let taskNumber: number;

before(async () => {
  if (skip) return;
  app = await startTestApp();
  const task = await app.request('POST', '/api/v1/tasks', { key: app.admin.key, body: { title: 'Answer the refund request from Acme' } });
  taskNumber = task.body.number;
  await indexEntry(app.app.services.database.db, {
    orgId: app.admin.orgId,
    kind: 'document',
    objectId: 'doc_refundpolicy',
    title: 'Refund policy',
    body: 'A refund is granted within 30 days. <img src=x onerror=alert(1)> Forms at https://help.acme.example/refund-form',
    meta: { folder: 'Policies' },
  });
  browser = await launch();
  page = await signedInPage(browser, app, '/search', { viewport: { width: 1300, height: 900 } });
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test('the search page groups hits by type, highlights the words and links to each hit', { skip }, async () => {
  await settled(page);
  await page.getByLabel('Search the org').fill('refund');
  const documents = page.locator('ul[data-group="document"]');
  await documents.getByRole('link', { name: 'Refund policy' }).waitFor();
  assert.equal(await documents.locator('mark').first().innerText(), 'refund');
  assert.equal(await page.locator('ul[data-group="document"] img').count(), 0, 'the body’s markup is shown as text, never run');
  assert.match(await documents.innerText(), /Policies/, 'where the hit is');
  assert.match(page.url(), /\/search\?q=refund$/, 'the query is in the address');
  await screenshot(page, 'search-light');
  await page.locator('ul[data-group="task"]').getByRole('link', { name: 'Answer the refund request from Acme' }).click();
  await page.waitForURL(new RegExp(`/tasks/${taskNumber}$`));
});

test('the palette finds the org’s things and opens one', { skip }, async () => {
  await page.goto('/');
  await settled(page);
  await page.keyboard.press('Control+k');
  await page.keyboard.type('refund pol');
  await page.getByRole('option', { name: 'Refund policy' }).click();
  await page.waitForURL(/\/documents\/doc_refundpolicy$/);
  await page.keyboard.press('Control+k');
  await page.keyboard.type('acme.example');
  await page.getByRole('option', { name: /Search everything for “acme.example”/ }).click();
  await page.waitForURL(/\/search\?q=acme.example$/);
  await page.locator('ul[data-group="document"]').getByText('help.acme.example/refund-form').waitFor();
});

test('no serious or critical accessibility violations on the search page in either theme', { skip }, async () => {
  const problems: string[] = [];
  for (const theme of ['light', 'dark'] as const) {
    await page.goto('/');
    await settled(page);
    const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
    if (await toggle.count()) await toggle.click();
    await page.goto('/search?q=refund');
    await settled(page);
    await page.locator('ul[data-group="document"]').waitFor();
    for (const p of await axeProblems(page, theme === 'dark' ? ['color-contrast'] : undefined)) problems.push(`${theme}: ${p}`);
    if (theme === 'dark') await screenshot(page, 'search-dark');
  }
  assert.deepEqual(problems, []);
});
