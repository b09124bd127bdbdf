// The one job engine for internal work (issue 9, part 3): declared job types run from the queue's table in system
// queues that no org can see or claim; periodic ones are singleton schedules; enqueueJob is transactional; retries,
// timeouts and dead letters; and a worker process SIGKILLed mid-job loses nothing (another worker runs it).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defineJob } from '../src/jobs/define.ts';
import { enqueueJob } from '../src/jobs/enqueue.ts';
import { allJobs } from '../src/jobs/registry.ts';
import { registerSchedules, startWorker } from '../src/jobs/worker.ts';
import { queueTick } from '../src/modules/queue/ticker.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { closeDb, sql } from './helpers/db.ts';
import { spawnSystemWorker } from './helpers/spawn-worker.ts';
import { until } from './helpers/until.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { slowJob } from './helpers/test-jobs.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const db = () => app.app.services.database.db;
const job = async (id: string) => (await sql(app, 'select * from queue_jobs where id = $1', [id]))[0];


test('the periodic sweeps are singleton schedules in system queues: registering twice and firing twice makes one job each', async () => {
  await registerSchedules(app.app.services, allJobs);
  await registerSchedules(app.app.services, allJobs);
  const schedules = await sql(app, `select queue, cron, singleton_key from queue_schedules where org_id = 'system' order by queue`);
  assert.deepEqual(schedules, [
    { queue: 'agents.heartbeat_sweep', cron: '*/5 * * * * *', singleton_key: 'agents.heartbeat_sweep' },
    // OPSBASE_BACKUP_CRON's default (a config-driven schedule).
    { queue: 'backups.schedule', cron: '0 3 * * *', singleton_key: 'backups.schedule' },
    { queue: 'billing.auto_topup', cron: '* * * * *', singleton_key: 'billing.auto_topup' },
    { queue: 'billing.expire_holds', cron: '* * * * *', singleton_key: 'billing.expire_holds' },
    { queue: 'billing.monthly_credits', cron: '7 * * * *', singleton_key: 'billing.monthly_credits' },
    { queue: 'maintenance.prune', cron: '*/10 * * * *', singleton_key: 'maintenance.prune' },
    { queue: 'runs.reap', cron: '* * * * *', singleton_key: 'runs.reap' },
  ]);
  // Due twice while nobody runs them (no worker here): still one pending job per type.
  for (let i = 0; i < 2; i++) {
    await sql(app, `update queue_schedules set next_run_at = now() - interval '1 minute' where org_id = 'system'`);
    await queueTick(app.app.services);
  }
  const pending = await sql(app, `select queue, count(*)::int as n from queue_jobs where org_id = 'system' and state = 'waiting' group by queue order by queue`);
  assert.deepEqual(
    pending.map((r) => [r.queue, r.n]),
    schedules.map((s) => [s.queue, 1]),
  );
  await sql(app, `delete from queue_jobs where org_id = 'system'`);
});

test('system jobs are invisible to orgs: not listed, counted, claimable or reachable by id, even from a queue of the same name', async () => {
  const t = await app.tenant('Nosy');
  const { id } = await enqueueJob(db(), slowJob, { note: 'internal' });
  const get = (path: string) => app.request('GET', `/api/v1${path}`, { key: t.key });
  const post = (path: string, body: unknown = {}) => app.request('POST', `/api/v1${path}`, { key: t.key, body });

  assertEnvelope(await get(`/queue/jobs/${id}`), 404, 'not_found');
  assertEnvelope(await post('/queue/claim', { worker_id: 'nosy', queue: 'test.slow' }), 404, 'not_found', 'claim of the system queue');
  assertEnvelope(await get('/queue/jobs?queue=test.slow'), 404, 'not_found');
  assertEnvelope(await get('/queue/stats?queue=test.slow'), 404, 'not_found');
  for (const verb of ['cancel', 'retry']) assertEnvelope(await post(`/queue/jobs/${id}/${verb}`), 404, 'not_found', verb);
  for (const verb of ['heartbeat', 'complete', 'fail']) {
    assertEnvelope(await post(`/queue/jobs/${id}/${verb}`, { worker_id: 'nosy', error: 'x' }), 404, 'not_found', verb);
  }
  const batch = await post('/queue/complete', { worker_id: 'nosy', jobs: [{ id }] });
  assert.equal(batch.body.data[0].outcome, 'not_found');

  // The org's own queue called `test.slow` is its own: it holds, counts and hands out only the org's job.
  const mine = await post('/queue/jobs', { queue: 'test.slow', task_type: 'test.slow' });
  assert.equal(mine.status, 201);
  assert.deepEqual(
    (await get('/queue/jobs')).body.data.map((j: { id: string }) => j.id),
    [mine.body.id],
  );
  assert.equal((await get('/queue/stats')).body.data.find((s: { queue: string }) => s.queue === 'test.slow').total, 1);
  const claimed = await post('/queue/claim', { worker_id: 'nosy', queue: 'test.slow', batch_size: 10 });
  assert.deepEqual(
    claimed.body.data.map((j: { id: string }) => j.id),
    [mine.body.id],
  );
  assert.equal((await job(id)).state, 'waiting', 'the system job was not touched');
  await sql(app, 'delete from queue_jobs where id = $1', [id]);
});

