// The credits a tier includes each month (`limits.credits_per_month`): one `grant` entry per org and UTC month,
// keyed `monthly:<YYYY-MM>` so the ledger's idempotency key makes it exactly once whatever runs it (org creation,
// any number of workers, retries). Granted credits are ordinary credits: unused ones roll over.
// A tier with 0 grants nothing, and so does -1: "unlimited" is no amount that can be credited.
import { and, asc, gt, inArray, isNull, notInArray, sql, type SQL } from 'drizzle-orm';
import { type Ctx, systemCtx } from '../../core/context.ts';
import type { AppServices } from '../../core/services.ts';
import { ledgerEntries } from '../../db/schema/billing.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { recordActivity } from '../activity/record.ts';
import { monthKey } from './auto-topup.ts';
import { effectiveCatalog } from './catalog-store.ts';
import { credit } from './ledger.ts';
import { type Catalog, DEFAULT_TIER, type Tier, tierOf } from './plans.ts';

const grants = (t: Tier) => t.limits.credits_per_month > 0;

/** Grants `orgId` its tier's credits for the month of `at`, once; undefined when the tier includes none. */
export async function grantMonthlyCredits(ctx: Ctx, orgId: string, tier: Tier, at: Date = new Date()) {
  if (!grants(tier)) return undefined;
  const month = monthKey(at);
  const amount = tier.limits.credits_per_month;
  const result = await credit(ctx.db, {
    orgId,
    currency: 'credits',
    amount,
    kind: 'grant',
    reference: tier.id,
    idempotencyKey: `monthly:${month}`,
    metadata: { month, tier: tier.id },
  });
  if (!result.replayed) {
    await recordActivity(ctx, {
      action: 'billing.monthly_credits_granted',
      entityType: 'ledger_entry',
      entityId: result.entry.id,
      orgId,
      metadata: { month, tier: tier.id, amount },
    });
  }
  return result;
}

/** Orgs whose `plan` gets credits: an unknown plan counts as the default tier, as everywhere else. */
function onGrantingTier(cat: Catalog): SQL | undefined {
  const granting = cat.tiers.filter(grants).map((t) => t.id);
  if (granting.length === 0) return undefined;
  if (!grants(tierOf(DEFAULT_TIER, cat))) return inArray(orgs.plan, granting);
  const others = cat.tiers.filter((t) => !grants(t)).map((t) => t.id);
  return others.length ? notInArray(orgs.plan, others) : sql`true`;
}

/**
 * The worker's hourly job: every live org on a granting tier without this month's grant gets it. The orgs are
 * found set-based, a batch at a time (the anti-join probes the ledger's idempotency-key index); each grant is its
 * own short transaction so a wallet is never locked for longer than its own entry.
 */
export async function grantDueMonthlyCredits(services: AppServices, at: Date = new Date(), batch = 500): Promise<{ granted: number }> {
  const cat = await effectiveCatalog(services);
  const eligible = onGrantingTier(cat);
  if (!eligible) return { granted: 0 };
  const key = `monthly:${monthKey(at)}`;
  const { db } = services.database;
  let granted = 0;
  let after = '';
  for (;;) {
    const due = await db
      .select({ id: orgs.id, plan: orgs.plan })
      .from(orgs)
      .where(
        and(
          isNull(orgs.deletedAt),
          gt(orgs.id, after),
          eligible,
          sql`not exists (select 1 from ${ledgerEntries} e where e.org_id = ${orgs.id} and e.currency = 'credits' and e.idempotency_key = ${key})`,
        ),
      )
      .orderBy(asc(orgs.id))
      .limit(batch);
    for (const org of due) {
      const done = await db.transaction((tx) => grantMonthlyCredits(systemCtx(services, tx, org.id), org.id, tierOf(org.plan, cat), at));
      if (done && !done.replayed) granted++;
    }
    if (due.length < batch) return { granted };
    after = due[due.length - 1].id;
  }
}
