// A worker killed mid-run loses nothing (issue 11 §2): a real worker process executing a run is SIGKILLed; its job's
// lease lapses and another worker takes attempt 2 and finishes the run — or, with no attempt left, the reaper ends it
// timed_out. Either way the run's one hold is settled exactly once, the ledger holds, the task is free again, and a
// process agent's command does not outlive its worker.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { reapRuns } from '../src/modules/runs/jobs.ts';
import { closeDb, sql } from './helpers/db.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { fakeAgentBody } from './helpers/funded.ts';
import { ok, processAlive, runHelpers } from './helpers/runs.ts';
import { spawnSystemWorker, type WorkerProc } from './helpers/spawn-worker.ts';
import { until } from './helpers/until.ts';

let app: TestApp;
let fake: FakeOpenAI;
const procs: WorkerProc[] = [];
const { api, funded, startRun, waitForRun, events, available, assertSettledOnce } = runHelpers(() => app);
/** The victims run with a 1 s job lease, so a killed one's run is taken over within seconds. */
const LEASE = 1;
const ENV = { OPSBASE_ALLOW_PRIVATE_NETWORK: 'true', OPSBASE_ALLOW_PROCESS_AGENTS: 'true' };

before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000', ...ENV } });
  fake = await startFakeOpenAI();
});
after(async () => {
  for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  await fake.close();
  await closeDb(app);
  await app.close();
});

async function victim(): Promise<WorkerProc> {
  const p = spawnSystemWorker(app.databaseUrl, LEASE, ENV);
  procs.push(p);
  await until('the worker process to be ready', async () => p.lines.some((l) => l.event === 'ready'), 30_000, p.output);
  return p;
}

async function kill(p: WorkerProc) {
  p.proc.kill('SIGKILL');
  await p.exited;
}

/** An in-process worker for the rest of the test (stopped at its end). */
async function survivor(fn: (w: Worker) => Promise<void>) {
  const w = await startWorker(app.app.services, { pollMs: 100 });
  try {
    await fn(w);
  } finally {
    await w.stop();
  }
}

const llmAgent = async (t: Tenant, name: string, extra: Record<string, unknown> = {}) =>
  ok(await api(t, 'POST', '/agents', fakeAgentBody(fake.url, name, extra)));
const taskFor = async (t: Tenant, agent: string, title: string, extra: Record<string, unknown> = {}) =>
  ok(await api(t, 'POST', '/tasks', { title, assignee: `agent:${agent}`, ...extra }));
const runRow = async (id: string) => (await sql(app, 'select status, attempt, process from runs where id = $1', [id]))[0];

