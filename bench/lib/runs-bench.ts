// The runs part of `bench tasks`: task runs with the offline model, end to end through HTTP and a real worker
// process (`opsbase worker` on the server's database), against a bare job of the public queue measured in the same
// run. Latency figures are the server's own timestamps (queued → finished), so the bench's polling adds nothing.
//   latency:    runs one at a time (each followed to its end over SSE) vs bare queue jobs one at a time
//               (submitted over HTTP, claimed by a long-polling claimer, completed): overhead = run p50 − job p50.
//   throughput: the rest of the runs queued at once by concurrent callers; runs/s from first queued to last finished.
import pg from 'pg';
import { join } from 'node:path';
import { api, type Opsbase, ROOT, sleep, startChild, stopChild } from './opsbase.ts';
import { keepAliveClient } from './http-client.ts';
import { percentile } from './measure.ts';

export const RUN_TARGETS = { overheadP50Ms: 10 };

/**
 * The bench's calls, through the lean keep-alive client (http-client.ts) that the latency loops use: fetch's own CPU,
 * on the two cores the server, the worker and PostgreSQL share, lands on the path of the run being timed.
 */
function benchApi(base: string, key: string) {
  const call = keepAliveClient(base, { authorization: `Bearer ${key}` });
  const json = async (method: string, path: string, body: unknown = {}) => {
    const res = await call(path, { method, body });
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.body.slice(0, 2000)}`);
    return JSON.parse(res.body);
  };
  return {
    post: (path: string, body?: unknown) => json('POST', path, body),
    /** Reads a run's event stream to its end. */
    followToEnd: async (runId: string) => {
      const res = await call(`/api/v1/runs/${runId}/events`, { headers: { accept: 'text/event-stream' } });
      if (!/event: end/.test(res.body)) throw new Error(`run ${runId}: the stream ended without its end event (${res.status})`);
    },
  };
}

export interface RunFigures {
  runP50: number;
  runP99: number;
  jobP50: number;
  overheadP50: number;
  runsPerSecond: number;
  failed: number;
  /** p50 of each phase of a run: queued → started (→ its job claimed, → started), started → finished. */
  phases: { pickup: number; claim: number; begin: number; work: number };
  /** The slowest of the one-at-a-time runs, and where its time went. */
  slowest: string;
}

export async function runsBench(
  o: Opsbase,
  admin: { session: string },
  tenant: { key: string; orgId: string },
  total: number,
  concurrency: number,
): Promise<RunFigures> {
  const headers = { authorization: `Bearer ${tenant.key}` };
  const bench = benchApi(o.base, tenant.key);
  const pool = new pg.Pool({ connectionString: o.databaseUrl(), max: 2 });
  const worker = startChild(
    'worker',
    [join(ROOT, 'src', 'main.ts'), 'worker'],
    { ...process.env, DATABASE_URL: o.databaseUrl(), OPSBASE_DATA_DIR: o.dataDir, LOG_LEVEL: 'warn' },
    true,
  );
  try {
    await api(o.base, 'POST', '/api/v1/billing/grants', { org: tenant.orgId, credits: total + 10 }, { authorization: `Bearer ${admin.session}` });
    const agent = await api(o.base, 'POST', '/api/v1/agents', { name: 'bencher', role: 'Bench writer' }, headers);
    // The tasks, seeded in one statement (the plan's tasks_per_day would stop a thousand creations through the API).
    await pool.query(
      `insert into tasks (id, org_id, number, title, title_key, description, status, priority, assignee_type, assignee_id, created_by_type)
       select 'task_' || lpad(g::text, 26, '0') || '', $1, g, 'Write note ' || g, 'write note ' || g, 'Draft it. Check it. Publish it.', 'todo', 'P2', 'agent', $2, 'system'
       from generate_series(1, $3::int) g`,
      [tenant.orgId, agent.id, total],
    );
    await pool.query(`insert into task_counters (org_id, last_number, day, created_today) values ($1, $2, '2000-01-01', 0)`, [tenant.orgId, total]);

    // The worker has joined the fleet (it is listening) before the first run is timed.
    const joined = Date.now();
    while ((await pool.query(`select count(*)::int as n from workers where stopped_at is null`)).rows[0].n === 0) {
      if (Date.now() - joined > 60_000) throw new Error(`the worker did not start: ${worker.tail.join('\n')}`);
      await sleep(100);
    }
    // Latency, one at a time.
    const sequential = Math.min(100, Math.floor(total / 5));
    for (let n = 1; n <= sequential; n++) {
      const run = await bench.post(`/api/v1/tasks/${n}/run`);
      await bench.followToEnd(run.id);
    }
    // The bare queue job: submit, claimed by a long-polling claimer, completed (the first one, uncounted, opens the queue).
    await bench.post('/api/v1/queue/jobs', { queue: 'bare', task_type: 'warm-up', payload: {} });
    const warm = await bench.post('/api/v1/queue/claim', { worker_id: 'bench', queue: 'bare', batch_size: 1 });
    await bench.post(`/api/v1/queue/jobs/${warm.data[0].id}/complete`, { worker_id: 'bench', result: {} });
    for (let i = 0; i < sequential; i++) {
      const claim = bench.post('/api/v1/queue/claim', { worker_id: 'bench', queue: 'bare', batch_size: 1, wait_seconds: 10 });
      await sleep(2);
      await bench.post('/api/v1/queue/jobs', { queue: 'bare', task_type: 'noop', payload: { i } });
      const got = await claim;
      await bench.post(`/api/v1/queue/jobs/${got.data[0].id}/complete`, { worker_id: 'bench', result: { ok: true } });
    }
    // Throughput: the rest, queued by concurrent callers.
    let next = sequential + 1;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next <= total) {
          const n = next++;
          await bench.post(`/api/v1/tasks/${n}/run`);
        }
      }),
    );
    for (;;) {
      const { rows } = await pool.query(`select count(*)::int as open from runs where org_id = $1 and status in ('queued', 'running')`, [
        tenant.orgId,
      ]);
      if (rows[0].open === 0) break;
      await sleep(100);
    }
    const ms = (sql: string) => pool.query<{ ms: number }>(sql, [tenant.orgId]).then((r) => r.rows.map((x) => Number(x.ms)).sort((a, b) => a - b));
    const runLat = await ms(`select extract(epoch from finished_at - queued_at) * 1000 as ms from runs
      where org_id = $1 and task_id in (select id from tasks where org_id = $1 and number <= ${sequential})`);
    const jobLat = await ms(
      `select extract(epoch from finished_at - created_at) * 1000 as ms from queue_jobs where org_id = $1 and queue = 'bare' and task_type = 'noop'`,
    );
    const { rows: span } = await pool.query(
      `select count(*)::int as n, extract(epoch from max(finished_at) - min(queued_at)) as s, count(*) filter (where status <> 'succeeded')::int as failed
         from runs where org_id = $1 and task_id in (select id from tasks where org_id = $1 and number > ${sequential})`,
      [tenant.orgId],
    );
    const { rows: all } = await pool.query(`select count(*) filter (where status <> 'succeeded')::int as failed from runs where org_id = $1`, [
      tenant.orgId,
    ]);
    // Where a run's time goes (one at a time): waiting for a worker, its start, then the model call and its end (the
    // last model call's events are written with the run's end: llm.ts).
    const phase = async (expr: string) =>
      percentile(
        await ms(`select extract(epoch from ${expr}) * 1000 as ms from runs r
          where r.org_id = $1 and r.task_id in (select id from tasks where org_id = $1 and number <= ${sequential})`),
        50,
      );
    // The pickup in two: until a worker claimed the run's job (the request's commit, the NOTIFY, the claim), then
    // until the run's start was recorded (the job's handler and the start's transaction).
    const claimedAt = `(select started_at from queue_jobs j where j.id = r.job_id)`;
    const phases = {
      pickup: await phase('r.started_at - r.queued_at'),
      claim: await phase(`${claimedAt} - r.queued_at`),
      begin: await phase(`r.started_at - ${claimedAt}`),
      work: await phase('r.finished_at - r.started_at'),
    };
    const { rows: slowest } = await pool.query(
      `select t.number, extract(epoch from r.started_at - r.queued_at) * 1000 as pickup, extract(epoch from r.finished_at - r.started_at) * 1000 as work
         from runs r join tasks t on t.id = r.task_id where r.org_id = $1 and t.number <= ${sequential}
        order by r.finished_at - r.queued_at desc limit 1`,
      [tenant.orgId],
    );
    const slow = slowest[0]
      ? `run #${slowest[0].number}: queued → started ${Number(slowest[0].pickup).toFixed(0)} ms, then ${Number(slowest[0].work).toFixed(0)} ms`
      : '';
    const runP50 = percentile(runLat, 50);
    const jobP50 = percentile(jobLat, 50);
    return {
      runP50,
      runP99: percentile(runLat, 99),
      jobP50,
      overheadP50: runP50 - jobP50,
      runsPerSecond: span[0].n / Number(span[0].s),
      failed: all[0].failed,
      phases,
      slowest: slow,
    };
  } finally {
    await pool.end();
    await stopChild(worker, 20_000);
  }
}
