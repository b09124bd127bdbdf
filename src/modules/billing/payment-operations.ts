// Online payments (Stripe) and automatic top-up: checkout for a tier or a pack, the customer portal, a PaymentIntent
// for a pack, Stripe's webhook, and the auto top-up settings for tokens and for credits.
import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { Timestamp } from '../../core/schemas.ts';
import { CURRENCIES, type Currency } from '../../db/schema/billing.ts';
import { TOPUP_CHARGE_STATUSES } from '../../db/schema/payments.ts';
import * as topup from './auto-topup.ts';
import * as payments from './payments.ts';
import { Pack } from './plan-operations.ts';
import { receiveStripeWebhook } from './stripe-webhook.ts';

const ReturnUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .optional();

const ProductId = z.string().min(1).max(63);

/** Exactly one of `tier` and `pack_id`: the server checks it (a 400 naming the field to fix); OpenAPI says it with oneOf. */
const CheckoutInput = z
  .object({
    tier: ProductId.optional().describe('Subscribe monthly to this tier (see billing.tiers). Give `tier` or `pack_id`, not both'),
    pack_id: ProductId.optional().describe('Buy this pack of credits or tokens once (see billing.pricing). Give `tier` or `pack_id`, not both'),
    success_url: ReturnUrl.describe('Where Stripe sends the payer afterwards (default: the dashboard billing page)'),
    cancel_url: ReturnUrl.describe('Where Stripe sends the payer who cancels'),
  })
  .superRefine((v, c) => {
    if (v.tier !== undefined && v.pack_id !== undefined) {
      c.addIssue({ code: 'custom', path: ['pack_id'], message: 'give either tier or pack_id, not both' });
    } else if (v.tier === undefined && v.pack_id === undefined) {
      c.addIssue({ code: 'custom', path: ['tier'], message: 'required: a tier to subscribe to, or else a pack_id to buy' });
    }
  })
  .meta({ oneOf: [{ required: ['tier'] }, { required: ['pack_id'] }] });

export const checkout = defineOperation({
  id: 'billing.checkout',
  method: 'POST',
  path: '/billing/checkout',
  summary: 'Pay on a Stripe Checkout page: subscribe to a paid tier, or buy a pack of credits or tokens (applied when Stripe confirms)',
  description:
    "Returns the URL of a Stripe-hosted checkout page. With `tier`: a monthly subscription; the org moves to the tier when Stripe's " +
    '`checkout.session.completed` webhook arrives. With `pack_id`: a one-off payment; the pack is credited once when Stripe says the ' +
    'session is paid (`checkout.session.completed`, or `checkout.session.async_payment_succeeded` for delayed methods). ' +
    '422 when online payments are not configured (the manual provider).',
  scopes: ['billing:write'],
  status: 200,
  input: CheckoutInput,
  output: z.object({
    id: z.string().describe('Stripe Checkout Session id'),
    url: z.string().describe('Open this to pay'),
    mode: z.enum(['subscription', 'payment']).describe('subscription for a tier, payment for a pack'),
    tier: z.string().nullable(),
    pack_id: z.string().nullable(),
  }),
  cli: { columns: ['mode', 'tier', 'pack_id', 'url'] },
  handler: (ctx, input) => payments.checkout(ctx, input),
});

export const portal = defineOperation({
  id: 'billing.portal',
  method: 'POST',
  path: '/billing/portal',
  summary: "Open Stripe's customer portal (payment methods, invoices, plan changes and cancellation)",
  scopes: ['billing:write'],
  status: 200,
  input: z.object({ return_url: ReturnUrl.describe('Where the portal links back to (default: the dashboard billing page)') }),
  output: z.object({ url: z.string() }),
  cli: { columns: ['url'] },
  handler: (ctx, input) => payments.portal(ctx, input),
});

export const createPaymentIntent = defineOperation({
  id: 'billing.create_payment_intent',
  method: 'POST',
  path: '/billing/payment-intents',
  // Orkosi's URL for the same call.
  aliases: ['/billing/create-payment-intent'],
  summary: 'Buy a pack of credits or tokens in your own payment form: a Stripe PaymentIntent to confirm with Stripe.js (credited when Stripe confirms)',
  description: 'For apps that embed Stripe.js. To pay on a Stripe-hosted page instead (no Stripe.js), use `billing.checkout` with `pack_id`.',
  scopes: ['billing:write'],
  status: 200,
  input: z.object({
    pack_id: z.string().min(1).max(63).describe('The pack to buy (see billing.pricing)'),
    save_payment_method: z.boolean().optional().describe('Keep the card for off-session charges (auto top-up)'),
  }),
  output: z.object({
    id: z.string().describe('Stripe PaymentIntent id'),
    client_secret: z.string().nullable().describe('For Stripe.js to confirm the payment in the browser'),
    amount_cents: z.number().int(),
    currency: z.string().describe('The money currency (ISO 4217)'),
    status: z.string(),
    pack: Pack,
  }),
  cli: { args: ['pack_id'], columns: ['id', 'amount_cents', 'currency', 'status'] },
  handler: (ctx, input) => payments.createPaymentIntent(ctx, input),
});

