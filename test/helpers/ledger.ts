// Shared by the money tests: a bare org row for service-level ledger tests, and the ledger invariant (DESIGN §6)
// read straight from the database.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { newId } from '../../src/core/ids.ts';

/** An org row with nothing else (the ledger needs only its id). */
export async function makeOrg(pool: pg.Pool): Promise<string> {
  const id = newId('org');
  const tag = randomBytes(5).toString('hex');
  await pool.query('insert into orgs (id, name, slug) values ($1, $2, $3)', [id, `Ledger ${tag}`, `ledger-${tag}`]);
  return id;
}

/**
 * Waits until every settled hold of the org is posted to its balance and ledger. A paid operation answers once its
 * charge is committed; the posting follows asynchronously (within about 50 ms, src/modules/billing/holds.ts).
 */
export async function waitForPosting(pool: pg.Pool, orgId: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query(`select count(*)::int as n from holds where org_id = $1 and status <> 'open' and posted_at is null`, [orgId]);
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} settled holds of ${orgId} still unposted after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface LedgerState {
  balance: number;
  held: number;
  available: number;
  sumAmount: number;
  sumHeldDelta: number;
  /** Open holds plus settled ones not yet posted to the balance: what `held` must equal. */
  unpostedHolds: number;
  entries: number;
  /** Entries whose balance_after, held_after or balance_after − held_after is negative. */
  negativeEntries: number;
}

export async function ledgerState(pool: pg.Pool, orgId: string, currency = 'credits'): Promise<LedgerState> {
  const { rows } = await pool.query(
    `select coalesce((select balance from balances where org_id = $1 and currency = $2), 0)::bigint as balance,
            coalesce((select held from balances where org_id = $1 and currency = $2), 0)::bigint as held,
            coalesce(sum(amount), 0)::bigint as sum_amount,
            coalesce(sum(held_delta), 0)::bigint as sum_held_delta,
            count(*)::bigint as entries,
            count(*) filter (where balance_after < 0 or held_after < 0 or balance_after - held_after < 0)::bigint as negative_entries,
            coalesce((select sum(amount) from holds where org_id = $1 and currency = $2 and posted_at is null), 0)::bigint as unposted_holds
       from ledger_entries where org_id = $1 and currency = $2`,
    [orgId, currency],
  );
  const r = rows[0];
  const n = (v: unknown) => Number(v);
  return {
    balance: n(r.balance),
    held: n(r.held),
    available: n(r.balance) - n(r.held),
    sumAmount: n(r.sum_amount),
    sumHeldDelta: n(r.sum_held_delta),
    unpostedHolds: n(r.unposted_holds),
    entries: n(r.entries),
    negativeEntries: n(r.negative_entries),
  };
}

/** Every way the invariant can be broken, as readable strings (empty when it holds). */
export function invariantViolations(s: LedgerState): string[] {
  const v: string[] = [];
  if (s.sumAmount !== s.balance) v.push(`sum(amount) ${s.sumAmount} ≠ balance ${s.balance}`);
  if (s.sumHeldDelta !== s.held) v.push(`sum(held_delta) ${s.sumHeldDelta} ≠ held ${s.held}`);
  if (s.unpostedHolds !== s.held) v.push(`unposted holds ${s.unpostedHolds} ≠ held ${s.held}`);
  if (s.balance < 0) v.push(`balance ${s.balance} < 0`);
  if (s.held < 0) v.push(`held ${s.held} < 0`);
  if (s.available < 0) v.push(`available ${s.available} < 0`);
  if (s.negativeEntries > 0) v.push(`${s.negativeEntries} entries with a negative balance_after / held_after / available`);
  return v;
}
