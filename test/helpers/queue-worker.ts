// A client's worker process for the queue tests: claims jobs over HTTP with an API key, "processes" them (an
// optional delay per job) and completes each with `{ pid, worker_id }` as its result. It reports on stdout, one JSON
// line per event: `claimed` (ids), `done` (ids it completed, as the server confirmed), `conflict` (refused), `exit`.
//
//   node test/helpers/queue-worker.ts --url URL --key KEY --queue Q [--batch 20] [--lease 30] [--wait 1]
//     [--delay-ms 0] [--mode single|batch] [--idle-exit N]
//
// `--mode single` completes job by job (POST /queue/jobs/:id/complete); `batch` completes a claim's jobs in one
// request (POST /queue/complete). `--idle-exit N` exits after N claims in a row came back empty (0: never).
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    queue: { type: 'string' },
    batch: { type: 'string', default: '20' },
    lease: { type: 'string', default: '30' },
    wait: { type: 'string', default: '1' },
    'delay-ms': { type: 'string', default: '0' },
    mode: { type: 'string', default: 'single' },
    'idle-exit': { type: 'string', default: '0' },
  },
});
if (!values.url || !values.key || !values.queue) throw new Error('--url, --key and --queue are required');

const workerId = `worker-${process.pid}`;
const delayMs = Number(values['delay-ms']);
const idleExit = Number(values['idle-exit']);
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(path: string, body: unknown): Promise<{ status: number; body: any }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${values.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${values.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    } catch (err) {
      // A loaded machine may drop a connection; a real worker retries (the server's lease protects the job).
      if (attempt >= 5) throw err;
      await sleep(200);
    }
  }
}

let done = 0;
let idle = 0;
const result = { pid: process.pid, worker_id: workerId };
for (;;) {
  const claimed = await call('/queue/claim', {
    worker_id: workerId,
    queue: values.queue,
    batch_size: Number(values.batch),
    lease_seconds: Number(values.lease),
    wait_seconds: Number(values.wait),
  });
  if (claimed.status !== 200) throw new Error(`claim answered ${claimed.status}: ${JSON.stringify(claimed.body)}`);
  const jobs = claimed.body.data as { id: string }[];
  if (jobs.length === 0) {
    if (idleExit > 0 && ++idle >= idleExit) break;
    continue;
  }
  idle = 0;
  emit({ event: 'claimed', ids: jobs.map((j) => j.id) });
  if (values.mode === 'batch') {
    if (delayMs) await sleep(delayMs * jobs.length);
    const res = await call('/queue/complete', { worker_id: workerId, jobs: jobs.map((j) => ({ id: j.id, result })) });
    if (res.status !== 200) throw new Error(`complete answered ${res.status}: ${JSON.stringify(res.body)}`);
    const ok = res.body.data.filter((d: { outcome: string }) => d.outcome === 'completed').map((d: { id: string }) => d.id);
    done += ok.length;
    emit({ event: 'done', ids: ok });
    for (const d of res.body.data) if (d.outcome !== 'completed') emit({ event: 'conflict', id: d.id, message: d.message });
  } else {
    for (const job of jobs) {
      if (delayMs) await sleep(delayMs);
      const res = await call(`/queue/jobs/${job.id}/complete`, { worker_id: workerId, result });
      if (res.status === 200) {
        done++;
        emit({ event: 'done', ids: [job.id] });
      } else {
        emit({ event: 'conflict', id: job.id, status: res.status, message: res.body.message });
      }
    }
  }
}
emit({ event: 'exit', done });
