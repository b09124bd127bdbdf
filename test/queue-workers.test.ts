// Client worker processes against the public queue (issue 4, "tests that must exist"): a worker killed with
// SIGKILL while holding jobs loses none of them, and two workers draining 10,000 jobs process each exactly once.
// The workers are real child processes (test/helpers/queue-worker.ts) claiming over HTTP with an API key.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { closeDb, sleep, sql } from './helpers/db.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  // Workers send many requests with one key: the per-key rate limit must not be what the test measures.
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '1000000' } });
});
after(async () => {
  await closeDb(app);
  await app.close();
});

interface Worker {
  proc: ChildProcess;
  pid: number;
  done: string[];
  claimed: string[];
  conflicts: unknown[];
  exited: Promise<number | null>;
  output: () => string;
}

function startWorker(t: Tenant, queue: string, opts: Record<string, string | number>): Worker {
  const args = ['test/helpers/queue-worker.ts', '--url', app.url, '--key', t.key, '--queue', queue];
  for (const [k, v] of Object.entries(opts)) args.push(`--${k}`, String(v));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Worker = {
    proc,
    pid: proc.pid ?? -1,
    done: [],
    claimed: [],
    conflicts: [],
    exited: new Promise((resolve) => proc.once('exit', (code) => resolve(code))),
    output: () => text + errors,
  };
  let text = '';
  let partial = '';
  let errors = '';
  proc.stderr?.on('data', (d) => (errors += d));
  proc.stdout?.on('data', (chunk) => {
    text += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const e = JSON.parse(line);
      if (e.event === 'done') w.done.push(...e.ids);
      if (e.event === 'claimed') w.claimed.push(...e.ids);
      if (e.event === 'conflict') w.conflicts.push(e);
    }
  });
  return w;
}

async function until(what: string, fn: () => boolean | Promise<boolean>, limitMs: number, w?: Worker[]) {
  const end = Date.now() + limitMs;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${limitMs / 1000} s\n${(w ?? []).map((x) => x.output().slice(-2000)).join('\n---\n')}`);
    await sleep(50);
  }
}

async function submitMany(t: Tenant, queue: string, count: number) {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1000) {
    const jobs = Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ payload: { n: i + k } }));
    const res = await app.request('POST', '/api/v1/queue/jobs', { key: t.key, body: { queue, task_type: 'work', jobs } });
    assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 500));
    ids.push(...res.body.data.map((j: { id: string }) => j.id));
  }
  return ids;
}

const stats = async (t: Tenant, queue: string) => (await app.request('GET', `/api/v1/queue/stats?queue=${queue}`, { key: t.key })).body.data[0];

test('a worker killed with SIGKILL while holding jobs: after another worker runs, every job is completed exactly once', async () => {
  const t = await app.tenant('Crash');
  const ids = await submitMany(t, 'crash', 60);

  // Slow work (300 ms a job) and short leases (3 s): the victim holds most of its batch of 20 when it dies.
  const victim = startWorker(t, 'crash', { batch: 20, lease: 3, 'delay-ms': 300, mode: 'single' });
  const survivors: Worker[] = [];
  try {
    await until('the victim claimed a batch and completed some of it', () => victim.claimed.length >= 20 && victim.done.length >= 2, 30_000, [
      victim,
    ]);
    victim.proc.kill('SIGKILL');
    await victim.exited;

    const held = (
      await sql<{ id: string }>(app, `select id from queue_jobs where org_id = $1 and state = 'active' and worker_id = $2`, [
        t.orgId,
        `worker-${victim.pid}`,
      ])
    ).map((r) => r.id);
    assert.ok(held.length >= 1, 'the victim died holding jobs');
    assert.ok(held.length <= 20);

    const survivor = startWorker(t, 'crash', { batch: 20, lease: 30, mode: 'single' });
    survivors.push(survivor);
    await until('every job completed', async () => (await stats(t, 'crash')).completed === 60, 60_000, [survivor]);

    const rows = await sql<{ id: string; state: string; attempts: number; pid: string }>(
      app,
      `select id, state, attempts, result->>'pid' as pid from queue_jobs where org_id = $1 and queue = 'crash'`,
      [t.orgId],
    );
    assert.equal(rows.length, 60);
    const byId = new Map(rows.map((r) => [r.id, r]));
    assert.deepEqual([...byId.keys()].sort(), [...ids].sort());

    // Exactly once: no job was confirmed complete to two workers (nor twice to one).
    const confirmed = [...victim.done, ...survivor.done];
    assert.equal(new Set(confirmed).size, confirmed.length, 'no job completed twice');
    assert.deepEqual(survivor.conflicts, [], 'the survivor was never refused');
    for (const id of survivor.done) assert.equal(byId.get(id)?.pid, String(survivor.pid));
    for (const id of victim.done) assert.equal(byId.get(id)?.pid, String(victim.pid));
    // The victim may have died between a completion and its report of it; everything else the survivor did.
    const unreported = rows.filter((r) => !confirmed.includes(r.id));
    assert.ok(unreported.length <= 1, `at most the victim's last completion is unreported: ${JSON.stringify(unreported)}`);
    for (const r of unreported) assert.equal(r.pid, String(victim.pid));

    for (const r of rows) assert.equal(r.state, 'completed');
    // The jobs the victim held came back after their lease and were completed on the second attempt.
    for (const id of held) {
      assert.equal(byId.get(id)?.pid, String(survivor.pid), `${id} was completed by the survivor`);
      assert.equal(byId.get(id)?.attempts, 2, `${id}: the lapsed claim counted as an attempt`);
    }
    for (const r of rows.filter((x) => !held.includes(x.id))) assert.equal(r.attempts, 1, `${r.id} was claimed once`);
  } finally {
    for (const w of [victim, ...survivors]) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  }
});

