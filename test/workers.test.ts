// The worker fleet (issue 4 scope 3, Orkosi "factory workers"): worker processes register and heartbeat, count the
// jobs their handlers run, mark themselves stopped on a graceful stop, go stale when killed, and apply the fleet
// config live. Instance-wide, so instance admins only.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { defineJob } from '../src/jobs/define.ts';
import { enqueueJob } from '../src/jobs/enqueue.ts';
import { startWorker, type Worker } from '../src/jobs/worker.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { closeDb, sleep, sql } from './helpers/db.ts';
import { until } from './helpers/until.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let worker: Worker | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-fleet-'));
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await worker?.stop();
  await closeDb(app);
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const admin = () => app.admin.sessionToken;

// Test-only job types, run by the in-process worker beside the declared ones.
const fleetJob = defineJob<{ fail: boolean }>({
  type: 'test.fleet',
  timeout: 10,
  max_attempts: 1,
  backoff: 0,
  handler: async ({ payload }) => {
    if (payload.fail) throw new Error('planned failure');
    return { ok: true };
  },
});
const gate = { running: 0, peak: 0, done: 0 };
const gateJob = defineJob({
  type: 'test.gate',
  timeout: 10,
  max_attempts: 1,
  backoff: 0,
  handler: async () => {
    gate.running++;
    gate.peak = Math.max(gate.peak, gate.running);
    await sleep(300);
    gate.running--;
    gate.done++;
  },
});
const enqueue = (def: typeof gateJob | typeof fleetJob, payload: Record<string, unknown>) =>
  enqueueJob(app.app.services.database.db, def as typeof gateJob, payload as Record<string, never>);

async function listWorkers(query = '') {
  const res = await app.request('GET', `/api/v1/factory-workers${query}`, { key: admin() });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as Record<string, any>[];
}


function spawnWorker(): { proc: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const proc = spawn(process.execPath, ['src/main.ts', 'worker'], {
    env: { ...process.env, DATABASE_URL: app.databaseUrl, OPSBASE_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  return { proc, exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))), output: () => out };
}

test('a worker registers with host and pid, heartbeats, and counts the jobs its handlers run', async () => {
  worker = await startWorker(app.app.services, { heartbeatMs: 200, jobs: [fleetJob, gateJob] });
  const mine = (await listWorkers()).find((w) => w.id === worker?.fleet.id);
  assert.ok(mine, 'the in-process worker is listed');
  assert.match(mine.id, /^wrk_/);
  assert.equal(mine.host, hostname());
  assert.equal(mine.pid, process.pid);
  assert.equal(mine.state, 'running');
  assert.equal(mine.stopped_at, null);
  assert.ok(mine.concurrency >= 1);

  // The heartbeat moves last_heartbeat_at.
  const first = mine.last_heartbeat_at;
  await until('a heartbeat', async () => (await listWorkers()).find((w) => w.id === worker?.fleet.id && w.last_heartbeat_at > first));

  // Jobs its runner runs are counted: one that succeeds, one that throws.
  await enqueue(fleetJob, { fail: false });
  await enqueue(fleetJob, { fail: true });
  const counted = await until('the jobs counted', async () => {
    const w = (await listWorkers()).find((x) => x.id === worker?.fleet.id);
    return w && w.processed >= 1 && w.failed >= 1 && w;
  });
  assert.equal(counted.failed, 1);

  const stats = await app.request('GET', '/api/v1/factory-workers/stats', { key: admin() });
  assert.equal(stats.status, 200, JSON.stringify(stats.body));
  assert.ok(stats.body.workers.running >= 1);
  assert.ok(stats.body.processed >= 1);
  assert.ok(stats.body.failed >= 1);
  assert.equal(typeof stats.body.in_flight, 'number');
  assert.equal(stats.body.config.max_concurrent, 4, 'the default config');
});

