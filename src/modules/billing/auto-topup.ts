// Automatic top-up, for credits and for tokens: when an org's available balance falls below its threshold, its
// saved card is charged off-session for the chosen pack, at most `max_per_month` times per UTC calendar month.
// The charge runs as background work (the `billing.auto_topup` job), never inside a request; the credits land
// when Stripe's payment_intent.succeeded webhook arrives, through the same exactly-once path as any purchase.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { type Ctx, requireOrg, systemCtx } from '../../core/context.ts';
import { conflict, notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { autoTopups, balances, type Currency } from '../../db/schema/billing.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { autoTopupCharges } from '../../db/schema/payments.ts';
import { recordActivity } from '../activity/record.ts';
import { balanceOf } from './ledger.ts';
import { ensureCustomer, packMetadata, stripeCustomerOf } from './payments.ts';
import { effectiveCatalog } from './catalog-store.ts';
import { type Catalog, type Pack, packById, presentPack } from './plans.ts';
import { PaymentError, type PaymentProvider, paymentProvider, paymentsNotConfigured } from './providers.ts';

type AutoTopupRow = typeof autoTopups.$inferSelect;
type ChargeRow = typeof autoTopupCharges.$inferSelect;

/** A charge still pending after this long (its webhook never came) stops blocking the next one. */
const STALE_PENDING_MS = 24 * 60 * 60 * 1000;
/** A charge decided but whose Stripe call never reported back (a crash) is retried, same idempotency key, after this. */
const RESUME_AFTER_MS = 2 * 60 * 1000;

export const monthKey = (at: Date = new Date()) => at.toISOString().slice(0, 7);

const usedThisMonth = (row: AutoTopupRow, month: string) => (row.month === month ? row.countThisMonth : 0);

// ---- configuration (the operations) ----------------------------------------------------------------------------

async function configRow(ctx: Ctx, currency: Currency, forUpdate = false): Promise<AutoTopupRow | undefined> {
  const q = ctx.db
    .select()
    .from(autoTopups)
    .where(and(eq(autoTopups.orgId, requireOrg(ctx)), eq(autoTopups.currency, currency)));
  const [row] = forUpdate ? await q.for('update') : await q;
  return row;
}

export async function getAutoTopup(ctx: Ctx, currency: Currency) {
  const orgId = requireOrg(ctx);
  const row = await configRow(ctx, currency);
  const month = monthKey();
  const [last] = await ctx.db
    .select()
    .from(autoTopupCharges)
    .where(and(eq(autoTopupCharges.orgId, orgId), eq(autoTopupCharges.currency, currency)))
    .orderBy(desc(autoTopupCharges.createdAt), desc(autoTopupCharges.id))
    .limit(1);
  return {
    currency,
    configured: Boolean(row),
    enabled: row?.enabled ?? false,
    threshold: row?.threshold ?? null,
    pack_id: row?.packId ?? null,
    max_per_month: row?.maxPerMonth ?? null,
    payment_method_id: row?.paymentMethodId ?? null,
    month,
    used_this_month: row ? usedThisMonth(row, month) : 0,
    last_charge: last
      ? {
          id: last.id,
          status: last.status,
          pack_id: last.packId,
          amount: last.amount,
          amount_cents: last.priceCents,
          payment_intent_id: last.paymentIntentId,
          error: last.error,
          created_at: last.createdAt.toISOString(),
        }
      : null,
    packs: (await effectiveCatalog(ctx.services, ctx.db)).packs.filter((p) => p.currency === currency).map(presentPack),
  };
}

async function packFor(ctx: Ctx, currency: Currency, packId: string): Promise<Pack> {
  const pack = packById(packId, await effectiveCatalog(ctx.services, ctx.db));
  if (!pack) throw notFound(`Pack \`${packId}\``);
  if (pack.currency !== currency) {
    throw unprocessable(`The pack \`${pack.id}\` sells ${pack.currency}, not ${currency}: choose a ${currency} pack.`, {
      field: 'pack_id',
      pack_currency: pack.currency,
      currency,
    });
  }
  if (pack.price_cents <= 0) throw unprocessable(`The pack \`${pack.id}\` has no price: it cannot be bought automatically.`, { field: 'pack_id' });
  return pack;
}

/** Enabling needs a provider that can charge and a card of this org's Stripe customer (attached here if it is loose). */
async function checkCanCharge(ctx: Ctx, provider: PaymentProvider, paymentMethodId: string | null) {
  if (provider.name === 'manual') throw paymentsNotConfigured();
  if (!paymentMethodId) {
    throw unprocessable('Enabling auto top-up needs `payment_method_id`: a saved Stripe payment method (pm_…) to charge off-session.', {
      field: 'payment_method_id',
    });
  }
  const customerId = await ensureCustomer(ctx, provider);
  const owner = await provider.paymentMethodCustomer(paymentMethodId);
  if (owner === null) await provider.attachPaymentMethod(paymentMethodId, customerId);
  else if (owner !== customerId) {
    throw unprocessable('That payment method belongs to another Stripe customer: use one saved by this org.', { field: 'payment_method_id' });
  }
}

export interface AutoTopupInput {
  enabled?: boolean;
  threshold?: number;
  pack_id?: string;
  max_per_month?: number;
  payment_method_id?: string | null;
}

export async function configureAutoTopup(ctx: Ctx, currency: Currency, input: AutoTopupInput & { threshold: number; pack_id: string }) {
  const orgId = requireOrg(ctx);
  await packFor(ctx, currency, input.pack_id);
  if (await configRow(ctx, currency)) {
    throw conflict(`Auto top-up for ${currency} is already configured: change it with the update operation (PATCH).`);
  }
  const enabled = input.enabled ?? true;
  const paymentMethodId = input.payment_method_id ?? null;
  if (enabled) await checkCanCharge(ctx, paymentProvider(ctx.services.config), paymentMethodId);
  // A concurrent configure loses on the primary key (409).
  await ctx.db.insert(autoTopups).values({
    orgId,
    currency,
    enabled,
    threshold: input.threshold,
    packId: input.pack_id,
    maxPerMonth: input.max_per_month ?? 3,
    paymentMethodId,
  });
  await recordActivity(ctx, {
    action: 'billing.auto_topup_configured',
    entityType: 'auto_topup',
    entityId: currency,
    metadata: { currency, enabled, threshold: input.threshold, pack_id: input.pack_id, max_per_month: input.max_per_month ?? 3 },
  });
  return getAutoTopup(ctx, currency);
}

export async function updateAutoTopup(ctx: Ctx, currency: Currency, input: AutoTopupInput) {
  const row = await configRow(ctx, currency, true);
  if (!row) throw notFound(`Auto top-up for ${currency} (configure it first)`);
  if (input.pack_id !== undefined) await packFor(ctx, currency, input.pack_id);
  const next = {
    enabled: input.enabled ?? row.enabled,
    threshold: input.threshold ?? row.threshold,
    packId: input.pack_id ?? row.packId,
    maxPerMonth: input.max_per_month ?? row.maxPerMonth,
    paymentMethodId: input.payment_method_id === undefined ? row.paymentMethodId : input.payment_method_id,
  };
  const newlyChargeable = next.enabled && (!row.enabled || next.paymentMethodId !== row.paymentMethodId);
  if (newlyChargeable) await checkCanCharge(ctx, paymentProvider(ctx.services.config), next.paymentMethodId);
  await ctx.db
    .update(autoTopups)
    .set({ ...next, updatedAt: new Date() })
    .where(and(eq(autoTopups.orgId, row.orgId), eq(autoTopups.currency, currency)));
  const changed = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  await recordActivity(ctx, {
    action: 'billing.auto_topup_updated',
    entityType: 'auto_topup',
    entityId: currency,
    metadata: { currency, ...changed },
  });
  return getAutoTopup(ctx, currency);
}

// ---- charging (background work) --------------------------------------------------------------------------------

export type AutoTopupResult =
  | { status: 'charged'; charge_id: string; payment_intent_id: string; pack_id: string; amount: number }
  | { status: 'failed'; charge_id: string; error: string; retry: boolean }
  | {
      status: 'skipped';
      reason:
        | 'payments_not_configured'
        | 'not_configured'
        | 'disabled'
        | 'no_payment_method'
        | 'above_threshold'
        | 'pending'
        | 'monthly_limit'
        | 'pack_unavailable'
        | 'no_customer';
    };

type Decision =
  | { kind: 'skip'; result: AutoTopupResult }
  | { kind: 'charge'; charge: ChargeRow; customerId: string; paymentMethodId: string; pack: Pack };

const skip = (reason: Extract<AutoTopupResult, { status: 'skipped' }>['reason']): Decision => ({
  kind: 'skip',
  result: { status: 'skipped', reason },
});

/**
 * The pack as the charge recorded it: a resent charge must carry exactly the first call's amount (Stripe refuses
 * an idempotency key reused with other parameters), whatever the catalog says meanwhile.
 */
function chargedPack(charge: ChargeRow, cat: Catalog): Pack {
  const now = packById(charge.packId, cat);
  return { id: charge.packId, name: now?.name, currency: charge.currency, amount: charge.amount, price_cents: charge.priceCents };
}

/** Decides under the config row's lock, and records the charge as pending before any money moves. */
async function decide(services: AppServices, orgId: string, currency: Currency, now: Date): Promise<Decision> {
  const { db } = services.database;
  const cat = await effectiveCatalog(services);
  return db.transaction(async (tx) => {
    const [cfg] = await tx
      .select()
      .from(autoTopups)
      .where(and(eq(autoTopups.orgId, orgId), eq(autoTopups.currency, currency)))
      .for('update');
    if (!cfg) return skip('not_configured');
    if (!cfg.enabled) return skip('disabled');
    if (!cfg.paymentMethodId) return skip('no_payment_method');
    const customerId = await stripeCustomerOf(tx, orgId);
    if (!customerId) return skip('no_customer');

    const [pending] = await tx
      .select()
      .from(autoTopupCharges)
      .where(and(eq(autoTopupCharges.orgId, orgId), eq(autoTopupCharges.currency, currency), eq(autoTopupCharges.status, 'pending')));
    if (pending) {
      const age = now.getTime() - pending.createdAt.getTime();
      // Decided but never sent (the process died in between): send it again under the same idempotency key.
      if (!pending.paymentIntentId && age > RESUME_AFTER_MS) {
        return { kind: 'charge', charge: pending, customerId, paymentMethodId: cfg.paymentMethodId, pack: chargedPack(pending, cat) };
      }
      if (age < STALE_PENDING_MS) return skip('pending');
      // Its webhook never came: stop waiting (it still credits if it arrives), but it counts against the month.
      await tx
        .update(autoTopupCharges)
        .set({ status: 'failed', error: 'No confirmation from Stripe within 24 hours.', updatedAt: now })
        .where(eq(autoTopupCharges.id, pending.id));
    }

    const { available } = await balanceOf(tx, orgId, currency);
    if (available >= cfg.threshold) return skip('above_threshold');
    const month = monthKey(now);
    const used = usedThisMonth(cfg, month);
    if (used >= cfg.maxPerMonth) return skip('monthly_limit');
    const pack = packById(cfg.packId, cat);
    if (!pack || pack.currency !== currency || pack.price_cents <= 0) return skip('pack_unavailable');

    const [charge] = await tx
      .insert(autoTopupCharges)
      .values({ id: newId('topupCharge'), orgId, currency, packId: pack.id, amount: pack.amount, priceCents: pack.price_cents, month })
      .returning();
    await tx
      .update(autoTopups)
      .set({ month, countThisMonth: used + 1, updatedAt: now })
      .where(and(eq(autoTopups.orgId, orgId), eq(autoTopups.currency, currency)));
    return { kind: 'charge', charge, customerId, paymentMethodId: cfg.paymentMethodId, pack: chargedPack(charge, cat) };
  });
}

/**
 * Tops the org's `currency` up if it is below its threshold: at most one charge in flight, at most `max_per_month`
 * per calendar month (UTC). Returns what it did. Safe to call any time, from any number of workers.
 */
export async function maybeAutoTopup(services: AppServices, orgId: string, currency: Currency, opts: { now?: Date } = {}): Promise<AutoTopupResult> {
  const provider = paymentProvider(services.config);
  if (provider.name === 'manual') return { status: 'skipped', reason: 'payments_not_configured' };
  const now = opts.now ?? new Date();
  const decision = await decide(services, orgId, currency, now);
  if (decision.kind === 'skip') return decision.result;
  const { charge, customerId, paymentMethodId, pack } = decision;
  const { db } = services.database;

  let paymentIntentId: string;
  try {
    const pi = await provider.createPaymentIntent({
      orgId,
      customerId,
      pack,
      currency: (await effectiveCatalog(services)).currency,
      offSession: { paymentMethodId },
      // The charge's id: a retry of this very charge (a crash, a lost answer) can never charge twice.
      idempotencyKey: `opsbase-auto-topup-${charge.id}`,
      metadata: { ...packMetadata(orgId, pack), auto_topup_charge_id: charge.id },
    });
    paymentIntentId = pi.id;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    if (err instanceof PaymentError && err.code === 'unavailable') {
      // Unknown whether Stripe took it: the charge stays pending and is resent with the same idempotency key.
      services.log.warn({ org_id: orgId, currency, charge: charge.id, error }, 'auto top-up: payment provider unavailable, will retry');
      return { status: 'failed', charge_id: charge.id, error, retry: true };
    }
    // Declined (or refused): do not retry every minute against the same card. The org re-enables it with a new one.
    await db.transaction((tx) => failCharge(tx, { orgId, chargeId: charge.id, error, disable: true, services }));
    services.log.warn({ org_id: orgId, currency, charge: charge.id, error }, 'auto top-up: charge failed, auto top-up disabled');
    return { status: 'failed', charge_id: charge.id, error, retry: false };
  }
  await db.transaction(async (tx) => {
    await tx.update(autoTopupCharges).set({ paymentIntentId, updatedAt: new Date() }).where(eq(autoTopupCharges.id, charge.id));
    await recordActivity(systemCtx(services, tx, orgId), {
      action: 'billing.auto_topup_charged',
      entityType: 'auto_topup_charge',
      entityId: charge.id,
      metadata: { currency, pack_id: pack.id, amount: pack.amount, amount_cents: pack.price_cents, payment_intent: paymentIntentId },
    });
  });
  return { status: 'charged', charge_id: charge.id, payment_intent_id: paymentIntentId, pack_id: pack.id, amount: pack.amount };
}

/** The webhook's success: the pending charge is done (the credit itself is the ledger's, keyed by the event). */
export async function settleCharge(db: DbOrTx, orgId: string, chargeId: string, paymentIntentId: string | null) {
  await db
    .update(autoTopupCharges)
    .set({ status: 'succeeded', error: null, updatedAt: new Date(), ...(paymentIntentId ? { paymentIntentId } : {}) })
    .where(and(eq(autoTopupCharges.id, chargeId), eq(autoTopupCharges.orgId, orgId)));
}

/**
 * A charge that did not go through: it no longer counts against the month, and with `disable` the org's auto
 * top-up is switched off (a declined card would be declined again). Only a pending charge moves, so the
 * synchronous decline and the payment_failed webhook for the same charge undo it once. Run inside a transaction.
 */
export async function failCharge(
  db: DbOrTx,
  v: { orgId: string; chargeId: string; error: string; disable: boolean; services?: AppServices },
): Promise<boolean> {
  const [failed] = await db
    .update(autoTopupCharges)
    .set({ status: 'failed', error: v.error.slice(0, 1000), updatedAt: new Date() })
    .where(and(eq(autoTopupCharges.id, v.chargeId), eq(autoTopupCharges.orgId, v.orgId), eq(autoTopupCharges.status, 'pending')))
    .returning();
  if (!failed) return false;
  await db
    .update(autoTopups)
    .set({
      countThisMonth: sql`case when ${autoTopups.month} = ${failed.month} then greatest(${autoTopups.countThisMonth} - 1, 0) else ${autoTopups.countThisMonth} end`,
      ...(v.disable ? { enabled: false } : {}),
      updatedAt: new Date(),
    })
    .where(and(eq(autoTopups.orgId, v.orgId), eq(autoTopups.currency, failed.currency)));
  if (v.services) {
    await recordActivity(systemCtx(v.services, db, v.orgId), {
      action: 'billing.auto_topup_failed',
      entityType: 'auto_topup_charge',
      entityId: failed.id,
      metadata: { currency: failed.currency, error: failed.error, disabled: v.disable },
    });
  }
  return true;
}

/** The scheduled scan: every enabled auto top-up whose balance is below its threshold gets a `maybeAutoTopup`. */
export async function scanAutoTopups(services: AppServices, opts: { limit?: number; now?: Date } = {}) {
  const { db } = services.database;
  if (paymentProvider(services.config).name === 'manual') return { checked: 0, charged: 0, failed: 0 };
  const due = await db
    .select({ orgId: autoTopups.orgId, currency: autoTopups.currency })
    .from(autoTopups)
    .innerJoin(orgs, and(eq(orgs.id, autoTopups.orgId), isNull(orgs.deletedAt)))
    .leftJoin(balances, and(eq(balances.orgId, autoTopups.orgId), eq(balances.currency, autoTopups.currency)))
    .where(and(eq(autoTopups.enabled, true), sql`coalesce(${balances.balance} - ${balances.held}, 0) < ${autoTopups.threshold}`))
    .limit(opts.limit ?? 500);
  let charged = 0;
  let failed = 0;
  for (const { orgId, currency } of due) {
    try {
      const r = await maybeAutoTopup(services, orgId, currency, { now: opts.now });
      if (r.status === 'charged') charged++;
      if (r.status === 'failed') failed++;
    } catch (err) {
      failed++;
      services.log.error({ err, org_id: orgId, currency }, 'auto top-up failed');
    }
  }
  return { checked: due.length, charged, failed };
}
