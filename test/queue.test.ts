// The public job queue (issue 4, scope 1–2): submit, claim with leases, heartbeat, complete, fail with backoff and
// dead-lettering, cancel, retry, lapsed leases returning jobs, 409s, stats, list filters, schedules, long polls,
// bad input, and org isolation. Timings use leases of 1 s and backoffs of 1–2 s; nothing waits on a tight window.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { idFloor } from '../src/core/ids.ts';
import { pruneFinishedJobs, queueTick } from '../src/modules/queue/ticker.ts';
import { closeDb, sleep, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' } });
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const api = (t: Tenant, method: string, path: string, body?: unknown) => app.request(method, `/api/v1${path}`, { key: t.key, body });

async function submit(t: Tenant, body: Record<string, unknown>) {
  const res = await api(t, 'POST', '/queue/jobs', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function claim(t: Tenant, body: Record<string, unknown>) {
  const res = await api(t, 'POST', '/queue/claim', { batch_size: 10, ...body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as any[];
}

const job = async (t: Tenant, id: string) => (await api(t, 'GET', `/queue/jobs/${id}`)).body;

test('submit → claim → complete: the job carries its lease, attempts and result', async () => {
  const t = await app.tenant('Queue');
  const sub = await submit(t, { queue: 'emails', task_type: 'send', payload: { to: 'a@example.com' } });
  assert.match(sub.id, /^job_/);
  assert.equal(sub.state, 'waiting');
  assert.equal(sub.queue, 'emails');
  assert.equal(sub.task_type, 'send');
  assert.deepEqual(sub.payload, { to: 'a@example.com' });
  assert.equal(sub.attempts, 0);
  assert.equal(sub.max_attempts, 3);
  assert.equal(sub.worker_id, null);

  const [claimed] = await claim(t, { worker_id: 'w1', queue: 'emails', lease_seconds: 60 });
  assert.equal(claimed.id, sub.id);
  assert.equal(claimed.state, 'active');
  assert.equal(claimed.worker_id, 'w1');
  assert.equal(claimed.attempts, 1);
  const lease = Date.parse(claimed.lease_expires_at) - Date.parse(claimed.started_at);
  assert.ok(Math.abs(lease - 60_000) < 1000, `a 60 s lease, got ${lease} ms`);
  assert.deepEqual(await claim(t, { worker_id: 'w2', queue: 'emails' }), [], 'a claimed job is not handed out twice');

  const done = await api(t, 'POST', `/queue/jobs/${sub.id}/complete`, { worker_id: 'w1', result: { sent: true } });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.state, 'completed');
  assert.deepEqual(done.body.result, { sent: true });
  assert.ok(done.body.finished_at);
  assert.equal(done.body.lease_expires_at, null);

  // Completing again, by the same or another worker: 409, and the result stays.
  assertEnvelope(await api(t, 'POST', `/queue/jobs/${sub.id}/complete`, { worker_id: 'w1', result: { again: true } }), 409, 'conflict');
  assertEnvelope(await api(t, 'POST', `/queue/jobs/${sub.id}/complete`, { worker_id: 'w2' }), 409, 'conflict');
  assert.deepEqual((await job(t, sub.id)).result, { sent: true });
});

test('claims take priority first, then submission order; batch_size and task_type bound them', async () => {
  const t = await app.tenant('Order');
  const batch = await submit(t, {
    queue: 'work',
    task_type: 'a',
    jobs: [{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 }, priority: 5 }, { payload: { n: 4 }, task_type: 'b' }],
  });
  assert.equal(batch.data.length, 4);
  assert.deepEqual(
    batch.data.map((j: any) => [j.task_type, j.state, j.duplicate]),
    [
      ['a', 'waiting', false],
      ['a', 'waiting', false],
      ['a', 'waiting', false],
      ['b', 'waiting', false],
    ],
    'batch receipts come back in input order, top-level fields as defaults',
  );
  assert.equal(batch.data[0].payload, undefined, 'a batch does not echo payloads back');
  assert.deepEqual((await job(t, batch.data[3].id)).payload, { n: 4 });
  const first = await claim(t, { worker_id: 'w', queue: 'work', batch_size: 2, task_type: 'a' });
  assert.deepEqual(
    first.map((j) => j.payload.n),
    [3, 1],
  );
  const rest = await claim(t, { worker_id: 'w', queue: 'work', batch_size: 10 });
  assert.deepEqual(rest.map((j) => j.payload.n).sort(), [2, 4]);
});

test('fail retries with exponential backoff, then dead-letters; retry brings it back with fresh attempts', async () => {
  const t = await app.tenant('Backoff');
  const sub = await submit(t, { queue: 'flaky', task_type: 'x', max_attempts: 3, backoff_seconds: 1 });

  const [c1] = await claim(t, { worker_id: 'w', queue: 'flaky', lease_seconds: 30 });
  const f1 = await api(t, 'POST', `/queue/jobs/${sub.id}/fail`, { worker_id: 'w', error: 'boom 1' });
  assert.equal(f1.status, 200, JSON.stringify(f1.body));
  assert.equal(c1.attempts, 1);
  assert.equal(f1.body.state, 'delayed');
  assert.deepEqual(f1.body.error, { message: 'boom 1' });
  assert.equal(f1.body.worker_id, null);
  // Both times are the database's clock in the same statement: the delay is exactly the backoff.
  assert.equal(Date.parse(f1.body.run_at) - Date.parse(f1.body.updated_at), 1000, 'first retry after 1 s');
  assert.deepEqual(await claim(t, { worker_id: 'w', queue: 'flaky' }), [], 'not claimable during its backoff');

  const [c2] = await claim(t, { worker_id: 'w', queue: 'flaky', wait_seconds: 5 });
  assert.equal(c2?.id, sub.id, 'claimable once the backoff has passed (the long poll rechecks)');
  assert.equal(c2.attempts, 2);
  const f2 = await api(t, 'POST', `/queue/jobs/${sub.id}/fail`, { worker_id: 'w', error: { message: 'boom 2', code: 'E2' } });
  assert.equal(f2.body.state, 'delayed');
  assert.equal(Date.parse(f2.body.run_at) - Date.parse(f2.body.updated_at), 2000, 'second retry after 2 s');

  const [c3] = await claim(t, { worker_id: 'w', queue: 'flaky', wait_seconds: 6 });
  assert.equal(c3?.attempts, 3);
  const f3 = await api(t, 'POST', `/queue/jobs/${sub.id}/fail`, { worker_id: 'w', error: 'boom 3' });
  assert.equal(f3.body.state, 'failed', 'dead-lettered after max_attempts');
  assert.ok(f3.body.finished_at);
  assert.equal(f3.body.attempts, 3);
  const dead = await api(t, 'GET', '/queue/jobs?queue=flaky&state=failed');
  assert.deepEqual(
    dead.body.data.map((j: any) => j.id),
    [sub.id],
  );

  const again = await api(t, 'POST', `/queue/jobs/${sub.id}/retry`, {});
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.state, 'waiting');
  assert.equal(again.body.attempts, 0);
  const [c4] = await claim(t, { worker_id: 'w', queue: 'flaky' });
  assert.equal(c4.id, sub.id);
  // retry: false dead-letters at once.
  const f4 = await api(t, 'POST', `/queue/jobs/${sub.id}/fail`, { worker_id: 'w', error: 'fatal', retry: false });
  assert.equal(f4.body.state, 'failed');
  assert.equal(f4.body.attempts, 1);
  // Only failed or cancelled jobs are retried.
  const live = await submit(t, { queue: 'flaky', task_type: 'x' });
  assertEnvelope(await api(t, 'POST', `/queue/jobs/${live.id}/retry`, {}), 409, 'conflict');
  const acts = await api(t, 'GET', '/activity-log?action=queue.job_retried');
  assert.ok(
    acts.body.data.some((a: any) => a.entity_id === sub.id),
    JSON.stringify(acts.body),
  );
});

test('a lapsed lease returns the job to the queue; the old holder gets 409 on heartbeat, complete and fail', async () => {
  const t = await app.tenant('Lease');
  const sub = await submit(t, { queue: 'q', task_type: 'x' });
  const [c1] = await claim(t, { worker_id: 'slow', queue: 'q', lease_seconds: 1 });
  assert.equal(c1.id, sub.id);
  assert.deepEqual(await claim(t, { worker_id: 'fast', queue: 'q' }), []);
  await sleep(1300);

  for (const verb of ['heartbeat', 'complete', 'fail']) {
    const res = await api(t, 'POST', `/queue/jobs/${sub.id}/${verb}`, { worker_id: 'slow', error: 'late' });
    assertEnvelope(res, 409, 'conflict', verb);
    assert.match(res.body.message, /lease expired/);
  }
  const [c2] = await claim(t, { worker_id: 'fast', queue: 'q', lease_seconds: 30 });
  assert.equal(c2?.id, sub.id, 'the lapsed job is claimable again');
  assert.equal(c2.attempts, 2);
  assert.equal(c2.worker_id, 'fast');
  // Now another worker holds it.
  const stale = await api(t, 'POST', `/queue/jobs/${sub.id}/complete`, { worker_id: 'slow' });
  assertEnvelope(stale, 409, 'conflict');
  assert.match(stale.body.message, /another worker/);
  assert.equal(stale.body.details.worker_id, 'fast');
  assert.equal((await api(t, 'POST', `/queue/jobs/${sub.id}/complete`, { worker_id: 'fast', result: { ok: 1 } })).status, 200);
});

test('the last attempt lapsing dead-letters the job (claim and the worker sweep alike)', async () => {
  const t = await app.tenant('LeaseDead');
  const a = await submit(t, { queue: 'once', task_type: 'x', max_attempts: 1 });
  await claim(t, { worker_id: 'w', queue: 'once', lease_seconds: 1 });
  await sleep(1200);
  assert.deepEqual(await claim(t, { worker_id: 'w2', queue: 'once' }), [], 'not handed out again');
  const dead = await job(t, a.id);
  assert.equal(dead.state, 'failed');
  assert.match(dead.error.message, /lease expired/);

  // The sweep (run by workers every second) does the same for queues nobody claims from, and requeues the others.
  const b = await submit(t, { queue: 'swept', task_type: 'x', max_attempts: 1 });
  const c = await submit(t, { queue: 'swept', task_type: 'x', max_attempts: 2 });
  await claim(t, { worker_id: 'w', queue: 'swept', lease_seconds: 1 });
  await sleep(1200);
  await queueTick(app.app.services);
  assert.equal((await job(t, b.id)).state, 'failed');
  const requeued = await job(t, c.id);
  assert.equal(requeued.state, 'waiting');
  assert.equal(requeued.worker_id, null);

  // Each dead letter recorded its `job.failed` event (the requeued job did not).
  const events = await app.request('GET', '/api/v1/events?type=job.failed', { key: t.key });
  assert.equal(events.status, 200);
  assert.deepEqual(events.body.data.map((e: { subject: string }) => e.subject).sort(), [a.id, b.id].sort());
  for (const e of events.body.data) assert.match(e.id, /^evt_[0-9a-z]{26}$/);
});

test('heartbeat extends the lease; only the holder may', async () => {
  const t = await app.tenant('Heartbeat');
  const sub = await submit(t, { queue: 'hb', task_type: 'x' });
  const [c] = await claim(t, { worker_id: 'w', queue: 'hb', lease_seconds: 1 });
  const hb = await api(t, 'POST', `/queue/jobs/${sub.id}/heartbeat`, { worker_id: 'w', lease_seconds: 60 });
  assert.equal(hb.status, 200, JSON.stringify(hb.body));
  assert.ok(Date.parse(hb.body.lease_expires_at) - Date.parse(c.lease_expires_at) > 50_000);
  const other = await api(t, 'POST', `/queue/jobs/${sub.id}/heartbeat`, { worker_id: 'intruder' });
  assertEnvelope(other, 409, 'conflict');
  await sleep(1200);
  // The old 1 s lease would have lapsed; the extended one holds.
  assert.deepEqual(await claim(t, { worker_id: 'other', queue: 'hb' }), []);
  assert.equal((await api(t, 'POST', `/queue/jobs/${sub.id}/complete`, { worker_id: 'w' })).status, 200);
});

test('cancel: waiting and active jobs; the holder then gets 409; finished jobs cannot be cancelled', async () => {
  const t = await app.tenant('Cancel');
  const [a, b] = (await submit(t, { queue: 'c', task_type: 'x', jobs: [{}, {}] })).data;
  const ca = await api(t, 'POST', `/queue/jobs/${a.id}/cancel`, {});
  assert.equal(ca.status, 200);
  assert.equal(ca.body.state, 'cancelled');
  const [held] = await claim(t, { worker_id: 'w', queue: 'c' });
  assert.equal(held.id, b.id, 'the cancelled job is never claimed');
  assert.equal((await api(t, 'POST', `/queue/jobs/${b.id}/cancel`, {})).body.state, 'cancelled');
  const late = await api(t, 'POST', `/queue/jobs/${b.id}/complete`, { worker_id: 'w' });
  assertEnvelope(late, 409, 'conflict');
  assert.match(late.body.message, /cancelled/);
  assertEnvelope(await api(t, 'POST', `/queue/jobs/${a.id}/cancel`, {}), 409, 'conflict');
  const retried = await api(t, 'POST', `/queue/jobs/${a.id}/retry`, {});
  assert.equal(retried.body.state, 'waiting', 'a cancelled job can be retried');
  const acts = await api(t, 'GET', '/activity-log?action=queue.job_cancelled');
  assert.equal(acts.body.data.length, 2, JSON.stringify(acts.body));
});

test('delayed jobs, idempotency and singleton keys', async () => {
  const t = await app.tenant('Delay');
  const later = await submit(t, { queue: 'd', task_type: 'x', delay_seconds: 3600 });
  assert.equal(later.state, 'delayed');
  const at = new Date(Date.now() + 7200_000).toISOString();
  const scheduled = await submit(t, { queue: 'd', task_type: 'x', run_at: at });
  assert.equal(Date.parse(scheduled.run_at), Date.parse(at));
  assert.deepEqual(await claim(t, { worker_id: 'w', queue: 'd' }), []);
  const delayed = await api(t, 'GET', '/queue/jobs?queue=d&state=delayed');
  assert.deepEqual(delayed.body.data.map((j: any) => j.id).sort(), [later.id, scheduled.id].sort());
  assert.equal((await api(t, 'GET', '/queue/jobs?queue=d&state=waiting')).body.data.length, 0);

  const i1 = await submit(t, { queue: 'd', task_type: 'x', idempotency_key: 'order-1' });
  const i2 = await submit(t, { queue: 'd', task_type: 'x', idempotency_key: 'order-1', payload: { other: true } });
  assert.equal(i2.id, i1.id, 'same idempotency key → the first job');
  const batch = await submit(t, {
    queue: 'd',
    task_type: 'x',
    jobs: [{ idempotency_key: 'order-2' }, { idempotency_key: 'order-2' }, { idempotency_key: 'order-1' }],
  });
  assert.equal(batch.data[0].id, batch.data[1].id);
  assert.equal(batch.data[2].id, i1.id);
  assert.deepEqual(
    batch.data.map((j: any) => j.duplicate),
    [false, true, true],
  );

  const s1 = await submit(t, { queue: 'single', task_type: 'x', singleton_key: 'report' });
  const s2 = await submit(t, { queue: 'single', task_type: 'x', singleton_key: 'report' });
  assert.equal(s2.id, s1.id, 'one pending job per singleton key');
  const [c] = await claim(t, { worker_id: 'w', queue: 'single' });
  assert.equal((await submit(t, { queue: 'single', task_type: 'x', singleton_key: 'report' })).id, s1.id, 'active counts as pending');
  await api(t, 'POST', `/queue/jobs/${c.id}/complete`, { worker_id: 'w' });
  const s3 = await submit(t, { queue: 'single', task_type: 'x', singleton_key: 'report' });
  assert.notEqual(s3.id, s1.id, 'a new job once the previous one finished');
});

test('stats per queue and state; list filters and pagination', async () => {
  const t = await app.tenant('Stats');
  await submit(t, { queue: 's1', task_type: 'x', jobs: Array.from({ length: 5 }, (_, n) => ({ payload: { n } })) });
  await submit(t, { queue: 's1', task_type: 'y', delay_seconds: 600 });
  await submit(t, { queue: 's2', task_type: 'x' });
  const claimed = await claim(t, { worker_id: 'w', queue: 's1', batch_size: 3, task_type: 'x' });
  await api(t, 'POST', '/queue/complete', { worker_id: 'w', jobs: [{ id: claimed[0].id, result: { ok: true } }] });
  await api(t, 'POST', `/queue/jobs/${claimed[1].id}/fail`, { worker_id: 'w', error: 'no', retry: false });

  const stats = await api(t, 'GET', '/queue/stats');
  assert.equal(stats.status, 200);
  assert.deepEqual(stats.body.data, [
    { queue: 's1', waiting: 2, delayed: 1, active: 1, completed: 1, failed: 1, cancelled: 0, total: 6 },
    { queue: 's2', waiting: 1, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0, total: 1 },
  ]);
  const one = await api(t, 'GET', '/queue/stats?queue=s2');
  assert.deepEqual(
    one.body.data.map((s: any) => s.queue),
    ['s2'],
  );

  const active = await api(t, 'GET', '/queue/jobs?state=active');
  assert.deepEqual(
    active.body.data.map((j: any) => j.id),
    [claimed[2].id],
  );
  const ys = await api(t, 'GET', '/queue/jobs?queue=s1&task_type=y');
  assert.equal(ys.body.data.length, 1);
  const page1 = await api(t, 'GET', '/queue/jobs?queue=s1&limit=4');
  assert.equal(page1.body.data.length, 4);
  assert.equal(page1.body.meta.has_more, true);
  const page2 = await api(t, 'GET', `/queue/jobs?queue=s1&limit=4&cursor=${page1.body.meta.next_cursor}`);
  assert.equal(page2.body.data.length, 2);
  assert.equal(page2.body.meta.has_more, false);
  const all = [...page1.body.data, ...page2.body.data].map((j: any) => j.id);
  assert.equal(new Set(all).size, 6);
  assert.deepEqual(all, [...all].sort().reverse(), 'newest first');

  // The Orkosi paths are aliases.
  const alias = await api(t, 'GET', '/bull-queue/s1/jobs?state=completed');
  assert.equal(alias.status, 200, JSON.stringify(alias.body));
  assert.deepEqual(
    alias.body.data.map((j: any) => j.id),
    [claimed[0].id],
  );
  assert.equal((await api(t, 'GET', '/bull-queue/stats')).body.data.length, 2);
  const viaAlias = await api(t, 'POST', '/task-queue/submit', { queue: 's2', task_type: 'z' });
  assert.equal(viaAlias.status, 201);
  const claimedViaAlias = await api(t, 'POST', '/task-queue/claim', { worker_id: 'w', queue: 's2', batch_size: 5 });
  assert.equal(claimedViaAlias.body.data.length, 2);
  const doc = await app.request('GET', '/api/openapi.json');
  assert.ok(doc.body.paths['/api/v1/queue/claim'], 'the real path is documented');
  assert.equal(doc.body.paths['/api/v1/task-queue/claim'], undefined, 'aliases are not');
});

test('batch complete: one request, an outcome per job', async () => {
  const t = await app.tenant('Batch');
  await submit(t, { queue: 'b', task_type: 'x', jobs: [{}, {}, {}] });
  const [j1, j2, j3] = await claim(t, { worker_id: 'w', queue: 'b' });
  await api(t, 'POST', `/queue/jobs/${j3.id}/complete`, { worker_id: 'w' });
  const res = await api(t, 'POST', '/queue/complete', {
    worker_id: 'w',
    jobs: [{ id: j1.id, result: { n: 1 } }, { id: j2.id }, { id: j3.id }, { id: 'job_0000000000000000000000000a' }],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.completed, 2);
  assert.deepEqual(
    res.body.data.map((d: any) => [d.id, d.outcome]),
    [
      [j1.id, 'completed'],
      [j2.id, 'completed'],
      [j3.id, 'conflict'],
      ['job_0000000000000000000000000a', 'not_found'],
    ],
  );
  assert.deepEqual((await job(t, j1.id)).result, { n: 1 });
});

test('long poll: a waiting claim gets a job submitted after it started, and an empty one returns after wait_seconds', async () => {
  const t = await app.tenant('LongPoll');
  await submit(t, { queue: 'lp', task_type: 'warm' });
  await claim(t, { worker_id: 'w', queue: 'lp' });

  const started = Date.now();
  const waiting = claim(t, { worker_id: 'w', queue: 'lp', wait_seconds: 10 });
  await sleep(300);
  const sub = await submit(t, { queue: 'lp', task_type: 'x' });
  const [got] = await waiting;
  assert.equal(got?.id, sub.id);
  assert.ok(Date.now() - started < 5000, `woken by the submit, not the timeout (${Date.now() - started} ms)`);

  const t0 = Date.now();
  assert.deepEqual(await claim(t, { worker_id: 'w', queue: 'lp', wait_seconds: 1 }), []);
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited < 5000, `waited ${waited} ms`);
});

test('schedules: every_seconds and cron with a time zone; fired by the worker tick; list and delete', async () => {
  const t = await app.tenant('Sched');
  const every = await api(t, 'POST', '/queue/jobs/scheduled', { queue: 'cron', task_type: 'tick', payload: { k: 1 }, every_seconds: 1 });
  assert.equal(every.status, 201, JSON.stringify(every.body));
  assert.match(every.body.id, /^sch_/);
  assert.equal(every.body.every_seconds, 1);
  const cron = await api(t, 'POST', '/queue/jobs/scheduled', {
    queue: 'cron',
    task_type: 'report',
    cron: '30 9 * * 1-5',
    tz: 'Europe/Paris',
    key: 'daily',
  });
  assert.equal(cron.status, 201, JSON.stringify(cron.body));
  const next = new Date(cron.body.next_run_at);
  const paris = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', weekday: 'short' }).format(next);
  assert.match(paris, /^(Mon|Tue|Wed|Thu|Fri) 09:30$/, paris);
  // The same key replaces the schedule.
  const replaced = await api(t, 'POST', '/queue/jobs/scheduled', { queue: 'cron', task_type: 'report', cron: '0 8 * * *', tz: 'UTC', key: 'daily' });
  assert.equal(replaced.body.id, cron.body.id);
  assert.equal(replaced.body.cron, '0 8 * * *');

  await sleep(1100);
  await queueTick(app.app.services);
  const fired = await claim(t, { worker_id: 'w', queue: 'cron' });
  assert.equal(fired.length, 1, JSON.stringify(fired));
  assert.equal(fired[0].schedule_id, every.body.id);
  assert.deepEqual(fired[0].payload, { k: 1 });
  const list = await api(t, 'GET', '/queue/schedules');
  assert.equal(list.body.data.length, 2);
  const listed = list.body.data.find((s: any) => s.id === every.body.id);
  assert.equal(listed.last_job_id, fired[0].id);
  assert.ok(Date.parse(listed.next_run_at) > Date.now() - 1000);

  const del = await api(t, 'DELETE', `/queue/schedules/${every.body.id}`, {});
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assertEnvelope(await api(t, 'DELETE', `/queue/schedules/${every.body.id}`, {}), 404, 'not_found');
  await sleep(1100);
  await queueTick(app.app.services);
  assert.deepEqual(await claim(t, { worker_id: 'w', queue: 'cron' }), [], 'a deleted schedule fires no more');
  const acts = await api(t, 'GET', '/activity-log?entity_type=queue_schedule');
  assert.deepEqual(acts.body.data.map((a: any) => a.action).sort(), [
    'queue.schedule_created',
    'queue.schedule_created',
    'queue.schedule_created',
    'queue.schedule_deleted',
  ]);
});

test('bad input: payload over 256 KiB, invalid cron or time zone, unknown queues and jobs', async () => {
  const t = await app.tenant('BadQueue');
  const big = await api(t, 'POST', '/queue/jobs', { queue: 'x', task_type: 'x', payload: { blob: 'a'.repeat(257 * 1024) } });
  assertEnvelope(big, 400, 'invalid_request');
  assert.ok(
    big.body.details.some((d: any) => d.field === 'payload'),
    JSON.stringify(big.body.details),
  );
  const bigInBatch = await api(t, 'POST', '/queue/jobs', { queue: 'x', task_type: 'x', jobs: [{}, { payload: { blob: 'a'.repeat(257 * 1024) } }] });
  assertEnvelope(bigInBatch, 400, 'invalid_request');
  assert.ok(bigInBatch.body.details.some((d: any) => d.field === 'jobs.1.payload'));
  const fits = await api(t, 'POST', '/queue/jobs', { queue: 'x', task_type: 'x', payload: { blob: 'a'.repeat(255 * 1024) } });
  assert.equal(fits.status, 201, 'just under 256 KiB is fine');

  for (const [body, field] of [
    [{ cron: '61 * * * *' }, 'cron'],
    [{ cron: 'every day' }, 'cron'],
    [{ cron: '* * * * *', tz: 'Mars/Olympus' }, 'tz'],
    [{}, 'cron'],
    [{ cron: '* * * * *', every_seconds: 5 }, 'every_seconds'],
  ] as const) {
    const res = await api(t, 'POST', '/queue/jobs/scheduled', { queue: 'x', task_type: 'x', ...body });
    assertEnvelope(res, 400, 'invalid_request', JSON.stringify(body));
    assert.ok(
      res.body.details.some((d: any) => d.field === field),
      `${JSON.stringify(body)} names ${field}: ${JSON.stringify(res.body.details)}`,
    );
  }
  const missing = await api(t, 'POST', '/queue/jobs', { payload: {} });
  assertEnvelope(missing, 400, 'invalid_request');
  assert.deepEqual(missing.body.details.map((d: any) => d.field).sort(), ['queue', 'task_type']);
  assertEnvelope(await api(t, 'POST', '/queue/jobs', { queue: 'bad name!', task_type: 'x' }), 400, 'invalid_request');
  assertEnvelope(await api(t, 'POST', '/queue/claim', { worker_id: 'w', queue: 'x', batch_size: 101 }), 400, 'invalid_request');

  const unknownQueue = await api(t, 'POST', '/queue/claim', { worker_id: 'w', queue: 'never-used' });
  assertEnvelope(unknownQueue, 404, 'not_found');
  assert.match(unknownQueue.body.message, /never-used/);
  assertEnvelope(await api(t, 'GET', '/queue/stats?queue=never-used'), 404, 'not_found');
  assertEnvelope(await api(t, 'GET', '/queue/jobs?queue=never-used'), 404, 'not_found');
  const ghost = 'job_0000000000000000000000000a';
  assertEnvelope(await api(t, 'GET', `/queue/jobs/${ghost}`), 404, 'not_found');
  for (const verb of ['heartbeat', 'complete', 'fail', 'cancel', 'retry']) {
    assertEnvelope(await api(t, 'POST', `/queue/jobs/${ghost}/${verb}`, { worker_id: 'w', error: 'x' }), 404, 'not_found', verb);
  }
});

test('org isolation: another org cannot see, claim, complete or touch a job (404), nor its queue', async () => {
  const a = await app.tenant('QA');
  const b = await app.tenant('QB');
  const secret = await submit(a, { queue: 'shared-name', task_type: 'x', payload: { secret: true } });
  await api(a, 'POST', '/queue/jobs/scheduled', { queue: 'shared-name', task_type: 'x', every_seconds: 3600 });

  assertEnvelope(await api(b, 'POST', '/queue/claim', { worker_id: 'b', queue: 'shared-name' }), 404, 'not_found');
  assertEnvelope(await api(b, 'GET', `/queue/jobs/${secret.id}`), 404, 'not_found');
  assertEnvelope(await api(b, 'GET', '/queue/stats?queue=shared-name'), 404, 'not_found');

  // B's own queue of the same name holds only B's jobs.
  const mine = await submit(b, { queue: 'shared-name', task_type: 'x' });
  const got = await claim(b, { worker_id: 'b', queue: 'shared-name', lease_seconds: 60 });
  assert.deepEqual(
    got.map((j) => j.id),
    [mine.id],
  );
  assert.deepEqual(
    (await api(b, 'GET', '/queue/jobs')).body.data.map((j: any) => j.id),
    [mine.id],
  );
  assert.deepEqual(
    (await api(b, 'GET', '/queue/stats')).body.data.map((s: any) => [s.queue, s.total]),
    [['shared-name', 1]],
  );
  assert.deepEqual((await api(b, 'GET', '/queue/schedules')).body.data, []);

  // A's worker claims A's job; B, even naming the same worker id, cannot act on it.
  const [held] = await claim(a, { worker_id: 'shared-worker', queue: 'shared-name', lease_seconds: 60 });
  assert.equal(held.id, secret.id);
  for (const verb of ['heartbeat', 'complete', 'fail', 'cancel', 'retry']) {
    assertEnvelope(await api(b, 'POST', `/queue/jobs/${secret.id}/${verb}`, { worker_id: 'shared-worker', error: 'x' }), 404, 'not_found', verb);
  }
  const batch = await api(b, 'POST', '/queue/complete', { worker_id: 'shared-worker', jobs: [{ id: secret.id }] });
  assert.equal(batch.body.data[0].outcome, 'not_found');
  const aSchedules = (await api(a, 'GET', '/queue/schedules')).body.data;
  assertEnvelope(await api(b, 'DELETE', `/queue/schedules/${aSchedules[0].id}`, {}), 404, 'not_found');

  const still = await job(a, secret.id);
  assert.equal(still.state, 'active');
  assert.equal(still.worker_id, 'shared-worker');
  const rows = await sql(app, 'select org_id from queue_jobs where id = $1', [secret.id]);
  assert.deepEqual(rows, [{ org_id: a.orgId }]);
});

test('shutdown: a long-polling claim returns at once (empty) when its server instance closes', async () => {
  const t = await app.tenant('Shutdown');
  await submit(t, { queue: 'sd', task_type: 'x' });
  await claim(t, { worker_id: 'w', queue: 'sd' });
  const other = await app.second();
  const polling = other.request('POST', '/api/v1/queue/claim', { key: t.key, body: { worker_id: 'w', queue: 'sd', wait_seconds: 20 } });
  await sleep(300);
  const t0 = Date.now();
  await other.app.close();
  const res = await polling;
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.data, []);
  assert.ok(Date.now() - t0 < 5000, `closed in ${Date.now() - t0} ms, not after the 20 s wait`);
});

test('CLI: opsbase queue submit, claim, jobs list and a live stats --watch', async () => {
  const t = await app.tenant('QueueCli');
  const run = (args: string[], ms = 30_000) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const env = { ...process.env, OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, NO_COLOR: '1' };
      const child = spawn(process.execPath, ['src/main.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        // --watch runs until stopped: two renders are enough.
        if (args.includes('--watch') && stdout.trim().split('\n').length >= 2) child.kill('SIGTERM');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout });
      });
    });
  const sub = await run(['--json', 'queue', 'submit', '--queue', 'cli', '--task-type', 'hello', '--payload', '{"to":"world"}']);
  assert.equal(sub.code, 0, sub.stdout);
  const job = JSON.parse(sub.stdout);
  assert.deepEqual(job.payload, { to: 'world' });
  const claimed = await run(['--json', 'queue', 'claim', '--worker-id', 'cli-worker', '--queue', 'cli']);
  assert.equal(JSON.parse(claimed.stdout).data[0].id, job.id);
  const table = await run(['queue', 'jobs', 'list', '--queue', 'cli']);
  assert.match(table.stdout, new RegExp(job.id));
  assert.match(table.stdout, /active/);
  const watch = await run(['--json', 'queue', 'stats', '--watch', '0.5']);
  const renders = watch.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(renders.length >= 2, watch.stdout);
  for (const r of renders)
    assert.deepEqual(r.data, [{ queue: 'cli', waiting: 0, delayed: 0, active: 1, completed: 0, failed: 0, cancelled: 0, total: 1 }]);
});

