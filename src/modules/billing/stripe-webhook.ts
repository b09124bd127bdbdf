// `POST /billing/webhook`: Stripe tells us money moved. The signature is checked over the raw body; each event is
// applied exactly once, by its id, in the transaction of its effect (a stripe_events row is inserted first: a
// redelivery, even a concurrent one, finds it and changes nothing). Unknown event types are acknowledged and ignored.
// Objects are read field by field rather than through the SDK's types: the endpoint's API version decides their
// shape (e.g. a subscription's period end moved from the subscription to its items in 2025).
import { eq } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { CURRENCIES, type Currency, stripeEvents, subscriptions } from '../../db/schema/billing.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { stripeCustomers } from '../../db/schema/payments.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { failCharge, settleCharge } from './auto-topup.ts';
import { credit } from './ledger.ts';
import { orgExists, rememberCustomer } from './payments.ts';
import { effectiveCatalog } from './catalog-store.ts';
import { type Catalog, DEFAULT_TIER, type Tier, tierById, tierOf } from './plans.ts';
import { type ProviderEvent, paymentProvider } from './providers.ts';

type Obj = Record<string, unknown>;
interface Outcome {
  orgId: string | null;
  /** Why nothing was done (an event that is not ours, or names nothing we know). */
  ignored?: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const idOf = (v: unknown): string | null => str(v) ?? str(obj(v).id);
const metadataOf = (o: Obj): Obj => obj(o.metadata);
const unixDate = (v: unknown): Date | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? new Date(v * 1000) : null);
const ignored = (reason: string, orgId: string | null = null): Outcome => ({ orgId, ignored: reason });

/** Statuses in which the org has the tier it pays for; after these it falls back to the default tier. */
const ACTIVE = new Set(['active', 'trialing', 'past_due']);
const ENDED = new Set(['canceled', 'incomplete_expired']);

/** Moves an org to `tier` (row-locked), recording `plan.changed` and the activity row; false when already there. */
async function applyPlan(ctx: Ctx, orgId: string, tier: string, eventId: string): Promise<boolean> {
  const [org] = await ctx.db.select({ plan: orgs.plan }).from(orgs).where(eq(orgs.id, orgId)).for('update');
  if (!org || org.plan === tier) return false;
  const from = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db)).id;
  await ctx.db.update(orgs).set({ plan: tier, updatedAt: new Date() }).where(eq(orgs.id, orgId));
  // Credentials cache their org's plan (its tier caps their rate limit): every instance reads it again.
  await ctx.services.authCache.invalidate(ctx.db, `plan:${orgId}`);
  await recordEvent(ctx.db, { orgId, type: 'plan.changed', subject: orgId, data: { from, to: tier, provider: 'stripe', stripe_event: eventId } });
  await recordActivity(ctx, {
    action: 'billing.plan_changed',
    entityType: 'org',
    entityId: orgId,
    orgId,
    metadata: { from, to: tier, provider: 'stripe' },
  });
  return true;
}

function tierByPrice(cat: Catalog, priceId: string | null): Tier | undefined {
  return priceId ? cat.tiers.find((t) => t.stripe_price_id === priceId) : undefined;
}

async function subscriptionRow(ctx: Ctx, subscriptionId: string) {
  const [row] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.subscriptionId, subscriptionId)).for('update');
  return row;
}

async function orgOfCustomer(ctx: Ctx, customerId: string | null): Promise<string | null> {
  if (!customerId) return null;
  const [row] = await ctx.db.select({ orgId: stripeCustomers.orgId }).from(stripeCustomers).where(eq(stripeCustomers.customerId, customerId));
  return row?.orgId ?? null;
}

type SubscriptionRow = typeof subscriptions.$inferSelect;

/**
 * Stripe delivers events out of order (a retried `customer.subscription.updated` can arrive after the `deleted`
 * that followed it). State for a subscription is applied only from an event at least as new as the one it holds,
 * and a cancelled subscription never comes back (Stripe cannot reactivate one; a new one has a new id).
 */
function staleFor(row: SubscriptionRow | undefined, subscriptionId: string, event: ProviderEvent): string | null {
  if (!row || row.subscriptionId !== subscriptionId) return null;
  if (row.status === 'canceled' && event.type !== 'customer.subscription.deleted') return 'the subscription is already cancelled';
  if (row.stateAt && event.created && event.created < row.stateAt) return 'older than the state already applied';
  return null;
}

