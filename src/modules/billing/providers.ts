// Payment providers (issue 3, Payments): `manual` when no Stripe key is configured (an instance admin grants
// credits), `stripe` when STRIPE_SECRET_KEY is set. The provider only talks to the outside world; what a payment
// means for an org (customers, plans, credits) lives in payments.ts, stripe-webhook.ts and auto-topup.ts.
import Stripe from 'stripe';
import type { Config } from '../../config.ts';
import { AppError, invalid, unprocessable } from '../../core/errors.ts';
import { VERSION } from '../../version.ts';
import type { Pack, Tier } from './plans.ts';

export type ProviderName = 'manual' | 'stripe';

/** A payment call that did not go through; `declined` when the customer's bank or card said no (retrying won't help). */
export class PaymentError extends AppError {
  readonly declined: boolean;
  constructor(code: 'unprocessable' | 'unavailable', message: string, declined: boolean, details?: unknown) {
    super(code, message, details);
    this.declined = declined;
  }
}

export interface CheckoutArgs {
  orgId: string;
  customerId: string;
  tier: Tier;
  /** Money currency of the catalog (ISO 4217, lowercase). */
  currency: string;
  successUrl: string;
  cancelUrl: string;
}

export interface PackCheckoutArgs {
  orgId: string;
  customerId: string;
  pack: Pack;
  currency: string;
  /** What the webhook credits: org, pack, currency and amount as sold (payments.packMetadata). */
  metadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
}

export interface PaymentIntentArgs {
  orgId: string;
  customerId: string;
  pack: Pack;
  currency: string;
  /** Charge a saved payment method now, with nobody present (auto top-up). */
  offSession?: { paymentMethodId: string };
  /** Save the card the customer pays with for later off-session charges (auto top-up). */
  saveForLater?: boolean;
  /** Stripe's Idempotency-Key: a retry with the same key returns the first PaymentIntent, never a second charge. */
  idempotencyKey?: string;
  metadata?: Record<string, string>;
}

export interface CreatedPaymentIntent {
  id: string;
  client_secret: string | null;
  status: string;
  amount: number;
}

/** A verified webhook event, in the shape we read (objects are read field by field: API versions differ). */
export interface ProviderEvent {
  id: string;
  type: string;
  /** When the provider created the event (its `created`); events can arrive out of order. */
  created: Date | null;
  object: Record<string, unknown>;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  createCustomer(args: { orgId: string; orgName: string }): Promise<string>;
  createCheckout(args: CheckoutArgs): Promise<{ id: string; url: string }>;
  /** A one-off Checkout Session (`mode: payment`) for a pack, credited by its `checkout.session.*` webhook. */
  createPackCheckout(args: PackCheckoutArgs): Promise<{ id: string; url: string }>;
  createPortal(args: { customerId: string; returnUrl: string }): Promise<{ url: string }>;
  createPaymentIntent(args: PaymentIntentArgs): Promise<CreatedPaymentIntent>;
  /** The customer a payment method belongs to (null: none yet); 422 when Stripe does not know it. */
  paymentMethodCustomer(paymentMethodId: string): Promise<string | null>;
  attachPaymentMethod(paymentMethodId: string, customerId: string): Promise<void>;
  /** Checks the signature over the exact bytes received; 400 when it does not verify. */
  verifyWebhook(rawBody: Buffer | undefined, signature: string | string[] | undefined): ProviderEvent;
}

export function paymentsNotConfigured(): AppError {
  return unprocessable(
    'Online payments are not configured on this instance (no STRIPE_SECRET_KEY). An instance admin grants credits with ' +
      '`opsbase billing grant --org <org id> --credits <n>`.',
    { provider: 'manual' },
  );
}

const notConfigured = async (): Promise<never> => {
  throw paymentsNotConfigured();
};

