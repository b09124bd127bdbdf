// The tasks and agents pages in a real Chromium against a real server on a fresh database: a task created in the
// dialog (and its duplicate refused with a link), moved on the board by drag and by its status select (a refused
// transition puts it back), its detail page (markdown rendered safely, a comment, a dependency, a cycle refused,
// a claim), the list's search; an agent created, stopped and started, placed in the org chart; axe on every new page
// in both themes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { axeProblems, launch, SKIP_BROWSER, screenshot, settled, signedInPage } from './helpers/browser.ts';
import { roomForAgents } from './helpers/funded.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { type Worker, startWorker } from '../src/jobs/worker.ts';

const skip = SKIP_BROWSER;
let app: TestApp;
let browser: Browser;
let page: Page;
let worker: Worker | undefined;
const TITLE = 'Write the launch announcement';

before(async () => {
  if (skip) return;
  app = await startTestApp();
  // Three agents below: more than the free tier's two.
  await roomForAgents(app, app.admin);
  browser = await launch();
  page = await signedInPage(browser, app, '/tasks');
});
after(async () => {
  await worker?.stop();
  await browser?.close();
  await app?.close();
});

const api = (method: string, path: string, body?: unknown) => app.request(method, `/api/v1${path}`, { key: app.admin.key, body });
const column = (status: string) => page.locator(`section[data-status="${status}"]`);
const card = (n: number) => page.locator(`li[data-task="${n}"]`);
/** The card in that column once the server has answered (while a move is pending the card shows busy). */
const landed = (status: string, n: number) => column(status).locator(`li[data-task="${n}"]:not([aria-busy])`).waitFor();

test('a task is created in the dialog and shows on the board; the same title again links to it', { skip }, async () => {
  await page.goto('/tasks');
  await settled(page);
  assert.match(await page.getByTestId('quota').innerText(), /0 of \d+ created today|0 created today/);
  const create = async () => {
    await page.getByRole('button', { name: 'New task' }).click();
    const dialog = page.getByRole('dialog', { name: 'New task' });
    await dialog.getByLabel('Title').fill(TITLE);
    await dialog.getByLabel('Description').fill('Announce **the launch**.\n\n- blog\n- mail\n\n<script>window.pwned = 1</script>');
    await dialog.getByLabel('Priority').selectOption('P1');
    await dialog.getByLabel('Assignee').selectOption('me');
    await dialog.getByLabel('Tags').fill('launch, writing');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    return dialog;
  };
  const dialog = await create();
  await dialog.waitFor({ state: 'hidden' });
  await column('todo').locator(card(1)).waitFor();
  assert.match(await card(1).innerText(), /#1 Write the launch announcement[\s\S]*P1[\s\S]*me[\s\S]*launch/);
  await page.getByTestId('quota').getByText(/^1 /).waitFor();

  const again = await create();
  const link = again.getByRole('link', { name: 'Open #1' });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '/tasks/1');
  await again.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await api('GET', '/tasks')).body.data.length, 1, 'the duplicate was not created');
});

test('a card is dragged to another column; a transition the server refuses puts it back with the reason', { skip }, async () => {
  await page.goto('/tasks');
  await column('todo').locator(card(1)).waitFor();
  await card(1).dragTo(column('in_progress'));
  await landed('in_progress', 1);
  assert.equal((await api('GET', '/tasks/1')).body.status, 'in_progress');

  // The keyboard way: the card's status select. in_progress → backlog is not in the transitions table.
  const refused = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 422);
  await card(1).getByLabel('Status of #1').selectOption('backlog');
  await refused;
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /#1 stays in progress: .*can go to: todo, in_review/);
  await landed('in_progress', 1);
  assert.equal(await column('backlog').locator(card(1)).count(), 0, 'the card went back');
  assert.equal(await card(1).getByLabel('Status of #1').inputValue(), 'in_progress');
  assert.equal((await api('GET', '/tasks/1')).body.status, 'in_progress');

  await card(1).getByLabel('Status of #1').selectOption('in_review');
  await landed('in_review', 1);
  assert.equal((await api('GET', '/tasks/1')).body.status, 'in_review');
});

