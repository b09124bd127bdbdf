// The ledger (DESIGN §6). Every change of a balance locks the org's balance row, appends one immutable entry
// and updates the row in the same transaction, so sum(entries) = balance and no two writers interleave.
// Holds (holds.ts) reserve credits before a paid action; available = balance − held never goes below zero, and
// held = the holds not yet posted to the balance.
// Every function taking `tx` must be called inside a transaction: the row lock lasts until it ends.
import { and, eq, sql } from 'drizzle-orm';
import { AppError, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { DbOrTx } from '../../db/client.ts';
import { balances, type Currency, type LedgerKind, ledgerEntries } from '../../db/schema/billing.ts';
import { recordEvent } from '../events/record.ts';

/** Below this many available credits after a debit, `credits.low` is recorded. */
export const LOW_CREDITS_THRESHOLD = 10;

export type EntryRow = typeof ledgerEntries.$inferSelect;

interface Locked {
  balance: number;
  held: number;
}

/** Locks the balance row (creating it at zero) and reads it: the posted figures, a state the ledger went through. */
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
      ? 'Top up with `opsbase billing checkout --pack-id <pack>` (or ask an instance admin: `opsbase billing grant`), or enable auto top-up.'
      : 'Buy a token pack or enable token auto top-up.';
  return new AppError('out_of_credits', `Not enough ${currency}: this needs ${needed}, ${available} available. ${how}`, {
    currency,
    needed,
    available,
  });
}

/** After a debit: record `credits.low` / `credits.exhausted` when the available balance crosses a threshold. */
export async function noteLowBalance(db: DbOrTx, orgId: string, currency: Currency, before: number, after: number) {
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

/**
 * The balance as of every settled hold: settlements not yet posted to the balance row are counted here, so a read
 * right after a paid action sees its charge (the figures the row will hold once posted).
 */
export async function balanceOf(db: DbOrTx, orgId: string, currency: Currency): Promise<Locked & { available: number }> {
  const { rows } = await db.execute<{ balance: number; held: number }>(sql`
    select coalesce(b.balance, 0) - coalesce(u.spent, 0) as balance, coalesce(b.held, 0) - coalesce(u.freed, 0) as held
      from (select 1) one
      left join balances b on b.org_id = ${orgId} and b.currency = ${currency}
      left join lateral (
        select sum(amount) filter (where status = 'committed') as spent, sum(amount) as freed
          from holds where org_id = ${orgId} and currency = ${currency} and status <> 'open' and posted_at is null
      ) u on true`);
  const balance = Number(rows[0].balance);
  const held = Number(rows[0].held);
  return { balance, held, available: balance - held };
}
