// Online payments (Stripe): the org ↔ customer mapping, and the off-session charges auto top-up makes.
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { CURRENCIES } from './billing.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The Stripe customer of an org: made on its first checkout / payment, reused for the portal and off-session charges. */
export const stripeCustomers = pgTable('stripe_customers', {
  orgId: text('org_id').primaryKey(),
  customerId: text('customer_id').notNull().unique(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const TOPUP_CHARGE_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type TopupChargeStatus = (typeof TOPUP_CHARGE_STATUSES)[number];

/**
 * One automatic top-up: `pending` from the moment it is decided (before Stripe is called, so a crash in between is
 * retried with the same Stripe idempotency key, never charged twice) until the payment's webhook settles it.
 * At most one pending charge per org and currency.
 */
export const autoTopupCharges = pgTable(
  'auto_topup_charges',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    currency: text('currency', { enum: CURRENCIES }).notNull(),
    packId: text('pack_id').notNull(),
    /** Credits or tokens the pack adds. */
    amount: bigint('amount', { mode: 'number' }).notNull(),
    priceCents: integer('price_cents').notNull(),
    /** The UTC calendar month it counts against (`YYYY-MM`). */
    month: text('month').notNull(),
    status: text('status', { enum: TOPUP_CHARGE_STATUSES }).notNull().default('pending'),
    paymentIntentId: text('payment_intent_id').unique(),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('auto_topup_charges_org_idx').on(t.orgId, t.currency, t.createdAt),
    uniqueIndex('auto_topup_charges_one_pending').on(t.orgId, t.currency).where(sql`${t.status} = 'pending'`),
  ],
);