async function upsertSubscription(
  ctx: Ctx,
  v: {
    orgId: string;
    tier: string;
    status: string;
    customerId: string | null;
    subscriptionId: string | null;
    periodEnd?: Date | null;
    stateAt: Date | null;
  },
) {
  const now = new Date();
  const set = {
    tier: v.tier,
    status: v.status,
    provider: 'stripe' as const,
    subscriptionId: v.subscriptionId,
    stateAt: v.stateAt,
    updatedAt: now,
    ...(v.customerId ? { customerId: v.customerId } : {}),
    ...(v.periodEnd ? { currentPeriodEnd: v.periodEnd } : {}),
  };
  await ctx.db
    .insert(subscriptions)
    .values({ orgId: v.orgId, customerId: v.customerId, currentPeriodEnd: v.periodEnd ?? null, ...set })
    .onConflictDoUpdate({ target: subscriptions.orgId, set });
}

async function checkoutCompleted(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  const s = event.object;
  if (s.mode === 'payment') return packCheckoutPaid(ctx, event);
  if (s.mode !== 'subscription') return ignored('not a subscription or pack checkout');
  const meta = metadataOf(s);
  const orgId = str(s.client_reference_id) ?? str(meta.org_id);
  if (!(await orgExists(ctx.db, orgId))) return ignored('names no org of this instance');
  const tier = tierById(str(meta.tier) ?? '', await effectiveCatalog(ctx.services, ctx.db));
  if (!tier) return ignored(`names no tier of this catalog (${String(meta.tier)})`, orgId);
  const customerId = idOf(s.customer);
  const subscriptionId = idOf(s.subscription);
  if (customerId) await rememberCustomer(ctx.db, orgId!, customerId);
  if (subscriptionId) {
    const [current] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.orgId, orgId!)).for('update');
    const stale = staleFor(current, subscriptionId, event);
    if (stale) return ignored(stale, orgId);
  }
  // Paid (or nothing to pay): the tier is the org's now. Unpaid (a delayed method): its invoice.paid will apply it.
  const paid = s.payment_status !== 'unpaid';
  const status = paid ? 'active' : 'incomplete';
  await upsertSubscription(ctx, { orgId: orgId!, tier: tier.id, status, customerId, subscriptionId, stateAt: event.created });
  if (paid) await applyPlan(ctx, orgId!, tier.id, event.id);
  return { orgId };
}

async function invoicePaid(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  const inv = event.object;
  const details = obj(obj(inv.parent).subscription_details);
  const subscriptionId = idOf(inv.subscription) ?? idOf(details.subscription);
  if (!subscriptionId) return ignored('not a subscription invoice');
  const lines = Array.isArray(obj(inv.lines).data) ? (obj(inv.lines).data as unknown[]) : [];
  const ends = lines.map((l) => unixDate(obj(obj(l).period).end)).filter((d): d is Date => d !== null);
  const periodEnd = ends.length ? new Date(Math.max(...ends.map((d) => d.getTime()))) : null;
  const row = await subscriptionRow(ctx, subscriptionId);
  const stale = staleFor(row, subscriptionId, event);
  if (stale) return ignored(stale, row?.orgId ?? null);
  let orgId: string | null = row?.orgId ?? null;
  let tierId: string | null = row?.tier ?? null;
  if (!row) {
    // The invoice came before the checkout event: the subscription's metadata (set at checkout) names org and tier.
    const meta = obj(details.metadata);
    orgId = str(meta.org_id) ?? (await orgOfCustomer(ctx, idOf(inv.customer)));
    tierId = tierById(str(meta.tier) ?? '', await effectiveCatalog(ctx.services, ctx.db))?.id ?? null;
    if (!(await orgExists(ctx.db, orgId)) || !tierId) return ignored('names no subscription of this instance');
  }
  const customerId = idOf(inv.customer);
  await upsertSubscription(ctx, { orgId: orgId!, tier: tierId!, status: 'active', customerId, subscriptionId, periodEnd, stateAt: event.created });
  await applyPlan(ctx, orgId!, tierId!, event.id);
  return { orgId };
}