test('SIGKILL mid-run (the model hanging): attempt 2 on another worker finishes the run; usage of both; one credit, once', async () => {
  const t = await funded('Killed');
  const agent = await llmAgent(t, 'survivor', { tools: ['tasks.comments.create'] });
  const task = await taskFor(t, 'survivor', 'Finish despite the crash');
  fake.reset();
  // Attempt 1 makes one model call (a tool call: spent, 120 tokens) and hangs on its second; attempt 2 answers.
  fake.script(
    { kind: 'tool', name: 'tasks_comments_create', args: { id: String(task.number), body: 'Starting.' }, usage: { prompt_tokens: 100, completion_tokens: 20 } },
    { kind: 'hang' },
    { kind: 'text', text: 'Recovered and done.', usage: { prompt_tokens: 30, completion_tokens: 7 } },
  );
  const before = await available(t);
  const w = await victim();
  const queued = await startRun(t, task);
  await until('the victim to be calling the model again', async () => fake.requests.length === 2 && (await runRow(queued.id)).status === 'running', 30_000, w.output);
  await kill(w);
  assert.deepEqual({ ...(await runRow(queued.id)), process: undefined }, { status: 'running', attempt: 1, process: undefined }, 'the dead worker left the run running');
  const held = await ok(await api(t, 'GET', `/tasks/${task.number}`), 200);
  assert.equal(held.status, 'in_progress');

  await survivor(async () => {
    const run = await waitForRun(t, queued.id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    // Attempt 1's call counts too: a retried run never undercounts what was spent.
    assert.deepEqual([run.attempt, run.result, run.tokens_in, run.tokens_out, run.steps, run.credits_spent], [2, 'Recovered and done.', 130, 27, 2, 1]);
  });
  assert.equal(fake.requests.length, 3, 'two model calls by attempt 1, one by attempt 2');
  const evs = await events(t, queued.id);
  assert.ok(evs.some((e) => e.type === 'log' && /attempt 1 was lost; attempt 2 takes over/.test(e.data.message)), JSON.stringify(evs));
  assert.deepEqual(
    evs.filter((e) => e.type === 'status').map((e) => e.data.status),
    ['queued', 'running', 'running', 'succeeded'],
  );
  const domain = await sql(app, 'select type from events where org_id = $1 and subject = $2 order by seq', [t.orgId, queued.id]);
  assert.deepEqual(
    domain.map((e) => e.type),
    ['run.queued', 'run.started', 'run.started', 'run.succeeded'],
  );
  const after = await ok(await api(t, 'GET', `/tasks/${task.number}`), 200);
  assert.deepEqual([after.status, after.lease_expires_at, after.assignee?.id], ['in_review', null, agent.id]);
  await assertSettledOnce(t, queued.id, 'committed', before);
});

test('SIGKILL on the last attempt too: the reaper ends the run timed_out, refunded once; the task runs again', async () => {
  const t = await funded('TwiceKilled');
  await llmAgent(t, 'unlucky');
  const task = await taskFor(t, 'unlucky', 'Doomed twice');
  fake.reset();
  fake.script({ kind: 'hang' }, { kind: 'hang' });
  const before = await available(t);
  const first = await victim();
  const queued = await startRun(t, task);
  await until('attempt 1 at the model', async () => fake.requests.length === 1, 30_000, first.output);
  await kill(first);
  // The second worker takes attempt 2 (its own ticker returns the lapsed lease) and is killed in turn.
  const second = await victim();
  await until('attempt 2 at the model', async () => fake.requests.length === 2 && (await runRow(queued.id)).attempt === 2, 30_000, second.output);
  await kill(second);

  await survivor(async () => {
    // The survivor's ticker dead-letters the job (no attempt left); the reaper, due every minute, is run at once here.
    const [job] = await sql(app, 'select j.id from queue_jobs j join runs r on r.job_id = j.id where r.id = $1', [queued.id]);
    await until('the job to be dead-lettered', async () => (await sql(app, 'select state from queue_jobs where id = $1', [job.id]))[0].state === 'failed');
    // The reaper: run here at once, unless the survivor's own schedule (every minute) got there first — either way
    // the run is ended once, as the checks below show.
    assert.ok((await reapRuns(app.app.services)) <= 1);
    const run = await waitForRun(t, queued.id);
    assert.deepEqual([run.status, run.reason, run.credits_spent, run.attempt], ['timed_out', 'worker_lost', 0, 2]);
    assert.equal(await reapRuns(app.app.services), 0, 'nothing left to reap');
    await assertSettledOnce(t, queued.id, 'released', before);
    const back = await ok(await api(t, 'GET', `/tasks/${task.number}`), 200);
    assert.deepEqual([back.status, back.lease_expires_at], ['todo', null]);
    // Free again: it runs, and this time finishes.
    fake.script({ kind: 'text', text: 'Third time lucky.', usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const again = await waitForRun(t, (await startRun(t, task)).id);
    assert.deepEqual([again.status, again.attempt, again.result], ['succeeded', 1, 'Third time lucky.']);
  });
});


test('a process agent whose worker is SIGKILLed leaves no orphan: the next worker kills the group, attempt 2 times out', async () => {
  const t = await funded('Orphans');
  const dir = mkdtempSync(join(tmpdir(), 'opsbase-orphans-'));
  const file = join(dir, 'hang.mjs');
  writeFileSync(file, `console.log(JSON.stringify({ type: 'log', data: { pid: process.pid } })); setInterval(() => {}, 1000);`);
  await ok(await api(t, 'POST', '/agents', { name: 'sleeper', runtime: 'process', runtime_config: { command: process.execPath, args: [file] } }));
  const task = await taskFor(t, 'sleeper', 'Sleep forever', { max_duration_seconds: 3 });
  const before = await available(t);
  const w = await victim();
  const queued = await startRun(t, task);
  // Its pid is on the run before the "Started" event is written: waiting for both, so the kill cannot fall between.
  const started = async () => (await events(t, queued.id)).some((e) => /^Started/.test(String(e.data.message)));
  const first = await until('the command to start', async () => (await started()) && (await runRow(queued.id)).process, 30_000, w.output);
  assert.ok(processAlive(first.pid));
  await kill(w);
  assert.ok(processAlive(first.pid), 'orphaned by the SIGKILL: still running');

  await survivor(async () => {
    await until('the orphan to be killed', () => !processAlive(first.pid), 5000);
    const run = await waitForRun(t, queued.id);
    assert.deepEqual([run.status, run.reason, run.attempt], ['timed_out', 'timeout', 2]);
    const pids = (await events(t, queued.id)).filter((e) => /^Started/.test(String(e.data.message))).map((e) => e.data.pid as number);
    assert.equal(pids.length, 2, 'attempt 2 ran the command again');
    assert.ok(pids.every((pid) => !processAlive(pid)), 'no command of the run is left');
    assert.equal((await runRow(queued.id)).process, null);
  });
  await assertSettledOnce(t, queued.id, 'released', before);
});
