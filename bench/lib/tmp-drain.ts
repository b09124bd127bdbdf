import pg from 'pg';
import { cleanUp, startOpsbase } from './opsbase.ts';
import { newId } from '../../src/core/ids.ts';
const o = await startOpsbase({});
const pool = new pg.Pool({ connectionString: o.databaseUrl(), max: 6 });
const mk = (i: number, queue: string) =>
  Array.from({ length: 1000 }, (_, k) => ({
    id: newId('job'),
    queue,
    task_type: 'bench',
    payload: { n: i + k, note: 'benchmark job' },
    priority: 0,
    max_attempts: 3,
    backoff_seconds: 5,
    timeout_seconds: 300,
    run_at: null,
    delay_seconds: 0,
    idempotency_key: null,
    singleton_key: null,
    schedule_id: null,
  }));
const ins = `insert into queue_jobs (id, org_id, queue, task_type, payload, priority, max_attempts, backoff_seconds, timeout_seconds, run_at, idempotency_key, singleton_key, schedule_id, created_by)
 select x.id, 'org_x', x.queue, x.task_type, x.payload, x.priority, x.max_attempts, x.backoff_seconds, x.timeout_seconds, coalesce(x.run_at, now() + make_interval(secs => x.delay_seconds)), x.idempotency_key, x.singleton_key, x.schedule_id, null
 from jsonb_to_recordset($1::jsonb) as x(id text, queue text, task_type text, payload jsonb, priority int, max_attempts int, backoff_seconds int, timeout_seconds int, run_at timestamptz, delay_seconds int, idempotency_key text, singleton_key text, schedule_id text)
 on conflict do nothing returning id`;
const claimSql = (full: boolean) =>
  full
    ? `with lapsed as (
          select id from queue_jobs
          where org_id = $1 and queue = $2 and state = 'active' and lease_expires_at < now()
          order by lease_expires_at limit $3 for update skip locked
        ), ready as (
          select id from queue_jobs
          where org_id = $1 and queue = $2 and state = 'waiting' and run_at <= now()
          order by priority desc nulls last, run_at, seq limit $3 for update skip locked
        ), picked as ((select id from lapsed) union all (select id from ready) limit $3)
        update queue_jobs j set
          state = case when j.state = 'active' and j.attempts >= j.max_attempts then 'failed' else 'active' end,
          attempts = case when j.state = 'active' and j.attempts >= j.max_attempts then j.attempts else j.attempts + 1 end,
          worker_id = case when j.state = 'active' and j.attempts >= j.max_attempts then j.worker_id else $4 end,
          lease_expires_at = case when j.state = 'active' and j.attempts >= j.max_attempts then null else now() + make_interval(secs => 60) end,
          finished_at = case when j.state = 'active' and j.attempts >= j.max_attempts then now() else null end,
          error = j.error, started_at = now(), updated_at = now()
        from picked where j.id = picked.id returning j.*`
    : `with ready as (
          select id from queue_jobs
          where org_id = $1 and queue = $2 and state = 'waiting' and run_at <= now()
          order by priority desc nulls last, run_at, seq limit $3 for update skip locked)
        update queue_jobs j set state='active', attempts = j.attempts+1, worker_id=$4, lease_expires_at = now() + make_interval(secs => 60), started_at = now(), updated_at = now()
        from ready where j.id = ready.id returning j.*`;
const complete = `update queue_jobs j set state = 'completed', result = x.result, finished_at = now(), lease_expires_at = null, updated_at = now()
        from jsonb_to_recordset($1::jsonb) as x(id text, result jsonb)
        where j.id = x.id and j.org_id = 'org_x' and j.state = 'active' and j.worker_id = $2 and j.lease_expires_at >= now() returning j.id`;
const runs: [string, boolean, string?][] = [
  ['simple claim', false],
  ['simple, no org_idx', false, 'drop index queue_jobs_org_idx'],
  ['simple, no finished_idx', false, 'drop index queue_jobs_finished_idx'],
  ['simple, no org_queue_state', false, 'drop index queue_jobs_org_queue_state_idx'],
];
for (const [label, full, ddl] of runs) {
  if (ddl) await pool.query(ddl);
  const queue = `q${Math.random()}`;
  const ti = performance.now();
  for (let i = 0; i < 20000; i += 1000) await pool.query(ins, [JSON.stringify(mk(i, queue))]);
  console.log('  insert', Math.round(performance.now() - ti), 'ms');
  const t0 = performance.now();
  let n = 0;
  await Promise.all(
    Array.from({ length: 4 }, async (_, c) => {
      for (;;) {
        const { rows } = await pool.query(claimSql(full), ['org_x', queue, 100, `w${c}`]);
        if (!rows.length) return;
        await pool.query(complete, [JSON.stringify(rows.map((r) => ({ id: r.id, result: { n: r.payload.n } }))), `w${c}`]);
        n += rows.length;
      }
    }),
  );
  console.log(label, n, Math.round(performance.now() - t0), 'ms', Math.round(n / ((performance.now() - t0) / 1000)), '/s');
}
await pool.end();
await cleanUp();
