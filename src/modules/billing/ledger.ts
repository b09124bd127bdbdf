// The ledger (DESIGN §6). Every change of a balance locks the org's balance row, appends one immutable entry
// and updates the row in the same transaction, so sum(entries) = balance and no two writers interleave.
// Holds reserve credits before a paid action; available = balance − held never goes below zero.
// Every function taking `tx` must be called inside a transaction: the row lock lasts until it ends.
import { and, eq, sql } from 'drizzle-orm';
import { AppError, notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { balances, type Currency, holds, type LedgerKind, ledgerEntries } from '../../db/schema/billing.ts';
import { recordEvent } from '../events/record.ts';

/** Below this many available credits after a debit, `credits.low` is recorded. */
export const LOW_CREDITS_THRESHOLD = 10;

export type HoldRow = typeof holds.$inferSelect;
export type EntryRow = typeof ledgerEntries.$inferSelect;

interface Locked {
  balance: number;
  held: number;
}

async function lockBalance(db: DbOrTx, orgId: string, currency: Currency): Promise<Locked> {
  await db.insert(balances).values({ orgId, currency }).onConflictDoNothing();
  const [row] = await db
    .select({ balance: balances.balance, held: balances.held })
    .from(balances)
    .where(and(eq(balances.orgId, orgId), eq(balances.currency, currency)))
    .for('update');
  return row;
}

interface EntryInput {
  orgId: string;
  currency: Currency;
  kind: LedgerKind;
  amount: number;
  heldDelta?: number;
  reference?: string | null;
  holdId?: string | null;
  idempotencyKey?: string | null;
  metadata?: Record<string, unknown>;
}

/** Appends an entry to a balance already locked by the caller, and moves the balance row with it. */
async function append(db: DbOrTx, locked: Locked, e: EntryInput): Promise<EntryRow> {
  const balanceAfter = locked.balance + e.amount;
  const heldAfter = locked.held + (e.heldDelta ?? 0);
  const [entry] = await db
    .insert(ledgerEntries)
    .values({
      id: newId('ledger'),
      orgId: e.orgId,
      currency: e.currency,
      kind: e.kind,
      amount: e.amount,
      heldDelta: e.heldDelta ?? 0,
      balanceAfter,
      heldAfter,
      reference: e.reference ?? null,
      holdId: e.holdId ?? null,
      idempotencyKey: e.idempotencyKey ?? null,
      metadata: e.metadata ?? {},
    })
    .returning();
  await db
    .update(balances)
    .set({ balance: balanceAfter, held: heldAfter, updatedAt: new Date() })
    .where(and(eq(balances.orgId, e.orgId), eq(balances.currency, e.currency)));
  locked.balance = balanceAfter;
  locked.held = heldAfter;
  return entry;
}

async function entryByKey(db: DbOrTx, orgId: string, currency: Currency, key: string): Promise<EntryRow | undefined> {
  const [row] = await db
    .select()
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.orgId, orgId), eq(ledgerEntries.currency, currency), eq(ledgerEntries.idempotencyKey, key)));
  return row;
}

export function outOfCredits(currency: Currency, needed: number, available: number): AppError {
  const how =
    currency === 'credits'
      ? 'Top up with `opsbase billing checkout` (or ask an instance admin: `opsbase billing grant`), or enable auto top-up.'
      : 'Buy a token pack or enable token auto top-up.';
  return new AppError('out_of_credits', `Not enough ${currency}: this needs ${needed}, ${available} available. ${how}`, {
    currency,
    needed,
    available,
  });
}

/** After a debit: record `credits.low` / `credits.exhausted` when the available balance crosses a threshold. */
async function noteLowBalance(db: DbOrTx, orgId: string, currency: Currency, before: number, after: number) {
  if (currency !== 'credits') return;
  if (after <= 0 && before > 0) await recordEvent(db, { orgId, type: 'credits.exhausted', subject: orgId, data: { available: after } });
  else if (after < LOW_CREDITS_THRESHOLD && before >= LOW_CREDITS_THRESHOLD) {
    await recordEvent(db, { orgId, type: 'credits.low', subject: orgId, data: { available: after, threshold: LOW_CREDITS_THRESHOLD } });
  }
}

export interface CreditInput {
  orgId: string;
  currency: Currency;
  amount: number;
  kind: Extract<LedgerKind, 'grant' | 'purchase' | 'bonus' | 'signup_bonus' | 'admin_grant' | 'refund'>;
  reference?: string | null;
  idempotencyKey?: string | null;
  metadata?: Record<string, unknown>;
}

/** Adds to a balance. With an idempotency key, a repeat returns the first entry and adds nothing. */
export async function credit(db: DbOrTx, input: CreditInput): Promise<{ entry: EntryRow; replayed: boolean }> {
  if (!Number.isInteger(input.amount) || input.amount <= 0) throw unprocessable('The amount must be a positive whole number.');
  const locked = await lockBalance(db, input.orgId, input.currency);
  if (input.idempotencyKey) {
    const existing = await entryByKey(db, input.orgId, input.currency, input.idempotencyKey);
    if (existing) return { entry: existing, replayed: true };
  }
  return { entry: await append(db, locked, { ...input }), replayed: false };
}

