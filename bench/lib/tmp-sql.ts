import pg from 'pg';
import { api, cleanUp, createApiKey, startOpsbase } from './opsbase.ts';
import { newId } from '../../src/core/ids.ts';
const o = await startOpsbase({});
const headers = { authorization: `Bearer ${await createApiKey(o.base)}` };
const pool = new pg.Pool({ connectionString: o.databaseUrl(), max: 4 });
const mk = (i: number) =>
  Array.from({ length: 1000 }, (_, k) => ({
    id: newId('job'),
    queue: 'x',
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
const q = (
  ret: string,
) => `insert into queue_jobs (id, org_id, queue, task_type, payload, priority, max_attempts, backoff_seconds, timeout_seconds, run_at, idempotency_key, singleton_key, schedule_id, created_by)
 select x.id, 'org_x', x.queue, x.task_type, x.payload, x.priority, x.max_attempts, x.backoff_seconds, x.timeout_seconds, coalesce(x.run_at, now() + make_interval(secs => x.delay_seconds)), x.idempotency_key, x.singleton_key, x.schedule_id, null
 from jsonb_to_recordset($1::jsonb) as x(id text, queue text, task_type text, payload jsonb, priority int, max_attempts int, backoff_seconds int, timeout_seconds int, run_at timestamptz, delay_seconds int, idempotency_key text, singleton_key text, schedule_id text)
 on conflict do nothing ${ret}`;
for (const [label, ret] of [
  ['returning *', 'returning *'],
  ['returning id', 'returning id'],
  ['no returning', ''],
  ['returning *', 'returning *'],
]) {
  const t0 = performance.now();
  for (let i = 0; i < 20000; i += 1000) await pool.query(q(ret), [JSON.stringify(mk(i))]);
  console.log(label, Math.round(performance.now() - t0), 'ms for 20k');
}
let t0 = performance.now();
for (let i = 0; i < 20000; i += 1000) {
  const batch = Array.from({ length: 1000 }, (_, k) => ({ payload: { n: i + k, note: 'benchmark job' } }));
  await api(o.base, 'POST', '/api/v1/queue/jobs', { queue: 'p', task_type: 'bench', jobs: batch }, headers);
}
console.log('http submit', Math.round(performance.now() - t0));
await pool.end();
await cleanUp();
