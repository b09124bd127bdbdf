// Test-only job types, registered by the test's own worker processes (system-worker.ts) and in-process workers.
import { defineJob } from '../../src/jobs/define.ts';

/** Hangs on its first attempt (the test kills that worker); later attempts finish with the pid that ran them. */
export const slowJob = defineJob<{ note: string }>({
  type: 'test.slow',
  timeout: 600,
  max_attempts: 3,
  backoff: 1,
  handler: async ({ job, signal }) => {
    process.stdout.write(`${JSON.stringify({ event: 'started', id: job.id, attempt: job.attempt })}\n`);
    if (job.attempt === 1) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    return { pid: process.pid, attempt: job.attempt };
  },
});
