// Adding internal work from a service: `enqueueJob(ctx.db, sendMailJob, { id })` inside the caller's transaction, so
// the job exists exactly when the change that asked for it commits; the workers are woken by NOTIFY on commit.
import type { DbOrTx } from '../db/client.ts';
import { insertSystemJob } from '../modules/queue/system.ts';
import type { JobDefinition } from './define.ts';

export interface EnqueueOptions {
  /** At most one waiting or active job of the type per key: while one is pending, enqueueing returns it. */
  singletonKey?: string;
  /** The same key again returns the first job, whatever became of it (for as long as finished jobs are kept). */
  idempotencyKey?: string;
  /** Not before this many seconds from now. */
  delaySeconds?: number;
  runAt?: Date;
  /** Higher runs first (default 0). */
  priority?: number;
  /** This job's own timeout instead of the type's (a task run's length depends on its task and agent). */
  timeoutSeconds?: number;
}

export async function enqueueJob<P extends Record<string, unknown>>(
  db: DbOrTx,
  def: JobDefinition<P>,
  payload: P,
  opts: EnqueueOptions = {},
): Promise<{ id: string; duplicate: boolean }> {
  return insertSystemJob(db, {
    type: def.type,
    payload,
    max_attempts: def.max_attempts,
    backoff_seconds: def.backoff,
    timeout_seconds: opts.timeoutSeconds ?? def.timeout,
    priority: opts.priority,
    delay_seconds: opts.delaySeconds,
    run_at: opts.runAt,
    singleton_key: opts.singletonKey,
    idempotency_key: opts.idempotencyKey,
  });
}
