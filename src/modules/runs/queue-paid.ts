// `tasks.run` started by the server itself (an agent's heartbeat), through the one path to a paid action: runPaid
// reserves `tasks.run`'s cost under the operation's own settings (hold TTL, deferred settlement) before anything,
// then — in one transaction — `pick` chooses (and claims) the task and startRun records the run with that hold and
// queues its job. Nothing to pick, or a failure, releases the hold at once; the run settles it otherwise.
import type { Ctx } from '../../core/context.ts';
import type { AppServices } from '../../core/services.ts';
import { runPaid } from '../billing/paid.ts';
import { agentCtx } from './finish.ts';
import { runTaskOp } from './operations.ts';
import { startRun } from './start.ts';

/** Thrown inside the paid transaction when there is nothing to run: it rolls back and releases the hold. */
class NothingToRun extends Error {}

export async function queueRunPaid(
  services: AppServices,
  who: { orgId: string; agentId: string },
  /** The hold's idempotency key: one reservation per key (a heartbeat uses its job id, attempt and slot). */
  holdKey: string,
  pick: (ctx: Ctx) => Promise<string | null>,
) {
  try {
    return await runPaid(services.database.db, runTaskOp, who.orgId, holdKey, async (tx, hold) => {
      const ctx: Ctx = { ...agentCtx(services, tx, who.orgId, who.agentId), requestId: 'heartbeat', hold };
      const taskId = await pick(ctx);
      if (!taskId) throw new NothingToRun();
      return startRun(ctx, { id: taskId, agent: who.agentId });
    });
  } catch (err) {
    if (err instanceof NothingToRun) return null;
    throw err;
  }
}