export const manualProvider: PaymentProvider = {
  name: 'manual',
  createCustomer: notConfigured,
  createCheckout: notConfigured,
  createPackCheckout: notConfigured,
  createPortal: notConfigured,
  createPaymentIntent: notConfigured,
  paymentMethodCustomer: notConfigured,
  attachPaymentMethod: notConfigured,
  verifyWebhook: () => {
    throw unprocessable('Stripe webhooks are not configured on this instance (no STRIPE_SECRET_KEY).', { provider: 'manual' });
  },
};

/** Stripe's errors as ours: the customer's own problem (422) or the provider being unreachable (503). Never 500. */
function translate(err: unknown): never {
  if (!(err instanceof Stripe.errors.StripeError)) throw err;
  if (err instanceof Stripe.errors.StripeCardError) {
    throw new PaymentError('unprocessable', `The payment was declined: ${err.message}`, true, { code: err.code, decline_code: err.decline_code });
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeIdempotencyError) {
    throw new PaymentError('unprocessable', `Stripe refused the request: ${err.message}`, false, { code: err.code, param: err.param });
  }
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
    // The instance's key is wrong: nothing the caller can fix, and the key itself is never echoed.
    throw new PaymentError('unavailable', 'Payments are misconfigured on this instance (Stripe rejected its secret key).', false);
  }
  throw new PaymentError('unavailable', 'The payment provider did not answer. Retry shortly.', false);
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    translate(err);
  }
}

function hosted(session: { id: string; url: string | null }): { id: string; url: string } {
  if (!session.url) throw new PaymentError('unavailable', 'Stripe returned a checkout session without a URL.', false);
  return { id: session.id, url: session.url };
}

const idOf = (v: unknown): string | null => (typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String(v.id) : null);

