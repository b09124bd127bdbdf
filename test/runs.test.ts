// Task runs (issue 11): a paid run queued as a job and executed by a real worker against the offline model and an
// OpenAI-compatible server on loopback; exact usage; the credit committed once on success and refunded on failure,
// cancel and timeout; the live event stream (SSE, resumable); bad input; another org's run is a 404.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { invariantViolations, ledgerState, waitForPosting } from './helpers/ledger.ts';
import { type Api, apiOf, fakeAgentBody, funded as fundedTenant, ok } from './helpers/funded.ts';
import { runProcess } from './helpers/run-process.ts';
import { until } from './helpers/until.ts';

let app: TestApp;
let fake: FakeOpenAI;
let worker: Worker;
before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' } });
  fake = await startFakeOpenAI();
  worker = await startWorker(app.app.services, { pollMs: 100 });
});
after(async () => {
  await worker.stop();
  await fake.close();
  await closeDb(app);
  await app.close();
});

const funded = (name: string) => fundedTenant(app, name);
// `app` exists once `before` ran.
const api: Api = (...args) => apiOf(app)(...args);

const fakeAgent = (name: string, extra: Record<string, unknown> = {}) => fakeAgentBody(fake.url, name, extra);

async function taskFor(t: Tenant, agent: string, title: string, extra: Record<string, unknown> = {}) {
  return ok(await api(t, 'POST', '/tasks', { title, assignee: `agent:${agent}`, ...extra }));
}

async function runAndWait(t: Tenant, task: { number: number }) {
  const queued = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
  assert.equal(queued.status, 'queued');
  return until(`run ${queued.id} to end`, async () => {
    const r = (await api(t, 'GET', `/runs/${queued.id}`)).body;
    return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(r.status) ? r : undefined;
  });
}

const available = async (t: Tenant) => (await ok(await api(t, 'GET', '/wallet'), 200)).available as number;
const events = async (t: Tenant, runId: string) => (await api(t, 'GET', `/runs/${runId}/events`)).body.data as any[];

test('an offline llm run: 202 queued, executed by a worker, result on the task (in_review), 1 credit committed', async () => {
  const t = await funded('Offline');
  await ok(await api(t, 'POST', '/agents', { name: 'writer', role: 'Content writer' }));
  const task = await taskFor(t, 'writer', 'Write the launch announcement', { description: 'Draft it. Ask legal to review it.' });
  const before = await available(t);
  const run = await runAndWait(t, task);
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  assert.equal(run.credits_spent, 1);
  assert.equal(run.attempt, 1);
  assert.ok(run.tokens_in > 0 && run.tokens_out > 0);
  assert.match(run.result, /Summary: .*Write the launch announcement/);
  assert.match(run.result, /Ask legal to review it/);
  const after = (await api(t, 'GET', `/tasks/${task.number}`)).body;
  assert.equal(after.status, 'in_review');
  assert.equal(after.resolution, run.result);
  assert.equal(after.lease_expires_at, null);
  await waitForPosting(app.app.services.database.pool, t.orgId);
  assert.equal(await available(t), before - 1, 'exactly one credit spent');
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, t.orgId)), []);
  const evs = await events(t, run.id);
  assert.deepEqual(
    evs.map((e) => e.seq),
    evs.map((_, i) => i + 1),
    'numbered in order',
  );
  const types = evs.map((e) => e.type);
  assert.equal(types[0], 'status');
  assert.equal(evs[0].data.status, 'queued');
  assert.ok(types.includes('message') && types.includes('usage') && types.includes('result'), types.join());
  assert.equal(evs.at(-1).data.status, 'succeeded');
  const domain = await sql(app, `select type from events where org_id = $1 and subject = $2 order by seq`, [t.orgId, run.id]);
  assert.deepEqual(
    domain.map((e) => e.type),
    ['run.queued', 'run.started', 'run.succeeded'],
  );
  const listed = (await api(t, 'GET', `/runs?task=${task.number}`)).body.data;
  assert.deepEqual(
    listed.map((r: any) => r.id),
    [run.id],
  );
  // What the run's end wrote with its outcome (finish-fast.ts, in one statement): the task's event, the run's domain
  // event and audit row with what it spent, its last status event, and the agent no longer running.
  assert.equal(evs.at(-1).data.credits_spent, 1);
  const [moved] = await sql(app, `select data from events where org_id = $1 and subject = $2 and type = 'task.updated'`, [t.orgId, task.id]);
  assert.deepEqual(moved.data, { number: task.number, title: task.title, status: 'in_review', run_id: run.id, changed: ['status', 'resolution'] });
  const [succeeded] = await sql(app, `select data from events where org_id = $1 and subject = $2 and type = 'run.succeeded'`, [t.orgId, run.id]);
  assert.deepEqual(succeeded.data, { run_id: run.id, task_id: task.id, agent_id: run.agent_id, status: 'succeeded', credits_spent: 1 });
  const audit = await sql(app, `select actor_type, actor_id, metadata from activity_log where org_id = $1 and action = 'run.succeeded' and entity_id = $2`, [
    t.orgId,
    run.id,
  ]);
  assert.deepEqual(audit, [{ actor_type: 'agent', actor_id: run.agent_id, metadata: succeeded.data }]);
  assert.equal((await api(t, 'GET', '/agents/writer')).body.status, 'active');
});

