// Paying online: a Stripe checkout for a tier or a pack, the customer portal, a PaymentIntent for a pack. The org's Stripe
// customer is made on first use and kept in stripe_customers. Credits and plans change only when Stripe's signed
// webhook says the money moved (stripe-webhook.ts), never on the word of the client.
import { and, eq, isNull } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import type { DbOrTx } from '../../db/client.ts';
import { subscriptions } from '../../db/schema/billing.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { stripeCustomers } from '../../db/schema/payments.ts';
import { recordActivity } from '../activity/record.ts';
import { effectiveCatalog } from './catalog-store.ts';
import { type Pack, packById, presentPack, tierById } from './plans.ts';
import { type PaymentProvider, paymentProvider, paymentsNotConfigured } from './providers.ts';

/** Subscription statuses in which the org still has a Stripe subscription (a second checkout would double-bill). */
export const LIVE_SUBSCRIPTION = ['active', 'trialing', 'past_due', 'incomplete', 'unpaid'];

/** The provider for an operation that needs online payments: 422 with the manual-grant hint when there is none. */
export function onlineProvider(ctx: Ctx): PaymentProvider {
  const provider = paymentProvider(ctx.services.config);
  if (provider.name === 'manual') throw paymentsNotConfigured();
  return provider;
}

export async function stripeCustomerOf(db: DbOrTx, orgId: string): Promise<string | undefined> {
  const [row] = await db.select({ customerId: stripeCustomers.customerId }).from(stripeCustomers).where(eq(stripeCustomers.orgId, orgId));
  return row?.customerId;
}

/** Remembers an org's customer; the first one stays (a second would split its payment methods). */
export async function rememberCustomer(db: DbOrTx, orgId: string, customerId: string): Promise<void> {
  await db.insert(stripeCustomers).values({ orgId, customerId }).onConflictDoNothing();
}

/** The org's Stripe customer, made on first use. */
export async function ensureCustomer(ctx: Ctx, provider: PaymentProvider): Promise<string> {
  const orgId = requireOrg(ctx);
  const known = await stripeCustomerOf(ctx.db, orgId);
  if (known) return known;
  const [org] = await ctx.db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, orgId));
  if (!org) throw notFound('Org');
  const customerId = await provider.createCustomer({ orgId, orgName: org.name });
  await rememberCustomer(ctx.db, orgId, customerId);
  // A concurrent request may have stored its own first: use whichever is stored.
  return (await stripeCustomerOf(ctx.db, orgId)) ?? customerId;
}

function publicBase(ctx: Ctx): string {
  return (ctx.services.config.OPSBASE_PUBLIC_URL ?? `http://localhost:${ctx.services.config.PORT}`).replace(/\/+$/, '');
}

export interface CheckoutInput {
  tier?: string;
  pack_id?: string;
  success_url?: string;
  cancel_url?: string;
}

/**
 * A Stripe-hosted checkout page: a monthly subscription for a tier, or a one-off payment for a pack (the input
 * schema lets exactly one of them through). Nothing changes until Stripe's webhook says the money moved.
 */
export async function checkout(ctx: Ctx, input: CheckoutInput) {
  const provider = onlineProvider(ctx);
  const base = publicBase(ctx);
  const urls = {
    successUrl: input.success_url ?? `${base}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: input.cancel_url ?? `${base}/billing?checkout=cancelled`,
  };
  return input.pack_id !== undefined ? checkoutPack(ctx, provider, input.pack_id, urls) : checkoutTier(ctx, provider, input.tier ?? '', urls);
}

type ReturnUrls = { successUrl: string; cancelUrl: string };

async function checkoutTier(ctx: Ctx, provider: PaymentProvider, tierId: string, urls: ReturnUrls) {
  const orgId = requireOrg(ctx);
  const cat = await effectiveCatalog(ctx.services, ctx.db);
  const tier = tierById(tierId, cat);
  if (!tier) throw notFound(`Tier \`${tierId}\``);
  if (tier.price_cents <= 0 && !tier.stripe_price_id) {
    throw unprocessable(`The \`${tier.id}\` tier costs nothing: switch to it with \`billing.change_plan\` (tier ${tier.id}).`, {
      tier: tier.id,
      use: 'billing.change_plan',
    });
  }
  const [sub] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.orgId, orgId));
  if (sub?.provider === 'stripe' && sub.subscriptionId && LIVE_SUBSCRIPTION.includes(sub.status)) {
    throw unprocessable(
      `This org already pays for the \`${sub.tier}\` tier through a Stripe subscription: change or cancel it in the customer portal (\`billing.portal\`).`,
      { tier: sub.tier, use: 'billing.portal' },
    );
  }
  const customerId = await ensureCustomer(ctx, provider);
  const session = await provider.createCheckout({ orgId, customerId, tier, currency: cat.currency, ...urls });
  await recordActivity(ctx, {
    action: 'billing.checkout_started',
    entityType: 'checkout_session',
    entityId: session.id,
    metadata: { tier: tier.id },
  });
  return { id: session.id, url: session.url, mode: 'subscription' as const, tier: tier.id, pack_id: null };
}