export interface DebitInput {
  orgId: string;
  currency: Currency;
  amount: number;
  reference?: string | null;
  idempotencyKey?: string | null;
  metadata?: Record<string, unknown>;
}

/** Spends from the available balance at once (no hold): 402 when it is short. Idempotent on its key. */
export async function consume(db: DbOrTx, input: DebitInput): Promise<{ entry: EntryRow; replayed: boolean }> {
  if (!Number.isInteger(input.amount) || input.amount <= 0) throw unprocessable('The amount must be a positive whole number.');
  const locked = await lockBalance(db, input.orgId, input.currency);
  if (input.idempotencyKey) {
    const existing = await entryByKey(db, input.orgId, input.currency, input.idempotencyKey);
    if (existing) return { entry: existing, replayed: true };
  }
  const available = locked.balance - locked.held;
  if (available < input.amount) throw outOfCredits(input.currency, input.amount, available);
  const entry = await append(db, locked, { ...input, kind: 'consume', amount: -input.amount });
  await noteLowBalance(db, input.orgId, input.currency, available, available - input.amount);
  return { entry, replayed: false };
}

export interface HoldInput {
  orgId: string;
  currency?: Currency;
  amount: number;
  operation: string;
  /** The request's Idempotency-Key or the job id: a retry finds this hold instead of taking another. */
  idempotencyKey: string;
  ttlSeconds: number;
  reference?: string | null;
}

/** Reserves credits for a paid action: 402 when available < amount. Returns the existing hold for a known key. */
export async function reserve(db: DbOrTx, input: HoldInput): Promise<{ hold: HoldRow; replayed: boolean }> {
  const currency = input.currency ?? 'credits';
  if (!Number.isInteger(input.amount) || input.amount <= 0) throw unprocessable('A hold must be a positive whole number.');
  const locked = await lockBalance(db, input.orgId, currency);
  const [existing] = await db
    .select()
    .from(holds)
    .where(and(eq(holds.orgId, input.orgId), eq(holds.idempotencyKey, input.idempotencyKey)));
  if (existing) return { hold: existing, replayed: true };
  const available = locked.balance - locked.held;
  if (available < input.amount) throw outOfCredits(currency, input.amount, available);
  const [hold] = await db
    .insert(holds)
    .values({
      id: newId('hold'),
      orgId: input.orgId,
      currency,
      amount: input.amount,
      operation: input.operation,
      idempotencyKey: input.idempotencyKey,
      reference: input.reference ?? null,
      expiresAt: sql`now() + make_interval(secs => ${input.ttlSeconds})`,
    })
    .returning();
  await append(db, locked, {
    orgId: input.orgId,
    currency,
    kind: 'hold',
    amount: 0,
    heldDelta: input.amount,
    holdId: hold.id,
    reference: input.operation,
  });
  await noteLowBalance(db, input.orgId, currency, available, available - input.amount);
  return { hold, replayed: false };
}

/** Settles an open hold: `commit` spends it, `release` / `expire` give it back. A settled hold is left as it is. */
export async function settle(db: DbOrTx, holdId: string, outcome: 'commit' | 'release' | 'expire'): Promise<HoldRow> {
  const [found] = await db.select().from(holds).where(eq(holds.id, holdId));
  if (!found) throw notFound('Hold');
  const locked = await lockBalance(db, found.orgId, found.currency);
  // Re-read under the balance lock: a concurrent settle or the sweeper may have got there first.
  const [hold] = await db.select().from(holds).where(eq(holds.id, holdId)).for('update');
  if (hold.status !== 'open') return hold;
  await append(db, locked, {
    orgId: hold.orgId,
    currency: hold.currency,
    kind: outcome,
    amount: outcome === 'commit' ? -hold.amount : 0,
    heldDelta: -hold.amount,
    holdId: hold.id,
    reference: hold.operation,
  });
  const status = outcome === 'commit' ? 'committed' : outcome === 'release' ? 'released' : 'expired';
  const [updated] = await db.update(holds).set({ status, settledAt: new Date() }).where(eq(holds.id, hold.id)).returning();
  return updated;
}

/** The sweeper: releases holds whose TTL passed without a settlement (a crashed process, a lost job). */
export async function expireHolds(db: Db, limit = 500): Promise<number> {
  const due = await db
    .select({ id: holds.id })
    .from(holds)
    .where(and(eq(holds.status, 'open'), sql`${holds.expiresAt} < now()`))
    .limit(limit);
  for (const { id } of due) await db.transaction((tx) => settle(tx, id, 'expire'));
  return due.length;
}

export async function balanceOf(db: DbOrTx, orgId: string, currency: Currency): Promise<Locked & { available: number }> {
  const [row] = await db
    .select({ balance: balances.balance, held: balances.held })
    .from(balances)
    .where(and(eq(balances.orgId, orgId), eq(balances.currency, currency)));
  const b = row ?? { balance: 0, held: 0 };
  return { ...b, available: b.balance - b.held };
}