test('an openai-compatible run calls a tool as the agent; usage is recorded exactly; 1 credit', async () => {
  const t = await funded('Compat');
  const agent = await ok(await api(t, 'POST', '/agents', fakeAgent('commenter', { tools: ['tasks.comments.create'], runtime_config: { on_success: 'done' } })));
  const task = await taskFor(t, 'commenter', 'Review the pricing page');
  fake.reset();
  fake.script(
    { kind: 'tool', name: 'tasks_comments_create', args: { id: String(task.number), body: 'Looked at it: prices are stale.' }, usage: { prompt_tokens: 120, completion_tokens: 30 } },
    { kind: 'text', text: 'Reviewed; left a comment.', usage: { prompt_tokens: 180, completion_tokens: 12 } },
  );
  const run = await runAndWait(t, task);
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  assert.deepEqual([run.tokens_in, run.tokens_out, run.steps], [300, 42, 2]);
  assert.equal(run.model, 'fake-model');
  assert.equal(run.result, 'Reviewed; left a comment.');
  assert.equal(fake.authorizations[0], 'Bearer sk-fake');
  const comments = (await api(t, 'GET', `/tasks/${task.number}/comments`)).body.data;
  assert.equal(comments.length, 1);
  assert.deepEqual(comments[0].author, { type: 'agent', id: agent.id });
  const done = (await api(t, 'GET', `/tasks/${task.number}`)).body;
  assert.equal(done.status, 'done', 'on_success: done');
  assert.ok(done.completed_at);
  const taskEvents = await sql(app, `select type, data->>'status' as status from events where org_id = $1 and subject = $2 and type <> 'task.created' order by seq`, [
    t.orgId,
    task.id,
  ]);
  assert.deepEqual(taskEvents, [
    { type: 'task.updated', status: 'done' },
    { type: 'task.completed', status: 'done' },
  ]);
  const evs = await events(t, run.id);
  const call = evs.find((e) => e.type === 'tool_call');
  assert.equal(call.data.tool, 'tasks_comments_create');
  assert.equal(evs.find((e) => e.type === 'tool_result').data.is_error, false);
  const usage = evs.filter((e) => e.type === 'usage').at(-1);
  assert.deepEqual(usage.data.total, { input_tokens: 300, output_tokens: 42, total_tokens: 342 });
  // The last model call's message and usage are written with the run's end (llm.ts), still in their order.
  assert.deepEqual(
    evs.map((e) => (e.type === 'status' ? `status:${e.data.status}` : e.type)),
    ['status:queued', 'status:running', 'tool_call', 'tool_result', 'usage', 'message', 'usage', 'result', 'status:succeeded'],
  );
  assert.deepEqual(
    evs.map((e) => e.seq),
    evs.map((_, i) => i + 1),
  );
});

test('a failing model (500, then garbage) fails the run, refunds the credit, returns the task to todo and notifies', async () => {
  const t = await funded('Failing');
  await ok(await api(t, 'POST', '/agents', fakeAgent('flaky')));
  for (const reply of [{ kind: 'status', status: 500, body: '{"error":{"message":"boom"}}' }, { kind: 'garbage' }] as const) {
    const task = await taskFor(t, 'flaky', `Doomed ${reply.kind}`);
    const before = await available(t);
    fake.reset();
    fake.script(reply, reply, reply, reply);
    const run = await runAndWait(t, task);
    assert.equal(run.status, 'failed', JSON.stringify(run));
    assert.ok(['provider_error', 'invalid_response'].includes(run.reason), run.reason);
    assert.equal(run.credits_spent, 0);
    assert.equal(run.error.code, run.reason);
    await waitForPosting(app.app.services.database.pool, t.orgId);
    assert.equal(await available(t), before, 'refunded');
    assert.equal((await api(t, 'GET', `/tasks/${task.number}`)).body.status, 'todo', 'back in the queue');
  }
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, t.orgId)), []);
  const notes = await until('a run.failed notification', async () => {
    const list = (await api(t.sessionToken, 'GET', '/notifications')).body.data;
    return list.filter((n: any) => n.type === 'run.failed').length === 2 ? list : undefined;
  });
  assert.ok(notes.length >= 2);
});

