// How a paid operation runs (DESIGN §6): reserve its cost (a hold, in its own transaction, so it is visible and
// counted while the action runs), run the action, commit the hold in the action's transaction (spent exactly
// when the effect is committed), or release it if the action fails. A hold never settled (the process died)
// expires and is released by the sweeper. There is no other path to a paid action.
import { AppError } from '../../core/errors.ts';
import type { Operation } from '../../core/operation.ts';
import type { Db, Tx } from '../../db/client.ts';
import { reserve, settle } from './ledger.ts';

export async function runPaid<T>(db: Db, op: Operation, orgId: string, holdKey: string, action: (tx: Tx) => Promise<T>): Promise<T> {
  const { hold } = await db.transaction((tx) =>
    reserve(tx, { orgId, amount: op.cost, operation: op.id, idempotencyKey: holdKey, ttlSeconds: op.holdTtlSeconds }),
  );
  if (hold.status !== 'open') {
    throw new AppError(
      'conflict',
      `This paid request was already processed (its credits were ${hold.status}). Send a new Idempotency-Key to run it again.`,
    );
  }
  try {
    return await db.transaction(async (tx) => {
      const out = await action(tx);
      await settle(tx, hold.id, 'commit');
      return out;
    });
  } catch (err) {
    await db.transaction((tx) => settle(tx, hold.id, 'release'));
    throw err;
  }
}