async function subscriptionChanged(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  const sub = event.object;
  const subscriptionId = idOf(sub.id);
  if (!subscriptionId) return ignored('no subscription id');
  const meta = metadataOf(sub);
  const customerId = idOf(sub.customer);
  const row = await subscriptionRow(ctx, subscriptionId);
  const stale = staleFor(row, subscriptionId, event);
  if (stale) return ignored(stale, row?.orgId ?? null);
  const orgId = row?.orgId ?? str(meta.org_id) ?? (await orgOfCustomer(ctx, customerId));
  if (!(await orgExists(ctx.db, orgId))) return ignored('names no org of this instance');
  if (!row) {
    // Not the subscription we know for this org (an old one, ended or replaced): it must not move the plan.
    const [current] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.orgId, orgId!));
    if (current?.subscriptionId && current.subscriptionId !== subscriptionId) return ignored('not the org’s current subscription', orgId);
  }
  const item = obj(Array.isArray(obj(sub.items).data) ? (obj(sub.items).data as unknown[])[0] : undefined);
  const cat = await effectiveCatalog(ctx.services, ctx.db);
  const tier = tierByPrice(cat, idOf(obj(item.price).id)) ?? tierById(str(meta.tier) ?? '', cat) ?? tierById(row?.tier ?? '', cat);
  if (!tier) return ignored('names no tier of this catalog', orgId);
  const status = event.type === 'customer.subscription.deleted' ? 'canceled' : (str(sub.status) ?? 'active');
  const periodEnd = unixDate(item.current_period_end) ?? unixDate(sub.current_period_end);
  await upsertSubscription(ctx, { orgId: orgId!, tier: tier.id, status, customerId, subscriptionId, periodEnd, stateAt: event.created });
  if (ACTIVE.has(status)) await applyPlan(ctx, orgId!, tier.id, event.id);
  else if (ENDED.has(status)) await applyPlan(ctx, orgId!, DEFAULT_TIER, event.id);
  return { orgId };
}

/** The pack's credits, as they were sold (metadata set on the PaymentIntent or the Checkout Session when it was made). */
type SoldPack = { orgId: string; packId: string | null; currency: Currency; amount: number };
function packOf(o: Obj): SoldPack | null {
  const meta = metadataOf(o);
  const orgId = str(meta.org_id);
  const currency = str(meta.currency);
  const amount = Number(meta.amount);
  if (!orgId || !CURRENCIES.includes(currency as Currency) || !Number.isSafeInteger(amount) || amount <= 0) return null;
  return { orgId, packId: str(meta.pack_id), currency: currency as Currency, amount };
}

interface PackPayment {
  pack: SoldPack;
  /** What paid for it: the PaymentIntent and, for a hosted checkout, its session. */
  paymentIntent: string | null;
  checkoutSession?: string | null;
  amountCents: number | null;
  moneyCurrency: string | null;
  autoTopupChargeId?: string | null;
  /** The ledger's idempotency key: a second credit under it adds nothing. */
  idempotencyKey: string;
}

/** Credits a paid pack through the ledger, with `payment.succeeded` and the activity row; false when already credited. */
async function creditPack(ctx: Ctx, p: PackPayment): Promise<boolean> {
  const { pack } = p;
  const reference = p.checkoutSession ?? p.paymentIntent;
  const { entry, replayed } = await credit(ctx.db, {
    orgId: pack.orgId,
    currency: pack.currency,
    amount: pack.amount,
    kind: 'purchase',
    reference,
    idempotencyKey: p.idempotencyKey,
    metadata: {
      payment_intent: p.paymentIntent,
      ...(p.checkoutSession ? { checkout_session: p.checkoutSession } : {}),
      pack_id: pack.packId,
      amount_cents: p.amountCents,
      auto_topup_charge_id: p.autoTopupChargeId ?? null,
    },
  });
  if (replayed) return false;
  const data = {
    payment_intent: p.paymentIntent,
    ...(p.checkoutSession ? { checkout_session: p.checkoutSession } : {}),
    pack_id: pack.packId,
    currency: pack.currency,
    amount: pack.amount,
    amount_cents: p.amountCents,
    money_currency: p.moneyCurrency,
    auto_topup: Boolean(p.autoTopupChargeId),
  };
  await recordEvent(ctx.db, { orgId: pack.orgId, type: 'payment.succeeded', subject: p.paymentIntent ?? reference ?? undefined, data });
  await recordActivity(ctx, {
    action: 'billing.payment_succeeded',
    entityType: 'ledger_entry',
    entityId: entry.id,
    orgId: pack.orgId,
    metadata: data,
  });
  return true;
}

const cents = (v: unknown): number | null => (typeof v === 'number' ? v : null);

async function paymentSucceeded(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  const pi = event.object;
  const pack = packOf(pi);
  // Subscription invoices and pack checkouts are paid by PaymentIntents too: without our pack metadata it is not a
  // pack bought through billing.create_payment_intent (a checkout's pack is credited by its session's event).
  if (!pack) return ignored('not an Opsbase pack payment');
  if (!(await orgExists(ctx.db, pack.orgId))) return ignored('names no org of this instance');
  const piId = idOf(pi.id);
  const chargeId = str(metadataOf(pi).auto_topup_charge_id);
  const credited = await creditPack(ctx, {
    pack,
    paymentIntent: piId,
    amountCents: cents(pi.amount_received) ?? cents(pi.amount),
    moneyCurrency: str(pi.currency),
    autoTopupChargeId: chargeId,
    idempotencyKey: `stripe:${event.id}`,
  });
  if (credited && chargeId) await settleCharge(ctx.db, pack.orgId, chargeId, piId);
  return { orgId: pack.orgId };
}