test('budget: a token cap stops the run before the call that would pass it (exact figures)', async () => {
  const t = await funded('Budget');
  await ok(await api(t, 'POST', '/agents', fakeAgent('thrifty', { tools: ['tasks.comments.create'], budget: { monthly_tokens: 250 } })));
  const task = await taskFor(t, 'thrifty', 'Spend carefully');
  fake.reset();
  const step = { kind: 'tool', name: 'tasks_comments_create', args: { id: String(task.number), body: 'step' }, usage: { prompt_tokens: 80, completion_tokens: 20 } } as const;
  fake.script(step, step, step, step);
  const run = await runAndWait(t, task);
  assert.equal(run.status, 'failed', JSON.stringify(run));
  assert.equal(run.reason, 'budget');
  // Two calls (200 tokens); a third would have taken it to ~300 > 250, so it was never made.
  assert.deepEqual([run.tokens_in + run.tokens_out, run.steps, fake.requests.length], [200, 2, 2]);
  assert.equal(run.credits_spent, 0);
  // At its cap, the next run is refused before a credit is held.
  await ok(await api(t, 'PATCH', '/agents/thrifty', { budget: { monthly_tokens: 200 } }), 200);
  const again = await taskFor(t, 'thrifty', 'One more');
  const before = await available(t);
  assertEnvelope(await api(t, 'POST', `/tasks/${again.number}/run`, {}), 402, 'quota_exceeded', 'over budget');
  assert.equal(await available(t), before);
});

test('cancel: a queued run ends at once, a running one stops; both refunded; a finished one is 409', async () => {
  const t = await funded('Cancel');
  await ok(await api(t, 'POST', '/agents', fakeAgent('slow')));
  const before = await available(t);
  // Running: the model hangs until the run is cancelled.
  const task = await taskFor(t, 'slow', 'Hang');
  fake.reset();
  fake.script({ kind: 'hang' });
  const queued = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
  await until('the run to start', async () => (await api(t, 'GET', `/runs/${queued.id}`)).body.status === 'running');
  assertEnvelope(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 409, 'conflict', 'one open run per task');
  const asked = await ok(await api(t, 'POST', `/runs/${queued.id}/cancel`, {}), 200);
  assert.ok(asked.cancel_requested_at);
  const ended = await until('the run to be cancelled', async () => {
    const r = (await api(t, 'GET', `/runs/${queued.id}`)).body;
    return r.status === 'cancelled' ? r : undefined;
  });
  assert.equal(ended.credits_spent, 0);
  assertEnvelope(await api(t, 'POST', `/runs/${queued.id}/cancel`, {}), 409, 'conflict', 'already ended');
  await waitForPosting(app.app.services.database.pool, t.orgId);
  assert.equal(await available(t), before, 'refunded');
  assert.equal((await api(t, 'GET', `/tasks/${task.number}`)).body.status, 'todo');
});

test('a queued run with no worker to take it is cancelled at once', async () => {
  // Stop this file's worker for the test; another picks the run up only after the cancel.
  await worker.stop();
  try {
    const t = await funded('Queued');
    await ok(await api(t, 'POST', '/agents', { name: 'idle' }));
    const task = await taskFor(t, 'idle', 'Never started');
    const queued = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
    const cancelled = await ok(await api(t, 'POST', `/runs/${queued.id}/cancel`, {}), 200);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.started_at, null);
    const [hold] = await sql(app, `select h.status from holds h join runs r on r.hold_id = h.id where r.id = $1`, [queued.id]);
    assert.equal(hold.status, 'released');
  } finally {
    worker = await startWorker(app.app.services, { pollMs: 100 });
  }
});

