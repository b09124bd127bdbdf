// A worker process for the job-engine tests: what `opsbase worker` runs, plus the test-only job types. It reports on
// stdout, one JSON line per event: `ready` (its fleet id) and `started` (a job's handler began).
//
//   DATABASE_URL=… node test/helpers/system-worker.ts [lease seconds]
import { closeServices, openServices } from '../../src/app.ts';
import { readConfig } from '../../src/config.ts';
import { createLogger } from '../../src/http/logger.ts';
import { startWorker } from '../../src/jobs/worker.ts';
import { slowJob } from './test-jobs.ts';

const config = readConfig();
const services = await openServices(config, createLogger('warn'));
const worker = await startWorker(services, { jobs: [slowJob], leaseSeconds: Number(process.argv[2] ?? 30), heartbeatMs: 60_000 });
process.stdout.write(`${JSON.stringify({ event: 'ready', worker: worker.fleet.id, pid: process.pid })}\n`);
process.once('SIGTERM', async () => {
  await worker.stop();
  await closeServices(services);
  process.exit(0);
});
