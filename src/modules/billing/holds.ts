// Holds (DESIGN §6): a paid action reserves its cost before it runs, commits it with its effect, or releases it.
// The life of a hold, and why it is shaped for one hot wallet under many concurrent actions:
//   reserve — the reservations of one wallet that arrive while one is running go together into the next call of
//             opsbase_reserve_holds (SerialBatcher): the balance row is locked once per batch, not once per
//             action. It commits on its own, at once, so the hold is visible while the action runs.
//   settle  — touches only the hold row (a HOT update), so it commits inside the action's transaction without
//             locking the wallet.
//   post    — moves settled holds into the balance and the ledger, batched per wallet: shortly after the action
//             (postSoon), before a reservation batch that is short of credits, and by the sweeper.
// available = balance − held is exact throughout: a commit not yet posted leaves both balance and held higher by
// the same amount; a release not yet posted only understates available, and a short batch posts first. Reads
// (ledger.ts balanceOf) count settled holds at once.
import { eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import { SerialBatcher } from '../../core/batch.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Db, DbOrTx } from '../../db/client.ts';
import { type Currency, holds } from '../../db/schema/billing.ts';
import { noteLowBalance, outOfCredits } from './ledger.ts';

export type HoldRow = typeof holds.$inferSelect;

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

const inTransaction = (db: DbOrTx) => 'rollback' in db;

/** The pg client under a drizzle handle (the pool, or the transaction's connection), for named statements. */
function clientOf(db: DbOrTx): pg.Pool | pg.PoolClient {
  return (db as unknown as { session: { client: pg.Pool | pg.PoolClient } }).session.client;
}

// Outside a transaction, a statement commits without waiting for its WAL flush: a reservation or a posting lost
// in a crash is safe (nothing was charged; the holds stay unposted and are posted again), and the next durable
// commit flushes it first anyway. That takes the flush wait out of the time the balance row stays locked.
const ASYNC_COMMIT = ", set_config('synchronous_commit', 'off', true) as async_commit";

// ---- reserve ---------------------------------------------------------------------------------------------------

// The two hot statements are SQL functions (migration 0008_hold_posting), called as named prepared statements: each
// locks the wallet's balance row in a statement of its own, so what follows runs on a snapshot taken after the
// lock. See the migration for why.
const RESERVE_BATCH = 'select * from opsbase_reserve_holds($1, $2, $3, $4, $5, $6, $7, $8, $9)';

interface ReserveRequest {
  key: string;
  amount: number;
  operation: string;
  reference: string | null;
  ttlSeconds: number;
}

type ReserveOutcome = { hold: HoldRow; replayed: boolean; availableBefore: number; availableAfter: number } | { hold: null; available: number };

/** A hold as PostgreSQL returns it: a row, or JSON (timestamps as strings). */
type RawHold = Record<string, unknown>;

const holdFromRaw = (r: RawHold): HoldRow => ({
  id: r.id as string,
  orgId: r.org_id as string,
  currency: r.currency as Currency,
  amount: Number(r.amount),
  status: r.status as HoldRow['status'],
  operation: r.operation as string,
  idempotencyKey: r.idempotency_key as string,
  reference: (r.reference as string | null) ?? null,
  expiresAt: new Date(r.expires_at as string | Date),
  settledAt: r.settled_at ? new Date(r.settled_at as string | Date) : null,
  postedAt: r.posted_at ? new Date(r.posted_at as string | Date) : null,
  createdAt: new Date(r.created_at as string | Date),
});

async function reserveBatch(db: Db, orgId: string, currency: Currency, requests: ReserveRequest[]): Promise<ReserveOutcome[]> {
  // One hold per key: a key asked for twice in a batch is created by its first request and replayed to the next.
  // Smallest first: the function takes requests while their running sum fits, so every request it refuses is
  // larger than what the ones before it left — a refusal is exact, and as many requests as possible are served.
  const distinct = [...new Map(requests.toReversed().map((r) => [r.key, r])).values()].sort((a, b) => a.amount - b.amount);
  const holdIds = distinct.map(() => newId('hold'));
  const { rows } = await clientOf(db).query<{ created: string[]; existing: RawHold[]; balance: number | null; held: number | null; at: Date }>({
    name: 'ledger_reserve',
    text: RESERVE_BATCH + ASYNC_COMMIT,
    values: [
      orgId,
      currency,
      holdIds,
      distinct.map(() => newId('ledger')),
      distinct.map((r) => r.key),
      distinct.map((r) => r.amount),
      distinct.map((r) => r.operation),
      distinct.map((r) => r.reference),
      distinct.map((r) => r.ttlSeconds),
    ],
  });
  const row = rows[0];
  const byKey = new Map<string, ReserveOutcome>();
  const balance = Number(row.balance ?? 0);
  let held = Number(row.held ?? 0);
  for (const h of row.existing.map(holdFromRaw)) byKey.set(h.idempotencyKey, { hold: h, replayed: true, availableBefore: 0, availableAfter: 0 });
  // Created in the order sent: each one's available before and after follows from the running sum. The function
  // returns only their keys: every other field is what was sent, and `at` is the statement's now().
  const created = new Set(row.created);
  for (const [i, r] of distinct.entries()) {
    if (!created.has(r.key)) continue;
    const hold: HoldRow = {
      id: holdIds[i],
      orgId,
      currency,
      amount: r.amount,
      status: 'open',
      operation: r.operation,
      idempotencyKey: r.key,
      reference: r.reference,
      expiresAt: new Date(row.at.getTime() + r.ttlSeconds * 1000),
      settledAt: null,
      postedAt: null,
      createdAt: row.at,
    };
    byKey.set(r.key, { hold, replayed: false, availableBefore: balance - held, availableAfter: balance - held - hold.amount });
    held += hold.amount;
  }
  const answered = new Set<string>();
  return requests.map((r) => {
    const out = byKey.get(r.key) ?? { hold: null, available: balance - held };
    if (out.hold && answered.has(r.key)) return { ...out, replayed: true };
    answered.add(r.key);
    return out;
  });
}

const reservers = new WeakMap<Db, SerialBatcher<ReserveRequest & { currency: Currency; orgId: string }, ReserveOutcome>>();

/**
 * Reserves credits for a paid action: 402 when available < amount. Returns the existing hold for a known key.
 * The hold commits at once, on its own — visible and counted while the action runs — batched with the wallet's
 * concurrent reservations.
 */
export async function reserve(db: Db, input: HoldInput): Promise<{ hold: HoldRow; replayed: boolean }> {
  const currency = input.currency ?? 'credits';
  if (!Number.isInteger(input.amount) || input.amount <= 0) throw unprocessable('A hold must be a positive whole number.');
  let batcher = reservers.get(db);
  if (!batcher) {
    batcher = new SerialBatcher((_wallet, items) => reserveBatch(db, items[0].orgId, items[0].currency, items));
    reservers.set(db, batcher);
  }
  const request = {
    orgId: input.orgId,
    currency,
    key: input.idempotencyKey,
    amount: input.amount,
    operation: input.operation,
    reference: input.reference ?? null,
    ttlSeconds: input.ttlSeconds,
  };
  for (let attempt = 0; ; attempt++) {
    const out = await batcher.submit(`${input.orgId}:${currency}`, request);
    if (out.hold) {
      if (!out.replayed) await noteLowBalance(db, input.orgId, currency, out.availableBefore, out.availableAfter);
      return { hold: out.hold, replayed: out.replayed };
    }
    // Refused with the wallet's figures after its batch (a state of the ledger). That is short of this amount,
    // unless the batch held another request with the same key and a larger amount, refused in its place: then
    // this one is asked on its own, as if it had come after.
    if (out.available < input.amount || attempt >= 2) throw outOfCredits(currency, input.amount, out.available);
  }
}

// ---- settle ----------------------------------------------------------------------------------------------------

const SETTLED = { commit: 'committed', release: 'released', expire: 'expired' } as const;

/**
 * Settles an open hold: `commit` spends it, `release` / `expire` give it back. A settled hold is left as it is
 * (a concurrent settle or the sweeper got there first: the caller sees the status it has).
 *
 * It touches only the hold row. Inside a paid action's transaction the settlement therefore commits with the
 * action — durably, exactly when the effect does — without locking the wallet. Outside a transaction it posts
 * before returning; inside one, the caller posts after the commit (runPaid does). A settlement a crash left
 * unposted is posted by the sweeper.
 */
export async function settle(db: DbOrTx, holdId: string, outcome: 'commit' | 'release' | 'expire'): Promise<HoldRow> {
  const { rows } = await clientOf(db).query<RawHold>({
    name: 'ledger_settle',
    text: `update holds set status = $2, settled_at = now() where id = $1 and status = 'open' returning *`,
    values: [holdId, SETTLED[outcome]],
  });
  const settled = rows[0] && holdFromRaw(rows[0]);
  if (settled) {
    if (!inTransaction(db)) await postSettled(db as Db, settled.orgId, settled.currency);
    return settled;
  }
  const [current] = await db.select().from(holds).where(eq(holds.id, holdId));
  if (!current) throw notFound('Hold');
  return current;
}

/**
 * Frees a settled-but-not-spent hold's idempotency key (renamed `<key>#retired:<hold id>`, the row kept as history),
 * so a retry of the failed request reserves under the same key again: one reservation per attempt, however many
 * attempts came before. Only released or expired holds: a committed one keeps its key (the request was charged).
 */
export async function retireHoldKey(db: DbOrTx, holdId: string): Promise<void> {
  await db.execute(
    sql`update holds set idempotency_key = idempotency_key || '#retired:' || id where id = ${holdId} and status in ('released', 'expired')`,
  );
}

// ---- post ------------------------------------------------------------------------------------------------------

/**
 * Posts one wallet's settled holds: marks them posted, moves the balance row by their sum and appends one ledger
 * entry each, with the running balance_after / held_after. Returns how many it posted.
 */
export async function postSettlements(db: DbOrTx, orgId: string, currency: Currency): Promise<number> {
  const tx = inTransaction(db);
  const { rows } = await clientOf(db).query<{ n: number }>({
    name: tx ? 'ledger_post_tx' : 'ledger_post',
    text: `select opsbase_post_settled($1, $2) as n${tx ? '' : ASYNC_COMMIT}`,
    values: [orgId, currency],
  });
  return rows[0]?.n ?? 0;
}

const posters = new WeakMap<Db, SerialBatcher<{ orgId: string; currency: Currency }, number>>();

/**
 * Posts a wallet's settlements, coalesced: the settlements of many concurrent paid actions share one posting
 * statement (and one turn on the balance row). Resolves once a pass that began after the call has finished, so
 * the caller's own settlement is in the balance.
 */
export async function postSettled(db: Db, orgId: string, currency: Currency): Promise<void> {
  let batcher = posters.get(db);
  if (!batcher) {
    batcher = new SerialBatcher(async (_wallet, items) => {
      const n = await postSettlements(db, items[0].orgId, items[0].currency);
      return items.map(() => n);
    });
    posters.set(db, batcher);
  }
  await batcher.submit(`${orgId}:${currency}`, { orgId, currency });
}

/** How long a settlement may wait for a reservation batch to post it before a posting pass of its own runs. */
const POST_DELAY_MS = 50;
const postTimers = new WeakMap<Db, Set<string>>();

/**
 * Schedules the posting of a wallet's settlements without waiting for it. Every reservation batch posts first, so
 * under load the settlements ride along with the reservations that follow them, and the pass scheduled here
 * finds nothing left (and takes no lock). A quiet wallet is posted within POST_DELAY_MS; a process that stops
 * before that leaves it to the sweeper. Reads never wait for it: balanceOf counts settled holds.
 */
export function postSoon(db: Db, orgId: string, currency: Currency): void {
  let pending = postTimers.get(db);
  if (!pending) {
    pending = new Set();
    postTimers.set(db, pending);
  }
  const key = `${orgId}:${currency}`;
  if (pending.has(key)) return;
  pending.add(key);
  const wallets = pending;
  setTimeout(() => {
    wallets.delete(key);
    postSettled(db, orgId, currency).catch(() => {});
  }, POST_DELAY_MS).unref();
}

// ---- sweep -----------------------------------------------------------------------------------------------------

/**
 * The sweeper: expires holds whose TTL passed without a settlement (a crashed process, a lost job) and posts every
 * settlement still unposted (a process that died between its commit and the posting). Returns the holds expired.
 */
export async function expireHolds(db: Db, limit = 500): Promise<number> {
  const { rows: expired } = await db.execute<{ id: string }>(sql`
    update holds set status = 'expired', settled_at = now()
     where id in (select id from holds where posted_at is null and status = 'open' and expires_at < now() order by expires_at limit ${limit}
                    for update skip locked)
    returning id`);
  const { rows: wallets } = await db.execute<{ org_id: string; currency: Currency }>(sql`
    select distinct org_id, currency from holds where status <> 'open' and posted_at is null`);
  for (const w of wallets) await postSettlements(db, w.org_id, w.currency);
  return expired.length;
}

/**
 * Pushes an open hold's expiry to at least `seconds` from now: work that owns a deferred hold (a task run) keeps it
 * alive while it is still queued or running, so the sweeper only ever releases the hold of work that is gone.
 */
export async function extendHold(db: DbOrTx, holdId: string, seconds: number): Promise<void> {
  await db.execute(
    sql`update holds set expires_at = greatest(expires_at, now() + make_interval(secs => ${seconds})) where id = ${holdId} and status = 'open'`,
  );
}