test('the event stream: SSE replays, follows the run live to its end, and resumes after Last-Event-ID', async () => {
  const t = await funded('Stream');
  await ok(await api(t, 'POST', '/agents', { name: 'narrator' }));
  const task = await taskFor(t, 'narrator', 'Tell the story. Then tell it again.');
  // Followed on another server instance than the one whose worker runs it: the events reach it by NOTIFY.
  const other = await app.second();
  const queued = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
  const read = async (headers: Record<string, string>) => {
    const res = await fetch(`${other.url}/api/v1/runs/${queued.id}/events`, { headers: { authorization: `Bearer ${t.key}`, accept: 'text/event-stream', ...headers } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await res.text(); // the server ends the stream after the run's last event
    return [...text.matchAll(/(?:id: (\d+)\n)?event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({ id: m[1] ? Number(m[1]) : null, event: m[2], data: JSON.parse(m[3]) }));
  };
  const all = await read({});
  const end = all.at(-1)!;
  assert.equal(end.event, 'end');
  assert.equal(end.data.status, 'succeeded');
  const numbered = all.filter((e) => e.id !== null);
  assert.deepEqual(
    numbered.map((e) => e.id),
    numbered.map((_, i) => i + 1),
  );
  const resumed = await read({ 'last-event-id': '3' });
  assert.deepEqual(
    resumed.filter((e) => e.id !== null).map((e) => e.id),
    numbered.slice(3).map((e) => e.id),
    'only what came after event 3',
  );
  // JSON paging with `after`.
  const page = (await api(t, 'GET', `/runs/${queued.id}/events?after=2&limit=2`)).body;
  assert.deepEqual(
    page.data.map((e: any) => e.seq),
    [3, 4],
  );
  assert.equal(page.meta.has_more, true);
  assert.equal(page.meta.status, 'succeeded');
  await other.close();
});

test('bad input: no agent → 422 saying what to do; blocked → 409; paused agent → 409; unknown ids and other orgs → 404', async () => {
  const t = await funded('Bad');
  const other = await funded('Other');
  const before = await available(t);
  const lonely = await ok(await api(t, 'POST', '/tasks', { title: 'Nobody on it' }));
  const res = await api(t, 'POST', `/tasks/${lonely.number}/run`, {});
  assertEnvelope(res, 422, 'unprocessable', 'no agent');
  assert.match(res.body.message, /assign it to one|agent/);
  await ok(await api(t, 'POST', '/agents', { name: 'sleepy' }));
  await ok(await api(t, 'POST', '/agents/sleepy/stop', {}), 200);
  assertEnvelope(await api(t, 'POST', `/tasks/${lonely.number}/run`, { agent: 'sleepy' }), 409, 'paused', 'paused agent');
  assertEnvelope(await api(t, 'POST', `/tasks/${lonely.number}/run`, { agent: 'ghost' }), 404, 'not_found', 'unknown agent');
  const blocker = await ok(await api(t, 'POST', '/tasks', { title: 'First this' }));
  await ok(await api(t, 'POST', `/tasks/${lonely.number}/dependencies`, { depends_on: blocker.id }), 200);
  await ok(await api(t, 'POST', '/agents/sleepy/start', {}), 200);
  assertEnvelope(await api(t, 'POST', `/tasks/${lonely.number}/run`, { agent: 'sleepy' }), 409, 'conflict', 'blocked task');
  assertEnvelope(await api(t, 'POST', '/tasks/9999/run', {}), 404, 'not_found', 'unknown task');
  assertEnvelope(await api(t, 'GET', '/runs/run_00000000000000000000000000'), 404, 'not_found', 'unknown run');
  assertEnvelope(await api(t, 'GET', '/runs?status=sideways'), 400, 'invalid_request', 'bad status filter');
  // Another org's run is invisible in every way.
  await ok(await api(other, 'POST', '/agents', { name: 'theirs' }));
  const theirs = await taskFor(other, 'theirs', 'Their task');
  const run = await ok(await api(other, 'POST', `/tasks/${theirs.number}/run`, {}), 202);
  assertEnvelope(await api(t, 'GET', `/runs/${run.id}`), 404, 'not_found', 'another org');
  assertEnvelope(await api(t, 'GET', `/runs/${run.id}/events`), 404, 'not_found', 'another org');
  assertEnvelope(await api(t, 'POST', `/runs/${run.id}/cancel`, {}), 404, 'not_found', 'another org');
  assertEnvelope(await api(t, 'POST', `/tasks/${theirs.id}/run`, {}), 404, 'not_found', 'another org');
  assertEnvelope(await api(t, 'POST', `/tasks/${lonely.number}/run`, { agent: 'theirs' }), 404, 'not_found', "another org's agent");
  assert.equal(await available(t), before, 'no refusal held or spent anything');
  assert.equal((await sql(app, `select count(*)::int as n from runs where org_id = $1`, [t.orgId]))[0].n, 0);
});

test('CLI: `tasks run N --yes --wait` prints the live events and exits 0 on success, 1 on failure; `runs events --follow`', async () => {
  const t = await funded('Cli');
  const configDir = mkdtempSync(join(tmpdir(), 'opsbase-runs-cli-'));
  const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: configDir };
  try {
    // The budget's members are flags of their own (`--monthly-credits`), beside `--budget <json>`.
    const made = await runProcess(['--json', 'agents', 'create', 'writer', '--role', 'Content writer', '--interval-sec', '300', '--monthly-credits', '100'], env);
    assert.equal(made.code, 0, made.stderr);
    const agent = JSON.parse(made.stdout);
    assert.deepEqual([agent.interval_sec, agent.budget.monthly_credits, agent.budget.monthly_tokens], [300, 100, null]);
    const capped = await runProcess(['--json', 'agents', 'update', 'writer', '--budget', '{"monthly_tokens":5000}', '--alert-at-pct', '90'], env);
    assert.equal(capped.code, 0, capped.stderr);
    assert.deepEqual(JSON.parse(capped.stdout).budget, { monthly_credits: 100, monthly_tokens: 5000, alert_at_pct: 90 });
    const task = await taskFor(t, 'writer', 'Write the launch announcement');
    const refused = await runProcess(['tasks', 'run', String(task.number)], env);
    assert.equal(refused.code, 2, 'a paid command without --yes and no terminal');
    assert.match(refused.stderr, /costs 1 credit.*--yes/);
    const ran = await runProcess(['tasks', 'run', String(task.number), '--yes', '--wait'], env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /^following run_[0-9a-z]{26}\n#1 status queued/);
    assert.match(ran.stdout, /status running \(attempt 1\)/);
    assert.match(ran.stdout, /result:\n.*Write the launch announcement/);
    assert.match(ran.stdout, /ended: succeeded/);

    await ok(await api(t, 'POST', '/agents', fakeAgent('flaky')));
    const doomed = await taskFor(t, 'flaky', 'Doomed from the CLI');
    fake.reset();
    fake.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const failed = await runProcess(['--json', 'tasks', 'run', String(doomed.number), '--yes', '--wait'], env);
    assert.equal(failed.code, 1, failed.stderr);
    const lines = failed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).event, 'end');
    assert.equal(lines.at(-1).status, 'failed');
    const runId = lines[0].run_id;
    assert.match(runId, /^run_/);

    const replay = await runProcess(['--json', 'runs', 'events', runId, '--follow'], env);
    assert.equal(replay.code, 0, replay.stderr);
    const seqs = replay.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.seq).map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_: number, i: number) => i + 1), 'every event once, in order');
    const missing = await runProcess(['runs', 'events', 'run_00000000000000000000000000', '--follow'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not_found/);
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
});