/**
 * A pack bought on Stripe's checkout page: credited once the session is paid — at `checkout.session.completed` for
 * cards, at `checkout.session.async_payment_succeeded` for delayed methods (whose `completed` says `unpaid`). Once
 * per session whatever the events: the ledger entry is keyed by the session id.
 */
async function packCheckoutPaid(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  const s = event.object;
  const pack = packOf(s);
  if (!pack) return ignored('not an Opsbase pack checkout');
  const sessionId = idOf(s.id);
  if (!sessionId) return ignored('no checkout session id');
  // The session names its org three times (metadata, client_reference_id, the org's own Stripe customer): all three
  // must agree, so no session of one org can credit another.
  const reference = str(s.client_reference_id);
  if (reference !== null && reference !== pack.orgId) return ignored('its client_reference_id names another org than its metadata');
  if ((await orgOfCustomer(ctx, idOf(s.customer))) !== pack.orgId) return ignored("its customer is not the org's Stripe customer");
  if (!(await orgExists(ctx.db, pack.orgId))) return ignored('names no org of this instance');
  if (s.payment_status !== 'paid') return ignored(`not paid (payment_status ${String(s.payment_status)})`, pack.orgId);
  await creditPack(ctx, {
    pack,
    paymentIntent: idOf(s.payment_intent),
    checkoutSession: sessionId,
    amountCents: cents(s.amount_total),
    moneyCurrency: str(s.currency),
    idempotencyKey: `stripe:checkout:${sessionId}`,
  });
  return { orgId: pack.orgId };
}

async function asyncPaymentSucceeded(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  // A subscription's delayed payment is applied by its invoice.paid.
  return event.object.mode === 'payment' ? packCheckoutPaid(ctx, event) : ignored('not a pack checkout');
}

async function paymentFailed(ctx: Ctx, event: ProviderEvent): Promise<Outcome> {
  const pi = event.object;
  const pack = packOf(pi);
  const chargeId = str(metadataOf(pi).auto_topup_charge_id);
  // Only an automatic top-up has something to undo; a customer's failed attempt at checkout is theirs to retry.
  if (!pack || !chargeId) return ignored('not an automatic top-up');
  const reason = str(obj(pi.last_payment_error).message) ?? 'The payment failed.';
  await failCharge(ctx.db, { orgId: pack.orgId, chargeId, error: reason, disable: true, services: ctx.services });
  return { orgId: pack.orgId };
}

const HANDLERS: Record<string, (ctx: Ctx, event: ProviderEvent) => Promise<Outcome>> = {
  'checkout.session.completed': checkoutCompleted,
  'checkout.session.async_payment_succeeded': asyncPaymentSucceeded,
  'invoice.paid': invoicePaid,
  'customer.subscription.created': subscriptionChanged,
  'customer.subscription.updated': subscriptionChanged,
  'customer.subscription.deleted': subscriptionChanged,
  'payment_intent.succeeded': paymentSucceeded,
  'payment_intent.payment_failed': paymentFailed,
};

export async function receiveStripeWebhook(ctx: Ctx) {
  const provider = paymentProvider(ctx.services.config);
  const event = provider.verifyWebhook(ctx.request?.rawBody, ctx.request?.headers['stripe-signature']);
  const base = { received: true as const, id: event.id, type: event.type };
  const handle = HANDLERS[event.type];
  if (!handle) return { ...base, duplicate: false, ignored: true };
  // Exactly once: the first delivery inserts the row and applies the event in this same transaction; a redelivery
  // (even one running concurrently, which waits on the row) finds it and does nothing.
  const [fresh] = await ctx.db
    .insert(stripeEvents)
    .values({ id: event.id, type: event.type })
    .onConflictDoNothing()
    .returning({ id: stripeEvents.id });
  if (!fresh) return { ...base, duplicate: true, ignored: false };
  const outcome = await handle(ctx, event);
  if (outcome.orgId) await ctx.db.update(stripeEvents).set({ orgId: outcome.orgId }).where(eq(stripeEvents.id, event.id));
  if (outcome.ignored) ctx.services.log.info({ stripe_event: event.id, type: event.type, reason: outcome.ignored }, 'stripe event ignored');
  return { ...base, duplicate: false, ignored: Boolean(outcome.ignored) };
}
