// Runs' background work: executing a run (one job per run, queued by tasks.run) and the reaper, which ends runs
// whose job can no longer end them (dead-lettered after its worker died on the last attempt, or lost).
import { sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import { defineJob } from '../../jobs/define.ts';
import { executeRun } from './execute.ts';
import { finishRun } from './finish.ts';
import { killLeftoverProcesses } from './runtimes/process.ts';

export const executeRunJob = defineJob<{ run_id: string }>({
  type: 'runs.execute',
  // Each run's job carries its own timeout (its run's limit plus a margin); this is the default.
  timeout: 360,
  // A second attempt only ever happens when a worker died mid-run: run failures end the run, they do not throw.
  max_attempts: 2,
  backoff: 1,
  handler: (run) => executeRun(run.services, run),
});

/** Runs still queued or running whose job is finished, failed, cancelled or gone: they end timed_out, refunded. */
export async function reapRuns(services: AppServices): Promise<number> {
  const { rows } = await services.database.db.execute<{ id: string; state: string | null }>(sql`
    select r.id, j.state from runs r left join queue_jobs j on j.id = r.job_id
     where r.status in ('queued', 'running')
       and (j.id is null or j.state in ('completed', 'failed', 'cancelled'))
     limit 200`);
  let ended = 0;
  for (const r of rows) {
    const message = r.state === 'failed' ? 'Its worker was lost on its last attempt.' : 'Its job is gone.';
    if (await finishRun(services, r.id, { status: 'timed_out', reason: 'worker_lost', message })) ended++;
  }
  return ended;
}

export const reapRunsJob = defineJob({
  type: 'runs.reap',
  schedule: '* * * * *',
  timeout: 120,
  max_attempts: 3,
  backoff: 5,
  handler: async ({ services, log }) => {
    const ended = await reapRuns(services);
    // On this host: commands of process runs whose worker died (or whose run was just reaped).
    await killLeftoverProcesses(services);
    if (ended) log.warn({ ended }, 'runs ended by the reaper');
    return { ended };
  },
});

export const runJobs = [executeRunJob, reapRunsJob];