test('PATCH config by an instance admin persists, and a running worker applies it on its next heartbeat', async () => {
  assert.ok(worker);
  const res = await app.request('PATCH', '/api/v1/factory-workers/config', { key: admin(), body: { max_concurrent: 7, worker_count: 3 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.max_concurrent, 7);
  assert.equal(res.body.worker_count, 3);
  assert.equal(res.body.updated_by, app.admin.userId);
  const updatedAt = res.body.updated_at;

  const applied = await until('the config applied', async () => {
    const w = (await listWorkers()).find((x) => x.id === worker?.fleet.id);
    return w && w.concurrency === 7 && w;
  });
  assert.ok(applied.config_applied_at >= updatedAt);
  assert.equal(worker.fleet.concurrency(), 7, "the worker's job gate has the new size");

  // Persisted: stats report it, and a partial PATCH keeps the other field.
  const again = await app.request('PATCH', '/api/v1/factory-workers/config', { key: admin(), body: { worker_count: 1 } });
  assert.equal(again.body.max_concurrent, 7);
  const stats = await app.request('GET', '/api/v1/factory-workers/stats', { key: admin() });
  assert.deepEqual([stats.body.config.worker_count, stats.body.config.max_concurrent], [1, 7]);

  // The audit row, instance-level.
  const [row] = await sql(app, `select action, org_id from activity_log where action = 'workers.config_updated' order by id desc limit 1`);
  assert.deepEqual(row, { action: 'workers.config_updated', org_id: null });
});

test('max_concurrent gates the jobs a worker runs at once, changed live', async () => {
  assert.ok(worker);
  const setMax = async (n: number) => {
    const res = await app.request('PATCH', '/api/v1/factory-workers/config', { key: admin(), body: { max_concurrent: n } });
    assert.equal(res.status, 200);
    await until(`max_concurrent ${n} applied`, async () => worker?.fleet.concurrency() === n);
  };
  await setMax(1);
  for (let i = 0; i < 4; i++) await enqueue(gateJob, {});
  await until('4 gated jobs done', async () => gate.done >= 4);
  assert.equal(gate.peak, 1, 'one at a time under max_concurrent 1');
  await setMax(4);
  gate.peak = 0;
  for (let i = 0; i < 4; i++) await enqueue(gateJob, {});
  await until('4 more jobs done', async () => gate.done >= 8);
  assert.ok(gate.peak > 1, `more than one at a time after raising it (peak ${gate.peak})`);
  await setMax(7);
});

test('health-summary: fewer workers than configured and public-queue backlogs raise alerts', async () => {
  await app.request('PATCH', '/api/v1/factory-workers/config', { key: admin(), body: { worker_count: 5 } });
  const t = await app.tenant('Backlog');
  const job = await app.request('POST', '/api/v1/queue/jobs', { key: t.key, body: { queue: 'slow', task_type: 'x' } });
  assert.equal(job.status, 201, JSON.stringify(job.body));
  await sql(app, `update queue_jobs set run_at = now() - interval '10 minutes' where id = $1`, [job.body.id]);

  const res = await app.request('GET', '/api/v1/factory-workers/health-summary?backlog_minutes=5', { key: admin() });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, 'degraded');
  assert.equal(res.body.workers.target, 5);
  assert.ok(res.body.running.some((w: { pid: number }) => w.pid === process.pid));
  const below = res.body.alerts.find((a: { kind: string }) => a.kind === 'below_target');
  assert.ok(below, JSON.stringify(res.body.alerts));
  const backlog = res.body.alerts.find(
    (a: { kind: string; details: { queue?: string } }) => a.kind === 'queue_backlog' && a.details.queue === 'slow',
  );
  assert.ok(backlog, JSON.stringify(res.body.alerts));
  assert.equal(backlog.details.org_id, t.orgId);
  assert.ok(backlog.details.oldest_waiting_seconds >= 600);
  assert.ok(res.body.backlog.public_queue.waiting >= 1);
  assert.ok(Array.isArray(res.body.backlog.background));

  // A longer threshold: no backlog alert for it.
  const lenient = await app.request('GET', '/api/v1/factory-workers/health-summary?backlog_minutes=60', { key: admin() });
  assert.ok(!lenient.body.alerts.some((a: { kind: string }) => a.kind === 'queue_backlog'));
  await app.request('PATCH', '/api/v1/factory-workers/config', { key: admin(), body: { worker_count: 1 } });
});

test('a real `opsbase worker` process: listed with its pid, stopped_at after SIGTERM; a SIGKILLed one goes stale', async () => {
  const graceful = spawnWorker();
  const pid = graceful.proc.pid;
  const listed = await until(`worker ${pid} listed (${graceful.output()})`, async () =>
    (await listWorkers()).find((w) => w.pid === pid && w.state === 'running'),
  );
  assert.equal(listed.host, hostname());
  assert.equal(listed.concurrency, 7, 'a new worker starts with the current config');
  // It registers before its queues are set up; SIGTERM once it is fully up (its signal handlers are installed then).
  await until('the worker started', async () => graceful.output().includes('worker started'));
  graceful.proc.kill('SIGTERM');
  assert.equal(await graceful.exited, 0, graceful.output());
  const stopped = (await listWorkers()).find((w) => w.id === listed.id);
  assert.ok(stopped?.stopped_at, 'marked stopped');
  assert.equal(stopped.state, 'stopped');
  assert.equal(stopped.in_flight, 0);
  assert.ok((await listWorkers('?state=stopped')).some((w) => w.id === listed.id));
  assert.ok(!(await listWorkers('?state=running')).some((w) => w.id === listed.id));

  const killed = spawnWorker();
  const kpid = killed.proc.pid;
  const victim = await until(`worker ${kpid} listed`, async () => (await listWorkers()).find((w) => w.pid === kpid));
  killed.proc.kill('SIGKILL');
  await killed.exited;
  // Time passes: its last heartbeat is now a minute old.
  await sql(app, `update workers set last_heartbeat_at = now() - interval '1 minute' where id = $1`, [victim.id]);
  const row = (await listWorkers()).find((w) => w.id === victim.id);
  assert.equal(row?.state, 'stale');
  assert.equal(row.stopped_at, null);

  const health = await app.request('GET', '/api/v1/factory-workers/health-summary', { key: admin() });
  assert.equal(health.status, 200);
  assert.ok(health.body.stale.some((w: { id: string; pid: number }) => w.id === victim.id && w.pid === kpid));
  const alert = health.body.alerts.find(
    (a: { kind: string; details: { worker_id?: string } }) => a.kind === 'worker_stale' && a.details.worker_id === victim.id,
  );
  assert.ok(alert, JSON.stringify(health.body.alerts));
  assert.ok(alert.details.seconds_since_heartbeat >= 55);
  assert.ok(health.body.workers.stale >= 1);
  const stats = await app.request('GET', '/api/v1/factory-workers/stats', { key: admin() });
  assert.ok(stats.body.workers.stale >= 1 && stats.body.workers.stopped >= 1);
});

test('the in-process worker stops gracefully: stopped_at set', async () => {
  assert.ok(worker);
  const id = worker.fleet.id;
  await worker.stop();
  worker = undefined;
  const row = (await listWorkers()).find((w) => w.id === id);
  assert.ok(row?.stopped_at);
  assert.equal(row.state, 'stopped');
});

test('instance-wide: a non-admin session and an API key get 403 on every fleet operation', async () => {
  const t = await app.tenant('NotAdmin');
  const calls: [string, string, unknown?][] = [
    ['GET', '/api/v1/factory-workers'],
    ['GET', '/api/v1/factory-workers/stats'],
    ['GET', '/api/v1/factory-workers/health-summary'],
    ['PATCH', '/api/v1/factory-workers/config', { max_concurrent: 1 }],
  ];
  for (const [method, path, body] of calls) {
    for (const [who, key] of [
      ['non-admin session', t.sessionToken],
      ['API key', t.key],
      ["the admin's org API key", app.admin.key],
    ]) {
      assertEnvelope(await app.request(method, path, { key, body }), 403, 'forbidden', `${method} ${path} by ${who}`);
    }
    assertEnvelope(await app.request(method, path, { body }), 401, 'unauthorized', `${method} ${path} anonymous`);
  }
  const stats = await app.request('GET', '/api/v1/factory-workers/stats', { key: admin() });
  assert.equal(stats.body.config.max_concurrent, 7, 'the refused PATCH changed nothing');
});

test('bad input: out-of-range config values and unknown states are 400', async () => {
  for (const body of [{ max_concurrent: 0 }, { worker_count: -1 }, { max_concurrent: 'many' }]) {
    assertEnvelope(
      await app.request('PATCH', '/api/v1/factory-workers/config', { key: admin(), body }),
      400,
      'invalid_request',
      JSON.stringify(body),
    );
  }
  assertEnvelope(await app.request('GET', '/api/v1/factory-workers?state=zombie', { key: admin() }), 400, 'invalid_request', 'state=zombie');
});