test('two worker processes draining 10,000 jobs: each job processed once, none lost', async (t) => {
  const tenant = await app.tenant('Drain');
  const started = Date.now();
  const ids = await submitMany(tenant, 'drain', 10_000);
  const submitted = Date.now();
  const workers = [0, 1].map(() => startWorker(tenant, 'drain', { batch: 20, lease: 60, wait: 1, mode: 'batch', 'idle-exit': 2 }));
  try {
    const codes = await Promise.race([
      Promise.all(workers.map((w) => w.exited)),
      sleep(100_000).then(() =>
        assert.fail(`the workers did not drain the queue within 100 s:\n${workers.map((w) => w.output().slice(-1000)).join('\n---\n')}`),
      ),
    ]);
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.output().slice(-1000)).join('\n---\n'));
    const drained = Date.now();
    t.diagnostic(
      `submitted 10,000 jobs in ${submitted - started} ms; two workers drained them in ${drained - submitted} ms (incl. their start and 2 s idle exit)`,
    );

    const all = workers.flatMap((w) => w.done);
    assert.equal(all.length, 10_000, 'every completion confirmed once');
    assert.equal(new Set(all).size, 10_000, 'no job processed twice');
    assert.deepEqual([...new Set(all)].sort(), [...ids].sort(), 'no job lost');
    for (const w of workers) {
      assert.ok(w.done.length > 0, `worker ${w.pid} took part`);
      assert.deepEqual(w.conflicts, []);
      assert.deepEqual([...w.claimed].sort(), [...w.done].sort(), 'each worker completed exactly what it claimed');
    }

    const rows = await sql<{ state: string; attempts: number; pid: string; n: number }>(
      app,
      `select state, attempts, result->>'pid' as pid, count(*)::int as n from queue_jobs where org_id = $1 group by 1, 2, 3 order by 3`,
      [tenant.orgId],
    );
    assert.deepEqual(
      rows.map((r) => [r.state, r.attempts, Number(r.pid)]),
      workers.map((w) => ['completed', 1, w.pid]).sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    );
    for (const w of workers) assert.equal(rows.find((r) => Number(r.pid) === w.pid)?.n, w.done.length);
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  }
});
