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

type RawHold = {
  id: string;
  org_id: string;
  currency: Currency;
  amount: number | string;
  status: HoldRow['status'];
  operation: string;
  idempotency_key: string;
  reference: string | null;
  expires_at: Date;
  settled_at: Date | null;
  created_at: Date;
  balance: number | string;
  held: number | string;
};

const holdFromRaw = (r: RawHold): HoldRow => ({
  id: r.id,
  orgId: r.org_id,
  currency: r.currency,
  amount: Number(r.amount),
  status: r.status,
  operation: r.operation,
  idempotencyKey: r.idempotency_key,
  reference: r.reference,
  expiresAt: r.expires_at,
  settledAt: r.settled_at,
  createdAt: r.created_at,
});

async function holdByKey(db: DbOrTx, orgId: string, key: string): Promise<HoldRow | undefined> {
  const [row] = await db
    .select()
    .from(holds)
    .where(and(eq(holds.orgId, orgId), eq(holds.idempotencyKey, key)));
  return row;
}

/**
 * Reserves credits for a paid action: 402 when available < amount. Returns the existing hold for a known key.
 * The hot path is one statement: the conditional UPDATE of the balance row checks and takes the credits under
 * its row lock, and the hold and its ledger entry are inserted from what it returns — the lock is held for one
 * statement, not for a conversation of round trips.
 */
export async function reserve(db: DbOrTx, input: HoldInput, attempt = 0): Promise<{ hold: HoldRow; replayed: boolean }> {
  const currency = input.currency ?? 'credits';
  if (!Number.isInteger(input.amount) || input.amount <= 0) throw unprocessable('A hold must be a positive whole number.');
  const existing = await holdByKey(db, input.orgId, input.idempotencyKey);
  if (existing) return { hold: existing, replayed: true };
  const inTx = 'rollback' in db;
  // On its own (runPaid), the reservation commits without waiting for its WAL flush: losing it in a crash is the
  // same as a hold released — nothing was charged — and the action's durable commit flushes it first anyway.
  // That takes the flush wait out of the time the balance row stays locked.
  const statement = sql`
    with bal as (
      update balances set held = held + ${input.amount}, updated_at = now()
       where org_id = ${input.orgId} and currency = ${currency} and balance - held >= ${input.amount}
       returning balance, held
    ), h as (
      insert into holds (id, org_id, currency, amount, operation, idempotency_key, reference, expires_at)
      select ${newId('hold')}, ${input.orgId}, ${currency}, ${input.amount}, ${input.operation}, ${input.idempotencyKey},
             ${input.reference ?? null}, now() + make_interval(secs => ${input.ttlSeconds})
        from bal
      returning *
    ), e as (
      insert into ledger_entries (id, org_id, currency, kind, amount, held_delta, balance_after, held_after, reference, hold_id)
      select ${newId('ledger')}, ${input.orgId}, ${currency}, 'hold', 0, ${input.amount}, bal.balance, bal.held, ${input.operation}, h.id
        from bal, h
    )
    select h.*, bal.balance, bal.held${inTx ? sql`` : sql`, set_config('synchronous_commit', 'off', true) as async_commit`} from h, bal`;
  let rows: RawHold[];
  try {
    // Inside a caller's transaction the statement gets a savepoint, so a lost race below leaves it usable.
    ({ rows } = inTx ? await db.transaction((sp) => sp.execute<RawHold>(statement)) : await db.execute<RawHold>(statement));
  } catch (err) {
    // Another request with the same key took its hold between our look-up and our insert: that hold is the answer.
    const cause = (err as { cause?: { code?: string; constraint?: string } }).cause ?? (err as { code?: string; constraint?: string });
    const raced =
      cause.code === '23505' && cause.constraint === 'holds_idem_key' ? await holdByKey(db, input.orgId, input.idempotencyKey) : undefined;
    if (raced) return { hold: raced, replayed: true };
    throw err;
  }
  const row = rows[0];
  if (!row) {
    // Refused: say how much was available, read under the row lock so the figure is exact. If a credit landed
    // in between (or the balance row did not exist yet), try again.
    const locked = await lockBalance(db, input.orgId, currency);
    const available = locked.balance - locked.held;
    if (available >= input.amount && attempt < 3) return reserve(db, input, attempt + 1);
    throw outOfCredits(currency, input.amount, available);
  }
  const after = Number(row.balance) - Number(row.held);
  await noteLowBalance(db, input.orgId, currency, after + input.amount, after);
  return { hold: holdFromRaw(row), replayed: false };
}

const SETTLED = { commit: 'committed', release: 'released', expire: 'expired' } as const;

/**
 * Settles an open hold: `commit` spends it, `release` / `expire` give it back. A settled hold is left as it is
 * (a concurrent settle or the sweeper got there first: the caller sees the status it has). Call it inside a
 * transaction: it locks the balance row, then one statement settles the hold and moves the balance with its
 * ledger entry.
 */
export async function settle(db: DbOrTx, holdId: string, outcome: 'commit' | 'release' | 'expire'): Promise<HoldRow> {
  const spent = outcome === 'commit';
  // Lock order everywhere: the balance row, then the hold. (Locking the hold first deadlocks with an action
  // that debits the balance and then commits its hold in one transaction.)
  await db.execute(sql`select 1 from balances b join holds h on h.org_id = b.org_id and h.currency = b.currency
                        where h.id = ${holdId} for update of b`);
  const { rows } = await db.execute<RawHold>(sql`
    with hd as (
      update holds set status = ${SETTLED[outcome]}, settled_at = now()
       where id = ${holdId} and status = 'open'
       returning *
    ), bal as (
      update balances b
         set balance = b.balance - (case when ${spent}::boolean then hd.amount else 0 end), held = b.held - hd.amount, updated_at = now()
        from hd
       where b.org_id = hd.org_id and b.currency = hd.currency
       returning b.balance, b.held
    ), e as (
      insert into ledger_entries (id, org_id, currency, kind, amount, held_delta, balance_after, held_after, reference, hold_id)
      select ${newId('ledger')}, hd.org_id, hd.currency, ${outcome}, case when ${spent}::boolean then -hd.amount else 0 end, -hd.amount,
             bal.balance, bal.held, hd.operation, hd.id
        from hd, bal
    )
    select hd.*, bal.balance, bal.held from hd, bal`);
  if (rows[0]) return holdFromRaw(rows[0]);
  const [current] = await db.select().from(holds).where(eq(holds.id, holdId));
  if (!current) throw notFound('Hold');
  return current;
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