export function stripeProvider(cfg: Config): PaymentProvider {
  const base = cfg.OPSBASE_STRIPE_API_BASE ? new URL(cfg.OPSBASE_STRIPE_API_BASE) : undefined;
  const protocol = base?.protocol === 'http:' ? 'http' : 'https';
  const stripe = new Stripe(cfg.STRIPE_SECRET_KEY!, {
    // Retries are safe: the SDK sends one idempotency key per call and reuses it on its retries.
    maxNetworkRetries: 2,
    // Well under the two minutes after which auto top-up retries a charge whose call never returned.
    timeout: 30_000,
    appInfo: { name: 'Opsbase', version: VERSION },
    ...(base ? { host: base.hostname, port: base.port || (protocol === 'http' ? 80 : 443), protocol } : {}),
  });
  const webhookSecret = cfg.STRIPE_WEBHOOK_SECRET;

  return {
    name: 'stripe',

    createCustomer: ({ orgId, orgName }) =>
      call(async () => {
        // Keyed by org: a request retried after a rollback finds the customer it already made (within Stripe's 24 h).
        const customer = await stripe.customers.create(
          { name: orgName, metadata: { org_id: orgId } },
          { idempotencyKey: `opsbase-customer-${orgId}` },
        );
        return customer.id;
      }),

    createCheckout: ({ orgId, customerId, tier, currency, successUrl, cancelUrl }) =>
      call(async () => {
        const metadata = { org_id: orgId, tier: tier.id };
        const session = await stripe.checkout.sessions.create({
          mode: 'subscription',
          customer: customerId,
          client_reference_id: orgId,
          // The tier's Stripe price when the catalog names one; otherwise its catalog price, monthly.
          line_items: [
            tier.stripe_price_id
              ? { price: tier.stripe_price_id, quantity: 1 }
              : {
                  price_data: {
                    currency,
                    unit_amount: tier.price_cents,
                    recurring: { interval: 'month' },
                    product_data: { name: `Opsbase ${tier.name}` },
                  },
                  quantity: 1,
                },
          ],
          metadata,
          // On the subscription too, so its later events name the org and tier even before the checkout event lands.
          subscription_data: { metadata },
          success_url: successUrl,
          cancel_url: cancelUrl,
        });
        return hosted(session);
      }),

    createPackCheckout: ({ orgId, customerId, pack, currency, metadata, successUrl, cancelUrl }) =>
      call(async () => {
        const name = `Opsbase ${pack.name ?? `${pack.amount} ${pack.currency}`}`;
        const session = await stripe.checkout.sessions.create({
          mode: 'payment',
          customer: customerId,
          client_reference_id: orgId,
          line_items: [
            pack.stripe_price_id
              ? { price: pack.stripe_price_id, quantity: 1 }
              : { price_data: { currency, unit_amount: pack.price_cents, product_data: { name } }, quantity: 1 },
          ],
          // On the session only: its PaymentIntent carries no pack metadata, so payment_intent.succeeded (which
          // credits PaymentIntents made by billing.create_payment_intent) leaves it alone and the pack is credited once.
          metadata,
          payment_intent_data: { description: name },
          success_url: successUrl,
          cancel_url: cancelUrl,
        });
        return hosted(session);
      }),

    createPortal: ({ customerId, returnUrl }) =>
      call(async () => {
        const session = await stripe.billingPortal.sessions.create({ customer: customerId, return_url: returnUrl });
        return { url: session.url };
      }),

    createPaymentIntent: ({ customerId, pack, currency, offSession, saveForLater, idempotencyKey, metadata }) =>
      call(async () => {
        const pi = await stripe.paymentIntents.create(
          {
            amount: pack.price_cents,
            currency,
            customer: customerId,
            description: `Opsbase ${pack.name ?? `${pack.amount} ${pack.currency}`}`,
            metadata,
            ...(offSession
              ? { payment_method: offSession.paymentMethodId, off_session: true, confirm: true }
              : { automatic_payment_methods: { enabled: true }, ...(saveForLater ? { setup_future_usage: 'off_session' as const } : {}) }),
          },
          idempotencyKey ? { idempotencyKey } : undefined,
        );
        return { id: pi.id, client_secret: pi.client_secret, status: pi.status, amount: pi.amount };
      }),

    paymentMethodCustomer: (paymentMethodId) =>
      call(async () => {
        const pm = await stripe.paymentMethods.retrieve(paymentMethodId);
        return idOf(pm.customer);
      }),

    attachPaymentMethod: (paymentMethodId, customerId) =>
      call(async () => {
        await stripe.paymentMethods.attach(paymentMethodId, { customer: customerId });
      }),

    verifyWebhook(rawBody, signature) {
      if (!webhookSecret) throw unprocessable('Stripe webhooks are not configured on this instance: set STRIPE_WEBHOOK_SECRET.');
      if (!rawBody?.length) throw invalid('The webhook has no body.');
      if (typeof signature !== 'string' || !signature) throw invalid('The webhook carries no Stripe-Signature header.');
      let event: Stripe.Event;
      try {
        // Checks the HMAC over the raw bytes and that the timestamp is within Stripe's tolerance (5 minutes).
        event = stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeSignatureVerificationError) throw invalid(`The Stripe-Signature does not verify: ${err.message}`);
        throw invalid('The webhook body is not a Stripe event.');
      }
      const object = (event.data as { object?: unknown } | undefined)?.object;
      if (typeof event.id !== 'string' || typeof event.type !== 'string' || !object || typeof object !== 'object') {
        throw invalid('The webhook body is not a Stripe event (id, type and data.object are required).');
      }
      const created = typeof event.created === 'number' && event.created > 0 ? new Date(event.created * 1000) : null;
      return { id: event.id, type: event.type, created, object: object as Record<string, unknown> };
    },
  };
}

// One provider per configuration (a process has one; tests run apps with different settings side by side).
const providers = new WeakMap<Config, PaymentProvider>();

/** The configured payment provider: Stripe when STRIPE_SECRET_KEY is set, else manual. */
export function paymentProvider(cfg: Config): PaymentProvider {
  let p = providers.get(cfg);
  if (!p) {
    p = cfg.STRIPE_SECRET_KEY ? stripeProvider(cfg) : manualProvider;
    providers.set(cfg, p);
  }
  return p;
}
