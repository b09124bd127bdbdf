// Money (DESIGN §6): balances move only with an immutable ledger entry in the same transaction; holds reserve
// credits for paid operations; quotas count usage per period; domain events are recorded for what comes next.
import { sql } from 'drizzle-orm';
import { bigint, boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const amount = (name: string) => bigint(name, { mode: 'number' });

export const CURRENCIES = ['credits', 'tokens'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const LEDGER_KINDS = [
  'grant',
  'purchase',
  'bonus',
  'signup_bonus',
  'admin_grant',
  'consume',
  'hold',
  'release',
  'commit',
  'refund',
  'expire',
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** One row per org and currency: the balance and the sum of open holds, both derivable from the ledger. */
export const balances = pgTable(
  'balances',
  {
    orgId: text('org_id').notNull(),
    currency: text('currency', { enum: CURRENCIES }).notNull(),
    balance: amount('balance').notNull().default(0),
    held: amount('held').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.currency] })],
);

/**
 * Immutable. `amount` is the entry's effect on the balance, `held_delta` its effect on the open holds:
 * hold (0, +n), release/expire (0, −n), commit (−n, −n), consume (−n, 0), grants and refunds (+n, 0).
 * So sum(amount) = balance and sum(held_delta) = held, always.
 */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    currency: text('currency', { enum: CURRENCIES }).notNull(),
    kind: text('kind', { enum: LEDGER_KINDS }).notNull(),
    amount: amount('amount').notNull(),
    heldDelta: amount('held_delta').notNull().default(0),
    balanceAfter: amount('balance_after').notNull(),
    heldAfter: amount('held_after').notNull(),
    reference: text('reference'),
    holdId: text('hold_id'),
    idempotencyKey: text('idempotency_key'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('ledger_entries_org_idx').on(t.orgId, t.currency, t.id),
    uniqueIndex('ledger_entries_idem_key').on(t.orgId, t.currency, t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
  ],
);

export const HOLD_STATUSES = ['open', 'committed', 'released', 'expired'] as const;

export const holds = pgTable(
  'holds',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    currency: text('currency', { enum: CURRENCIES }).notNull(),
    amount: amount('amount').notNull(),
    status: text('status', { enum: HOLD_STATUSES }).notNull().default('open'),
    /** The operation (or job) the credits are reserved for. */
    operation: text('operation').notNull(),
    /** Exactly once: a retried request or job finds its hold instead of taking a second one. */
    idempotencyKey: text('idempotency_key').notNull(),
    reference: text('reference'),
    expiresAt: ts('expires_at').notNull(),
    settledAt: ts('settled_at'),
    /**
     * When the settlement reached the balance row and the ledger. Settling touches only the hold (so it commits
     * with the paid action without locking the wallet); posting follows, batched per wallet. Until then the
     * hold still counts in `held` — available = balance − held is exact throughout.
     */
    postedAt: ts('posted_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('holds_idem_key').on(t.orgId, t.idempotencyKey),
    // One small partial index finds both the open holds (the sweeper) and the settled ones not yet posted (the
    // poster): its predicate leaves `status` out, so settling a hold — inside the paid action's transaction — is a
    // HOT update that writes no index entry (migration 0010 also leaves room in each page for it).
    index('holds_unposted_idx').on(t.orgId, t.currency).where(sql`${t.postedAt} is null`),
  ],
);

/** Usage per org, resource, product and period (a UTC month, by its first day). */
export const quotaUsage = pgTable(
  'quota_usage',
  {
    orgId: text('org_id').notNull(),
    resource: text('resource').notNull(),
    productId: text('product_id').notNull().default(''),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    used: amount('used').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.resource, t.productId, t.periodStart] })],
);

/** A quota consume remembered by its idempotency key, so a retry returns the first answer and counts nothing. */
export const quotaConsumptions = pgTable(
  'quota_consumptions',
  {
    orgId: text('org_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    response: jsonb('response').$type<Record<string, unknown>>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  // The retention sweep deletes by age.
  (t) => [primaryKey({ columns: [t.orgId, t.idempotencyKey] }), index('quota_consumptions_created_idx').on(t.createdAt)],
);

/** The org's paid plan with the payment provider; `orgs.plan` holds the tier id itself. */
export const subscriptions = pgTable('subscriptions', {
  orgId: text('org_id').primaryKey(),
  tier: text('tier').notNull(),
  status: text('status').notNull(),
  provider: text('provider', { enum: ['manual', 'stripe'] }).notNull(),
  customerId: text('customer_id'),
  subscriptionId: text('subscription_id'),
  currentPeriodEnd: ts('current_period_end'),
  /** When the provider created the event whose state this row holds: an older event arriving late is ignored. */
  stateAt: ts('state_at'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Automatic top-up per org and currency: below `threshold`, buy `pack_id`, at most `max_per_month` times. */
export const autoTopups = pgTable(
  'auto_topups',
  {
    orgId: text('org_id').notNull(),
    currency: text('currency', { enum: CURRENCIES }).notNull(),
    enabled: boolean('enabled').notNull().default(false),
    threshold: amount('threshold').notNull(),
    packId: text('pack_id').notNull(),
    maxPerMonth: integer('max_per_month').notNull().default(3),
    paymentMethodId: text('payment_method_id'),
    month: text('month'),
    countThisMonth: integer('count_this_month').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.currency] })],
);

/** Stripe events applied, by event id: each is applied exactly once however often Stripe delivers it. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  orgId: text('org_id'),
  processedAt: ts('processed_at').notNull().defaultNow(),
});

/** Domain events, written in the transaction of the change that caused them (the outbox for webhooks etc.). */
export const events = pgTable(
  'events',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    type: text('type').notNull(),
    subject: text('subject'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** Insertion order: the dispatcher fans events out in this order (ids made in one millisecond do not sort by it). */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /** When the dispatcher fanned it out (notifications, …); null = still pending. */
    dispatchedAt: ts('dispatched_at'),
    /** Failed fan-outs of this event (a poison event is retried with backoff, then parked; the others flow). */
    dispatchAttempts: integer('dispatch_attempts').notNull().default(0),
    dispatchError: text('dispatch_error'),
    /** Not retried before this (set after a failed fan-out). */
    nextDispatchAt: ts('next_dispatch_at'),
    /** Given up on after its last attempt: never dispatched, kept with its error until pruned. */
    parkedAt: ts('parked_at'),
  },
  (t) => [
    index('events_org_idx').on(t.orgId, t.id),
    index('events_type_idx').on(t.orgId, t.type),
    index('events_pending_idx').on(t.seq).where(sql`dispatched_at is null`),
  ],
);