test('MCP: tasks_run needs confirm: true, then queues a paid run an agent can follow with runs_get', async () => {
  const t = await funded('Mcp');
  await ok(await api(t, 'POST', '/agents', { name: 'writer' }));
  const task = await taskFor(t, 'writer', 'Summarise the quarter');
  const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${t.key}` } } }));
  try {
    const { tools } = await client.listTools();
    const run = tools.find((x) => x.name === 'tasks_run');
    assert.ok(run, 'tasks_run is a tool of the default toolsets');
    assert.ok(run.inputSchema.required?.includes('confirm'));
    assert.match(run.description ?? '', /Costs 1 credit/);
    assert.ok(tools.some((x) => x.name === 'runs_get') && tools.some((x) => x.name === 'runs_events'));
    const before = await available(t);
    const refused: any = await client.callTool({ name: 'tasks_run', arguments: { id: String(task.number) } });
    assert.equal(refused.isError, true);
    assert.match(JSON.stringify(refused.content), /confirm/);
    assert.equal(await available(t), before, 'nothing held without confirm');
    const queued: any = await client.callTool({ name: 'tasks_run', arguments: { id: String(task.number), confirm: true } });
    assert.notEqual(queued.isError, true, JSON.stringify(queued.content));
    const runId = queued.structuredContent.id;
    const done = await until('the run to succeed', async () => {
      const got: any = await client.callTool({ name: 'runs_get', arguments: { id: runId } });
      return got.structuredContent.status === 'succeeded' ? got.structuredContent : undefined;
    });
    assert.equal(done.credits_spent, 1);
  } finally {
    await client.close();
  }
});