async function checkoutPack(ctx: Ctx, provider: PaymentProvider, packId: string, urls: ReturnUrls) {
  const orgId = requireOrg(ctx);
  const pack = await sellablePack(ctx, packId);
  const customerId = await ensureCustomer(ctx, provider);
  const currency = (await effectiveCatalog(ctx.services, ctx.db)).currency;
  const session = await provider.createPackCheckout({ orgId, customerId, pack, currency, metadata: packMetadata(orgId, pack), ...urls });
  await recordActivity(ctx, {
    action: 'billing.checkout_started',
    entityType: 'checkout_session',
    entityId: session.id,
    metadata: { pack_id: pack.id },
  });
  return { id: session.id, url: session.url, mode: 'payment' as const, tier: null, pack_id: pack.id };
}

export async function portal(ctx: Ctx, input: { return_url?: string }) {
  const provider = onlineProvider(ctx);
  const customerId = await stripeCustomerOf(ctx.db, requireOrg(ctx));
  if (!customerId) {
    throw unprocessable(
      'This org has no Stripe customer yet: subscribe to a tier or buy a pack with `billing.checkout` first.',
    );
  }
  return provider.createPortal({ customerId, returnUrl: input.return_url ?? `${publicBase(ctx)}/billing` });
}

/**
 * Metadata the webhook credits from (the pack as it was sold, whatever the catalog says later): on a PaymentIntent
 * (`payment_intent.succeeded`) or on a pack's Checkout Session (`checkout.session.completed`), never on both.
 */
export function packMetadata(orgId: string, pack: Pack): Record<string, string> {
  return { org_id: orgId, pack_id: pack.id, currency: pack.currency, amount: String(pack.amount) };
}

export async function sellablePack(ctx: Ctx, packId: string): Promise<Pack> {
  const pack = packById(packId, await effectiveCatalog(ctx.services, ctx.db));
  if (!pack) throw notFound(`Pack \`${packId}\``);
  if (pack.price_cents <= 0) throw unprocessable(`The pack \`${pack.id}\` has no price: it cannot be bought online.`, { pack_id: pack.id });
  return pack;
}

export async function createPaymentIntent(ctx: Ctx, input: { pack_id: string; save_payment_method?: boolean }) {
  const provider = onlineProvider(ctx);
  const orgId = requireOrg(ctx);
  const pack = await sellablePack(ctx, input.pack_id);
  const customerId = await ensureCustomer(ctx, provider);
  const currency = (await effectiveCatalog(ctx.services, ctx.db)).currency;
  const pi = await provider.createPaymentIntent({
    orgId,
    customerId,
    pack,
    currency,
    saveForLater: input.save_payment_method ?? false,
    metadata: packMetadata(orgId, pack),
  });
  await recordActivity(ctx, { action: 'billing.payment_started', entityType: 'payment_intent', entityId: pi.id, metadata: { pack_id: pack.id } });
  return { id: pi.id, client_secret: pi.client_secret, amount_cents: pi.amount, currency, status: pi.status, pack: presentPack(pack) };
}

/** Whether an org exists and is not deleted (webhooks name orgs by metadata; a deleted org's late events are ignored). */
export async function orgExists(db: DbOrTx, orgId: string | null | undefined): Promise<boolean> {
  if (!orgId) return false;
  const [row] = await db
    .select({ id: orgs.id })
    .from(orgs)
    .where(and(eq(orgs.id, orgId), isNull(orgs.deletedAt)));
  return Boolean(row);
}