export const webhook = defineOperation({
  id: 'billing.webhook',
  method: 'POST',
  path: '/billing/webhook',
  summary: "Stripe's webhook (verified by its Stripe-Signature; each event applied once)",
  description:
    'Called by Stripe, not by people: the `Stripe-Signature` header is checked over the raw body with STRIPE_WEBHOOK_SECRET ' +
    '(400 when it does not verify or is older than five minutes). Each event id is applied exactly once; a redelivery answers ' +
    '`duplicate: true`; event types Opsbase does not use answer `ignored: true`.',
  auth: 'public',
  rawBody: true,
  scopes: [],
  status: 200,
  input: z.object({}),
  output: z.object({
    received: z.literal(true),
    id: z.string().describe('The Stripe event id'),
    type: z.string(),
    duplicate: z.boolean().describe('Already applied by an earlier delivery: nothing changed'),
    ignored: z.boolean().describe('Not an event Opsbase acts on'),
  }),
  handler: (ctx) => receiveStripeWebhook(ctx),
});

// ---- auto top-up ---------------------------------------------------------------------------------------------------

const Threshold = z.number().int('must be a whole number').min(0, 'must not be negative').max(1_000_000_000_000);
const MaxPerMonth = z.number().int('must be a whole number').min(1, 'at least 1').max(100, 'at most 100');
const PaymentMethodId = z
  .string()
  .regex(/^(pm|card)_[A-Za-z0-9_]{1,200}$/, 'a Stripe payment method id (pm_…)')
  .describe('A saved Stripe payment method of this org, charged off-session');

const AutoTopup = z
  .object({
    currency: z.enum(CURRENCIES),
    configured: z.boolean(),
    enabled: z.boolean(),
    threshold: z.number().int().nullable().describe('Top up when the available balance falls below this'),
    pack_id: z.string().nullable(),
    max_per_month: z.number().int().nullable().describe('Most automatic charges per calendar month (UTC)'),
    payment_method_id: z.string().nullable(),
    month: z.string().describe('The current month, YYYY-MM (UTC)'),
    used_this_month: z.number().int().describe('Automatic charges made (or in flight) this month'),
    last_charge: z
      .object({
        id: z.string(),
        status: z.enum(TOPUP_CHARGE_STATUSES),
        pack_id: z.string(),
        amount: z.number().int(),
        amount_cents: z.number().int(),
        payment_intent_id: z.string().nullable(),
        error: z.string().nullable(),
        created_at: Timestamp,
      })
      .nullable(),
    packs: z.array(Pack).describe('Packs of this currency to choose from'),
  })
  .meta({ id: 'AutoTopup' });

const ConfigureInput = z.object({
  threshold: Threshold,
  pack_id: z.string().min(1).max(63).describe('The pack bought each time'),
  enabled: z.boolean().optional().describe('Default true'),
  max_per_month: MaxPerMonth.optional().describe('Default 3'),
  payment_method_id: PaymentMethodId.optional(),
});

const UpdateInput = z.object({
  enabled: z.boolean().optional(),
  threshold: Threshold.optional(),
  pack_id: z.string().min(1).max(63).optional(),
  max_per_month: MaxPerMonth.optional(),
  payment_method_id: PaymentMethodId.nullable().optional(),
});

const COLUMNS = ['currency', 'enabled', 'threshold', 'pack_id', 'max_per_month', 'used_this_month'];

function autoTopupOperations(name: 'auto_topup' | 'credit_auto_topup', path: string, currency: Currency) {
  return [
    defineOperation({
      id: `billing.${name}.get`,
      method: 'GET',
      path,
      summary: `Automatic top-up of ${currency}: settings, this month's use and the last charge`,
      scopes: ['billing:read'],
      input: z.object({}),
      output: AutoTopup,
      cli: { columns: COLUMNS },
      handler: (ctx) => topup.getAutoTopup(ctx, currency),
    }),
    defineOperation({
      id: `billing.${name}.configure`,
      method: 'POST',
      path,
      summary: `Set up automatic top-up of ${currency} (409 when already set up: update it instead)`,
      description: `Below \`threshold\` available ${currency}, the pack is bought off-session with the saved payment method, at most \`max_per_month\` times per calendar month.`,
      scopes: ['billing:write'],
      input: ConfigureInput,
      output: AutoTopup,
      cli: { columns: COLUMNS },
      handler: (ctx, input) => topup.configureAutoTopup(ctx, currency, input),
    }),
    defineOperation({
      id: `billing.${name}.update`,
      method: 'PATCH',
      path,
      summary: `Change automatic top-up of ${currency} (enable, disable, threshold, pack, monthly cap, payment method)`,
      scopes: ['billing:write'],
      input: UpdateInput,
      output: AutoTopup,
      cli: { columns: COLUMNS },
      handler: (ctx, input) => topup.updateAutoTopup(ctx, currency, input),
    }),
  ];
}

export const paymentOperations = [
  checkout,
  portal,
  createPaymentIntent,
  webhook,
  ...autoTopupOperations('auto_topup', '/billing/auto-topup', 'tokens'),
  ...autoTopupOperations('credit_auto_topup', '/billing/credit-auto-topup', 'credits'),
];
