// Reading the wallets and their ledger, spending tokens, and instance-admin grants.
import { and, eq, gte, lt } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid, notFound } from '../../core/errors.ts';
import { type PageInput, listNewestFirst } from '../../core/pagination.ts';
import { autoTopups, type Currency, type LedgerKind, ledgerEntries } from '../../db/schema/billing.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { recordActivity } from '../activity/record.ts';
import { balanceOf, consume, credit, type EntryRow } from './ledger.ts';

export function presentEntry(e: EntryRow) {
  return {
    id: e.id,
    currency: e.currency,
    type: e.kind,
    amount: e.amount,
    held_delta: e.heldDelta,
    balance_after: e.balanceAfter,
    held_after: e.heldAfter,
    reference: e.reference,
    hold_id: e.holdId,
    metadata: e.metadata,
    created_at: e.createdAt.toISOString(),
  };
}

async function autoTopupOf(ctx: Ctx, currency: Currency) {
  const [row] = await ctx.db
    .select()
    .from(autoTopups)
    .where(and(eq(autoTopups.orgId, requireOrg(ctx)), eq(autoTopups.currency, currency)));
  return row ? { enabled: row.enabled, threshold: row.threshold, pack_id: row.packId, max_per_month: row.maxPerMonth } : { enabled: false };
}

export async function wallet(ctx: Ctx) {
  const orgId = requireOrg(ctx);
  const b = await balanceOf(ctx.db, orgId, 'credits');
  const [org] = await ctx.db.select({ plan: orgs.plan }).from(orgs).where(eq(orgs.id, orgId));
  return {
    currency: 'credits' as const,
    balance: b.balance,
    available: b.available,
    holds: b.held,
    funding: ctx.services.config.STRIPE_SECRET_KEY ? ('stripe' as const) : ('manual' as const),
    plan: org?.plan ?? 'free',
    auto_recharge: await autoTopupOf(ctx, 'credits'),
  };
}

export async function tokenBalance(ctx: Ctx) {
  const b = await balanceOf(ctx.db, requireOrg(ctx), 'tokens');
  return { currency: 'tokens' as const, balance: b.balance, available: b.available, holds: b.held, auto_topup: await autoTopupOf(ctx, 'tokens') };
}

export interface TransactionsInput extends PageInput {
  currency?: Currency;
  type?: LedgerKind;
  since?: string;
  until?: string;
}

/** Both wallets' ledgers, or one's, newest first; `since` inclusive, `until` exclusive. */
export async function transactions(ctx: Ctx, input: TransactionsInput) {
  const since = input.since ? new Date(input.since) : undefined;
  const until = input.until ? new Date(input.until) : undefined;
  if (since && until && since >= until) {
    throw invalid('`until` must be later than `since`.', [{ field: 'until', location: 'query', message: 'must be later than since' }]);
  }
  return listNewestFirst(
    ctx.db,
    ledgerEntries,
    input,
    [
      eq(ledgerEntries.orgId, requireOrg(ctx)),
      input.currency ? eq(ledgerEntries.currency, input.currency) : undefined,
      input.type ? eq(ledgerEntries.kind, input.type) : undefined,
      since ? gte(ledgerEntries.createdAt, since) : undefined,
      until ? lt(ledgerEntries.createdAt, until) : undefined,
    ],
    presentEntry,
  );
}

export async function consumeTokens(ctx: Ctx, input: { amount: number; action: string; reference_id: string; metadata?: Record<string, unknown> }) {
  const orgId = requireOrg(ctx);
  const { entry, replayed } = await consume(ctx.db, {
    orgId,
    currency: 'tokens',
    amount: input.amount,
    reference: input.action,
    idempotencyKey: `consume:${input.reference_id}`,
    metadata: { ...input.metadata, action: input.action, reference_id: input.reference_id },
  });
  if (!replayed)
    await recordActivity(ctx, {
      action: 'tokens.consumed',
      entityType: 'ledger_entry',
      entityId: entry.id,
      metadata: { amount: input.amount, action: input.action },
    });
  const b = await balanceOf(ctx.db, orgId, 'tokens');
  return { ...presentEntry(entry), replayed, balance: b.balance, available: b.available };
}

export async function adminGrant(
  ctx: Ctx,
  input: { org: string; credits?: number; tokens?: number; reason?: string | null; idempotency_key?: string | null },
) {
  if ((input.credits === undefined) === (input.tokens === undefined)) {
    throw invalid('Give either `credits` or `tokens` (one of them).', [{ field: 'credits', message: 'exactly one of credits, tokens' }]);
  }
  const currency: Currency = input.credits !== undefined ? 'credits' : 'tokens';
  const amount = (input.credits ?? input.tokens)!;
  const [org] = await ctx.db.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, input.org));
  if (!org) throw notFound('Org');
  const { entry, replayed } = await credit(ctx.db, {
    orgId: org.id,
    currency,
    amount,
    kind: 'admin_grant',
    reference: input.reason ?? null,
    idempotencyKey: input.idempotency_key ? `grant:${input.idempotency_key}` : null,
    metadata: { granted_by: ctx.actorId },
  });
  if (!replayed) {
    await recordActivity(ctx, {
      action: 'billing.granted',
      entityType: 'ledger_entry',
      entityId: entry.id,
      orgId: org.id,
      metadata: { currency, amount },
    });
  }
  const b = await balanceOf(ctx.db, org.id, currency);
  return { ...presentEntry(entry), replayed, balance: b.balance, available: b.available };
}