test('the detail page renders markdown without raw HTML, takes a comment and a dependency, refuses a cycle, claims', { skip }, async () => {
  const other = await api('POST', '/tasks', { title: 'Pick the launch date' });
  assert.equal(other.status, 201);
  await page.goto('/tasks');
  await card(1).getByRole('link').click();
  await page.waitForURL(/\/tasks\/1$/);
  await settled(page);
  const description = page.locator('section', { has: page.getByRole('heading', { name: 'Description' }) });
  assert.equal(await description.locator('strong').innerText(), 'the launch');
  assert.equal(await description.locator('li').count(), 2);
  assert.match(await description.innerText(), /<script>window\.pwned = 1<\/script>/, 'raw HTML shows as text');
  assert.equal(await page.evaluate(() => (globalThis as any).pwned), undefined, 'and never runs');

  await page.getByLabel('Add a comment').fill('Draft is in `docs/launch.md`');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  const comments = page.getByRole('list', { name: 'Comments, newest first' });
  await comments.locator('code', { hasText: 'docs/launch.md' }).waitFor();
  assert.equal((await api('GET', '/tasks/1/comments')).body.data[0].body, 'Draft is in `docs/launch.md`');

  await page.getByLabel('Depends on task').fill(`#${other.body.number}`);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('link', { name: `#${other.body.number} Pick the launch date` }).waitFor();
  await page.getByText('Blocked: a task it depends on is still open').waitFor();
  assert.deepEqual((await api('GET', '/tasks/1')).body.depends_on.map((t: { number: number }) => t.number), [other.body.number]);

  // From the other side: #2 waiting for #1 would close a loop.
  await page.goto(`/tasks/${other.body.number}`);
  await settled(page);
  await page.getByLabel('Depends on task').fill('1');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  assert.match(await page.getByRole('alert').innerText(), /cycle: #2 → #1 → #2/);

  await page.getByRole('button', { name: 'Claim' }).click();
  await page.getByText(/^held, expires in /).waitFor();
  const claimed = (await api('GET', `/tasks/${other.body.number}`)).body;
  assert.equal(claimed.status, 'in_progress');
  assert.deepEqual(claimed.assignee, { type: 'user', id: app.admin.userId });
});

test('the list searches the full text and filters', { skip }, async () => {
  await api('POST', '/tasks', { title: 'Renew the TLS certificate', priority: 'P0' });
  await page.goto('/tasks?view=list');
  await settled(page);
  await page.getByRole('cell', { name: 'Renew the TLS certificate' }).waitFor();
  const searched = page.waitForResponse((r) => r.url().includes('q=announcement'));
  await page.getByLabel('Search').fill('announcement');
  await searched;
  await page.getByRole('cell', { name: 'Renew the TLS certificate' }).waitFor({ state: 'detached' });
  const rows = page.locator('tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.innerText(), /Write the launch announcement/);

  await page.getByLabel('Search').fill('');
  const filtered = page.waitForResponse((r) => r.url().includes('priority=P0'));
  await page.getByLabel('Priority').selectOption('P0');
  await filtered;
  await page.getByRole('cell', { name: 'Renew the TLS certificate' }).waitFor();
  assert.equal(await rows.count(), 1);
});

test('an agent is created in the dialog, stopped and started, and placed in the org chart', { skip }, async () => {
  const editor = await api('POST', '/agents', { name: 'editor', display_name: 'Editor', role: 'Editor in chief' });
  assert.equal(editor.status, 201);
  await page.goto('/agents');
  await settled(page);
  await page.getByRole('button', { name: 'New agent' }).click();
  const dialog = page.getByRole('dialog', { name: 'New agent' });
  await dialog.getByLabel('Name', { exact: true }).fill('writer');
  await dialog.getByLabel('Display name').fill('Writer');
  await dialog.getByLabel('Role').fill('Content writer');
  await dialog.getByLabel('Reports to').selectOption({ label: 'Editor' });
  await dialog.getByLabel('Monthly credits').fill('100');
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/\/agents\/writer$/);
  await settled(page);
  const writer = (await api('GET', '/agents/writer')).body;
  assert.equal(writer.reports_to, editor.body.id);
  assert.equal(writer.budget.monthly_credits, 100);
  assert.equal(writer.status, 'active');

  await page.getByRole('button', { name: 'Stop writer', exact: true }).click();
  await page.getByRole('button', { name: 'Start writer', exact: true }).waitFor();
  assert.equal((await api('GET', '/agents/writer')).body.status, 'paused');
  await page.getByRole('button', { name: 'Start writer', exact: true }).click();
  await page.getByRole('button', { name: 'Stop writer', exact: true }).waitFor();
  assert.equal((await api('GET', '/agents/writer')).body.status, 'active');

  // A setting saved from the detail page.
  await page.getByLabel('Title', { exact: true }).fill('Senior writer');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal((await api('GET', '/agents/writer')).body.title, 'Senior writer');

  await page.goto('/agents?view=chart');
  await settled(page);
  const chart = page.getByRole('list', { name: 'Org chart' });
  // Writer is inside Editor's branch: a list item holding both links, Editor's first.
  const branch = chart.locator('li', { has: page.getByRole('link', { name: 'Editor' }) }).filter({ has: page.getByRole('link', { name: 'Writer' }) });
  assert.equal(await branch.count(), 1);
  assert.deepEqual(await branch.getByRole('link').allInnerTexts(), ['Editor', 'Writer']);
});

test('a task is run from its page: the cost confirmed, the run’s events live, the result on the task, the run page', { skip }, async () => {
  worker = await startWorker(app.app.services, { pollMs: 200 });
  const grant = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: app.admin.orgId, credits: 5 } });
  assert.ok(grant.status < 300, JSON.stringify(grant.body));
  assert.equal((await api('POST', '/agents', { name: 'runner', role: 'Planner' })).status, 201);
  const task = (await api('POST', '/tasks', { title: 'Plan the webinar', description: 'Pick a date. Invite the speakers.', assignee: 'agent:runner' })).body;
  const before = (await api('GET', '/wallet')).body.available;
  await page.goto(`/tasks/${task.number}`);
  const runs = page.locator('section', { has: page.getByRole('heading', { name: 'Runs' }) });
  await runs.getByText('No runs yet.').waitFor();
  await runs.getByRole('button', { name: 'Run', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: `Run #${task.number}` });
  assert.match(await confirm.innerText(), /Costs 1 credit/);
  await confirm.getByRole('button', { name: 'Run for 1 credit' }).click();
  const log = page.getByRole('list', { name: 'Run events' });
  await log.getByText('succeeded').waitFor({ timeout: 30_000 });
  assert.match(await log.innerText(), /queued[\s\S]*running[\s\S]*model:[\s\S]*Pick a date/);
  await page.getByText(/1 credit · \d+ tokens/).waitFor();
  const after = (await api('GET', `/tasks/${task.number}`)).body;
  assert.equal(after.status, 'in_review');
  assert.match(after.resolution, /Invite the speakers/);
  assert.equal((await api('GET', '/wallet')).body.available, before - 1, 'one credit spent');
  const [run] = (await api('GET', `/runs?task=${task.id}`)).body.data;
  await page.getByRole('link', { name: run.id }).click();
  await page.waitForURL(`**/runs/${run.id}`);
  await page.getByText('1 spent of 1 held').waitFor();
  await page.getByRole('list', { name: 'Run events' }).getByText('succeeded').waitFor();
  PAGES.push(`/tasks/${task.number}`, `/runs/${run.id}`);
});