test('retention: finished jobs are pruned after 7 days (failed after 30); pending and recent ones stay', async () => {
  const t = await app.tenant('Prune');
  const floor = idFloor('job', Date.now() - 40 * 86_400_000);
  const oldId = (tag: string) => `${floor}${tag.padEnd(16, '0')}`;
  const rows: [string, string, number | null][] = [
    [oldId('a'), 'completed', 40],
    [oldId('b'), 'cancelled', 8],
    [oldId('c'), 'failed', 31],
    [oldId('d'), 'failed', 10],
    [oldId('e'), 'waiting', null],
    [oldId('f'), 'completed', 1],
  ];
  for (const [id, state, days] of rows) {
    await sql(
      app,
      `insert into queue_jobs (id, org_id, queue, task_type, payload, state, finished_at)
       values ($1, $2, 'old', 'x', '{}', $3, case when $4::int is null then null else now() - make_interval(days => $4::int) end)`,
      [id, t.orgId, state, days],
    );
  }
  const fresh = await submit(t, { queue: 'old', task_type: 'x' });
  assert.ok((await pruneFinishedJobs(app.app.services.database.db)) >= 3);
  const left = (await sql<{ id: string }>(app, `select id from queue_jobs where org_id = $1 order by id`, [t.orgId])).map((r) => r.id);
  assert.deepEqual(left, [oldId('d'), oldId('e'), oldId('f'), fresh.id]);
});
