// How a paid operation runs (DESIGN §6): reserve its cost (a hold, in its own transaction, so it is visible and
// counted while the action runs), run the action, commit the hold in the action's transaction (spent exactly
// when the effect is committed), or release it if the action fails; then post the settlement to the balance.
// A hold never settled (the process died) expires and is released by the sweeper, which also posts what a dead
// process left unposted. There is no other path to a paid action.
import { AppError } from '../../core/errors.ts';
import type { Operation } from '../../core/operation.ts';
import type { Db, Tx } from '../../db/client.ts';
import { type HoldRow, postSoon, reserve, retireHoldKey, settle } from './holds.ts';

export async function runPaid<T>(
  db: Db,
  op: Operation,
  orgId: string,
  holdKey: string,
  action: (tx: Tx, hold: { id: string; amount: number }) => Promise<T>,
): Promise<T> {
  const take = (key: string) => reserve(db, { orgId, amount: op.cost, operation: op.id, idempotencyKey: key, ttlSeconds: op.holdTtlSeconds });
  let { hold } = await take(holdKey);
  // A failed attempt released its hold (or the sweeper expired it) and freed its idempotency record: a retry with
  // the same key is a new attempt. Failures retire their hold's key as they release it; one the sweeper expired is
  // retired here. Either way the retry reserves once, under the same key.
  if (hold.status === 'released' || hold.status === 'expired') {
    await retireHoldKey(db, hold.id);
    ({ hold } = await take(holdKey));
  }
  if (hold.status !== 'open') {
    throw new AppError('conflict', 'This paid request was already processed and charged. Send a new Idempotency-Key to run it again.');
  }
  let out: T;
  try {
    out = await db.transaction(async (tx) => {
      const result = await action(tx, { id: hold.id, amount: hold.amount });
      // A deferred operation hands its open hold to the work it started, which settles it when it ends.
      if (op.settlement === 'deferred') return result;
      const settled: HoldRow = await settle(tx, hold.id, 'commit');
      // The sweeper expired the hold while the action ran (it outlived its TTL): the credits went back, so the
      // action must not be committed for free.
      if (settled.status !== 'committed') {
        throw new AppError(
          'conflict',
          `The credits reserved for this action were ${settled.status} before it finished (it ran longer than its hold). Retry it.`,
        );
      }
      return result;
    });
  } catch (err) {
    await settle(db, hold.id, 'release');
    await retireHoldKey(db, hold.id);
    throw err;
  }
  // The action and its charge are committed. Posting moves the charge into the balance row; nobody waits for it
  // (balanceOf already counts settled holds), so the answer goes out now.
  postSoon(db, orgId, hold.currency);
  return out;
}