test('the runner: results stored, failures retried with backoff then dead-lettered (no org event), timeouts fail, enqueue is transactional', async () => {
  const seen: string[] = [];
  const okJob = defineJob<{ n: number }>({
    type: 'test.ok',
    timeout: 10,
    max_attempts: 1,
    backoff: 0,
    handler: async ({ payload }) => ({ doubled: payload.n * 2 }),
  });
  const failingJob = defineJob({
    type: 'test.failing',
    timeout: 10,
    max_attempts: 3,
    backoff: 1,
    handler: async ({ job: j }) => {
      seen.push(`attempt ${j.attempt}`);
      throw new Error(`broken on attempt ${j.attempt}`);
    },
  });
  const hangingJob = defineJob({ type: 'test.hanging', timeout: 1, max_attempts: 1, backoff: 0, handler: () => new Promise(() => {}) });
  const worker = await startWorker(app.app.services, { jobs: [okJob, failingJob, hangingJob], pollMs: 100 });
  try {
    const ok = await enqueueJob(db(), okJob, { n: 21 });
    const done = await until('test.ok completed', async () => (await job(ok.id)).state === 'completed' && job(ok.id));
    assert.deepEqual(done.result, { doubled: 42 });
    assert.equal(done.worker_id, worker.fleet.id);

    const failing = await enqueueJob(db(), failingJob, {});
    const dead = await until('test.failing dead-lettered', async () => (await job(failing.id)).state === 'failed' && job(failing.id), 20_000);
    assert.equal(dead.attempts, 3);
    assert.deepEqual(dead.error, { message: 'broken on attempt 3' });
    assert.deepEqual(seen, ['attempt 1', 'attempt 2', 'attempt 3']);
    // The retries waited 1 s, then 2 s.
    assert.ok(dead.finished_at.getTime() - dead.created_at.getTime() >= 3000, 'backoff 1 s then 2 s');
    assert.equal((await sql(app, `select count(*)::int as n from events where subject = $1`, [failing.id]))[0].n, 0, 'no org hears of it');

    const hanging = await enqueueJob(db(), hangingJob, {});
    const timedOut = await until('test.hanging timed out', async () => (await job(hanging.id)).state === 'failed' && job(hanging.id), 10_000);
    assert.deepEqual(timedOut.error, { message: 'timed out after 1 s' });

    // Enqueued in a transaction that rolls back: no job. A singleton key returns the pending job.
    await assert.rejects(
      db().transaction(async (tx) => {
        await enqueueJob(tx, okJob, { n: 1 }, { idempotencyKey: 'rolled-back' });
        throw new Error('the caller fails');
      }),
    );
    assert.equal((await sql(app, `select count(*)::int as n from queue_jobs where idempotency_key = 'rolled-back'`))[0].n, 0);
    const first = await enqueueJob(db(), okJob, { n: 2 }, { singletonKey: 'one', delaySeconds: 60 });
    const second = await enqueueJob(db(), okJob, { n: 3 }, { singletonKey: 'one' });
    assert.deepEqual([second.id, second.duplicate, first.duplicate], [first.id, true, false]);
  } finally {
    await worker.stop();
  }
});

const spawnWorker = (leaseSeconds: number) => spawnSystemWorker(app.databaseUrl, leaseSeconds);

test('a worker SIGKILLed while running an internal job loses nothing: its lease lapses and another worker runs the job', async () => {
  const victim = spawnWorker(2);
  const procs = [victim];
  try {
    const ready = await until('the victim ready', async () => victim.lines.find((l) => l.event === 'ready'), 30_000, victim.output);
    const { id } = await enqueueJob(db(), slowJob, { note: 'survives' });
    await until('the victim started the job', async () => victim.lines.some((l) => l.event === 'started' && l.id === id), 30_000, victim.output);
    const held = await job(id);
    assert.deepEqual([held.state, held.worker_id, held.attempts], ['active', ready.worker, 1]);
    victim.proc.kill('SIGKILL');
    await victim.exited;

    const survivor = spawnWorker(30);
    procs.push(survivor);
    const back = await until('the survivor ready', async () => survivor.lines.find((l) => l.event === 'ready'), 30_000, survivor.output);
    const done = await until('the job completed by the survivor', async () => (await job(id)).state === 'completed' && job(id), 30_000, survivor.output);
    assert.equal(done.worker_id, back.worker);
    assert.equal(done.attempts, 2, 'the lapsed claim counted as an attempt');
    assert.deepEqual(done.result, { pid: survivor.proc.pid, attempt: 2 });
    assert.ok(survivor.lines.some((l) => l.event === 'started' && l.id === id && l.attempt === 2));

    // A graceful stop ends the survivor cleanly.
    survivor.proc.kill('SIGTERM');
    assert.equal(await survivor.exited, 0, survivor.output());
  } finally {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  }
});