const PAGES = ['/tasks', '/tasks?view=list', '/tasks/1', '/agents', '/agents?view=chart', '/agents/writer'];
const shotName = (path: string) => (path.startsWith('/runs/') ? 'run' : path.slice(1).replace('?view=', '-').replaceAll('/', '-'));

async function audit(theme: 'light' | 'dark'): Promise<string[]> {
  await page.goto('/tasks');
  const toggle = page.getByRole('button', { name: `Switch to ${theme} theme` });
  if (await toggle.count()) await toggle.click();
  const problems: string[] = [];
  for (const path of PAGES) {
    await page.goto(path);
    await settled(page);
    for (const p of await axeProblems(page, theme === 'dark' ? ['color-contrast'] : undefined)) problems.push(`${theme} ${path}: ${p}`);
    // Every page in light; the board and the chart in dark, enough to show the theme.
    if (theme === 'light' || path === '/tasks' || path === '/agents?view=chart') await screenshot(page, `${shotName(path)}-${theme}`);
  }
  return problems;
}

test('no serious or critical accessibility violations on the tasks and agents pages (light, every rule)', { skip }, async () => {
  assert.deepEqual(await audit('light'), []);
});

test('no colour contrast violations on the tasks and agents pages in the dark theme', { skip }, async () => {
  assert.deepEqual(await audit('dark'), []);
});
