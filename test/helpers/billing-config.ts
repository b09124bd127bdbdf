// A test app on a billing config file of its own (OPSBASE_BILLING_CONFIG): the tiers a test needs, nothing else.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TierLimits } from '../../src/modules/billing/plans.ts';
import { startTestApp, type TestApp } from './harness.ts';

/** Limits of a test tier: small, seats unlimited, no monthly credits, unless told otherwise. */
export const tierLimits = (o: Partial<TierLimits> = {}): TierLimits => ({
  tasks_per_day: 10,
  agents: 1,
  seats: -1,
  storage_bytes: 1000,
  credits_per_month: 0,
  ai_calls: 100,
  api_calls: -1,
  ...o,
});

/** Free-priced tiers `{ id: limits }`; the file goes when the app closes. */
export async function startWithTiers(tiers: Record<string, Partial<TierLimits>>, env: Record<string, string> = {}): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'opsbase-billing-'));
  const file = join(dir, 'billing.json');
  const list = Object.entries(tiers).map(([id, limits]) => ({ id, name: id, price_cents: 0, limits: tierLimits(limits) }));
  writeFileSync(file, JSON.stringify({ tiers: list }));
  const app = await startTestApp({ env: { OPSBASE_BILLING_CONFIG: file, ...env } });
  const close = app.close;
  app.close = async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  };
  return app;
}
