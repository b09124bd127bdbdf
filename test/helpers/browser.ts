// Real Chromium for the dashboard tests: Debian's /usr/bin/chromium (installed by .ci/run) driven by playwright-core,
// with the flags that let it run as root in a container without a GPU or network chatter.
import { existsSync, mkdirSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

export const CHROMIUM = [process.env.OPSBASE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
/** Why the browser tests are skipped, or false when they run. */
export const SKIP_BROWSER = CHROMIUM ? false : 'no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set OPSBASE_CHROMIUM)';
if (SKIP_BROWSER) console.log(`# browser tests skipped: ${SKIP_BROWSER}`);

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

/** Signs in through the sign-in form and waits to land on `path`. */
export async function signIn(page: Page, who: { email: string; password: string }, path: string): Promise<void> {
  await page.goto(`/sign-in?next=${encodeURIComponent(path)}`);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === path);
}

/** A page in a new browser context (1400×900 unless `options` say otherwise), signed in as the app's admin on `path`. */
export async function signedInPage(
  browser: Browser,
  app: { url: string; admin: { email: string; password: string } },
  path: string,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const ctx = await browser.newContext({ baseURL: app.url, viewport: { width: 1400, height: 900 }, ...options });
  const page = await ctx.newPage();
  await signIn(page, app.admin, path);
  return page;
}

/** Waits until the page shows its heading and nothing is still loading (streams keep the network busy forever). */
export async function settled(page: Page) {
  await page.locator('h1').first().waitFor();
  // Runs in the page (the test's own types have no DOM).
  await page.waitForFunction(() => !(globalThis as any).document.querySelector('[role="status"]')?.textContent?.includes('Loading'));
}

/** Serious and critical accessibility violations on the page as it is now, as readable lines. */
export async function axeProblems(page: Page, onlyRules?: string[]): Promise<string[]> {
  const builder = new AxeBuilder({ page });
  const result = await (onlyRules ? builder.withRules(onlyRules) : builder).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const SHOTS = new URL('../../docs/screenshots/', import.meta.url);
/** Screenshots for the docs, only when asked (OPSBASE_SCREENSHOTS=1): a normal test run leaves the tree as it was. */
export async function screenshot(page: Page, name: string) {
  if (process.env.OPSBASE_SCREENSHOTS !== '1') return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: false });
}
