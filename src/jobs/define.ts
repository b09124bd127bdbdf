// Internal background work (DESIGN §7), declared once per module in its `jobs.ts`, like operations:
//
//   export const expireHoldsJob = defineJob({ type: 'billing.expire_holds', timeout: 60, max_attempts: 3, backoff: 10,
//     schedule: '* * * * *', handler: async ({ services }) => ({ expired: await expireHolds(services.database.db) }) });
//
// Every worker process runs every declared type (src/jobs/registry.ts) from the job queue's table, in system queues
// no org can see or claim (modules/queue/system.ts). A scheduled type fires singleton jobs: never two pending at
// once, whichever worker takes it. `enqueueJob` (enqueue.ts) adds one inside the caller's transaction.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { AppServices } from '../core/services.ts';

export interface JobRun<P> {
  services: AppServices;
  payload: P;
  job: { id: string; type: string; attempt: number; maxAttempts: number };
  /** Aborted when the job's timeout passes or the worker stops: long handlers should stop then. */
  signal: AbortSignal;
  log: Logger;
}

export interface JobSpec<P extends Record<string, unknown>> {
  /** `<module>.<verb>`, unique: also the name of its system queue. */
  type: string;
  /** Its result is stored on the job row; a throw is a failed attempt (retried with backoff, then dead-lettered). */
  // A method signature (bivariant): a JobDefinition<{ id: string }> still lists as a JobDefinition.
  handler(run: JobRun<P>): Promise<unknown>;
  /** Seconds an attempt may run; then it counts as failed (and is retried). */
  timeout: number;
  max_attempts: number;
  /** Seconds before the first retry; each next retry waits twice as long (at most 6 h). */
  backoff: number;
  /**
   * A cron expression (5 fields, or 6 with seconds), in UTC unless `tz` is given; or a function of the instance's
   * config (an operator-set schedule such as OPSBASE_BACKUP_CRON) returning one, or null for no schedule.
   */
  schedule?: Schedule | ((config: Config) => Schedule | null);
}

export interface JobDefinition<P extends Record<string, unknown> = Record<string, unknown>> extends JobSpec<P> {
  readonly kind: 'job';
}

export function defineJob<P extends Record<string, unknown> = Record<string, never>>(spec: JobSpec<P>): JobDefinition<P> {
  if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/.test(spec.type)) throw new Error(`job type \`${spec.type}\` must look like module.verb`);
  if (spec.timeout < 1 || spec.max_attempts < 1 || spec.backoff < 0) throw new Error(`job ${spec.type}: timeout, max_attempts and backoff must be positive`);
  return { ...spec, kind: 'job' };
}

/** Thrown by a handler when retrying cannot help (a mail server's permanent refusal): the job fails at once. */
export class PermanentJobError extends Error {}

type Schedule = string | { cron: string; tz: string };

export function scheduleOf(def: JobDefinition, config: Config): { cron: string; tz: string } | undefined {
  const schedule = typeof def.schedule === 'function' ? def.schedule(config) : def.schedule;
  if (!schedule) return undefined;
  return typeof schedule === 'string' ? { cron: schedule, tz: 'UTC' } : schedule;
}
