// Heartbeats, budgets, agent stats and the agent dashboards (issue 11): real PostgreSQL, real workers on two app
// instances, and a model vendor on loopback (test/helpers/fake-openai.ts) that counts every model call. Time is
// driven by moving an agent's `heartbeat_due_at` into the past, then sweeping as the scheduled job does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { heartbeatJob } from '../src/modules/agents/jobs.ts';
import { sweepHeartbeats } from '../src/modules/agents/heartbeat.ts';
import { resumeBudgetPaused } from '../src/modules/agents/resume.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startFakeOpenAI, type FakeOpenAI, type Reply } from './helpers/fake-openai.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { invariantViolations, ledgerState, waitForPosting } from './helpers/ledger.ts';
import { type Api, apiOf, fakeAgentBody, funded as fundedTenant, ok } from './helpers/funded.ts';
import { until } from './helpers/until.ts';

let app: TestApp;
let app2: TestApp;
let fake: FakeOpenAI;
let worker: Worker;
let worker2: Worker;
before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' } });
  app2 = await app.second();
  fake = await startFakeOpenAI();
  worker = await startWorker(app.app.services, { pollMs: 100 });
  worker2 = await startWorker(app2.app.services, { pollMs: 100 });
});
after(async () => {
  await worker2.stop();
  await worker.stop();
  await fake.close();
  await app2.app.close();
  await closeDb(app);
  await app.close();
});

const funded = (name: string) => fundedTenant(app, name);
// `app` exists once `before` ran.
const api: Api = (...args) => apiOf(app)(...args);

/** An agent on the fake vendor, created without an interval (so no sweep wakes it before its tasks exist). */
async function fakeAgent(t: Tenant, name: string, extra: Record<string, unknown> = {}) {
  return ok(await api(t, 'POST', '/agents', fakeAgentBody(fake.url, name, extra)));
}

/** Gives the agent a heartbeat (every hour: in these tests only `wake` makes one due again). */
const beat = async (t: Tenant, name: string) => ok(await api(t, 'PATCH', `/agents/${name}`, { interval_sec: 3600 }), 200);

async function taskFor(t: Tenant, agent: string, title: string, extra: Record<string, unknown> = {}) {
  return ok(await api(t, 'POST', '/tasks', { title, assignee: `agent:${agent}`, ...extra }));
}

/** The agent's heartbeat jobs, oldest first. */
const wakes = (agentId: string) =>
  sql(app, `select id, state, result from queue_jobs where task_type = 'agents.heartbeat' and payload->>'agent_id' = $1 order by id`, [agentId]);

const sweepers = [() => sweepHeartbeats(app.app.services.database.db, heartbeatJob), () => sweepHeartbeats(app2.app.services.database.db, heartbeatJob)];

/** One interval passes: the agent is due; both instances sweep at once (as their schedules may); its wakes finish. */
async function wake(agentId: string) {
  const before = (await wakes(agentId)).length;
  await sql(app, `update agents set interval_sec = coalesce(interval_sec, 3600), heartbeat_due_at = now() - interval '1 second' where id = $1`, [agentId]);
  await Promise.all([...sweepers, ...sweepers].map((s) => s()));
  return until(`a heartbeat of ${agentId} to finish`, async () => {
    const all = await wakes(agentId);
    return all.length > before && all.every((j) => j.state === 'completed' || j.state === 'failed') ? all.slice(before) : undefined;
  });
}

const runsOf = (agentId: string) => sql(app, `select id, task_id, status, credits_spent from runs where agent_id = $1 order by queued_at`, [agentId]);
const available = async (t: Tenant) => (await ok(await api(t, 'GET', '/wallet'), 200)).available as number;
const eventsOf = (t: Tenant, type: string, subject: string) =>
  sql(app, `select seq, data from events where org_id = $1 and type = $2 and subject = $3 order by seq`, [t.orgId, type, subject]);

async function allEnded(agentId: string) {
  return until(`the runs of ${agentId} to end`, async () => {
    const rs = await runsOf(agentId);
    return rs.length > 0 && rs.every((r) => !['queued', 'running'].includes(r.status)) ? rs : undefined;
  });
}

test('an idle agent: the schedule wakes it, and its heartbeats make no model call, hold no credit and start nothing', async () => {
  const t = await funded('Idle');
  const agent = await fakeAgent(t, 'sleeper');
  const human = await ok(await api(t, 'POST', '/tasks', { title: 'A human task', assignee: `user:${t.userId}` }));
  // Its only task waits for the human's: blocked, so not startable.
  const blocked = await taskFor(t, 'sleeper', 'Blocked work');
  await ok(await api(t, 'POST', `/tasks/${blocked.number}/dependencies`, { depends_on: String(human.number) }), 200);
  await ok(await api(t, 'POST', '/tasks', { title: 'Nobody’s task' }));
  const before = await available(t);
  fake.reset();
  // The real schedule (every 5 s, on either worker) wakes an agent whose interval starts now.
  await ok(await api(t, 'PATCH', '/agents/sleeper', { interval_sec: 60 }), 200);
  const first = await until('the scheduled heartbeat', async () => {
    const a = (await api(t, 'GET', '/agents/sleeper')).body;
    return a.last_heartbeat_at ? a : undefined;
  }, 15_000);
  assert.equal(first.status, 'idle');
  const due = await sql(app, `select heartbeat_due_at > now() + interval '50 seconds' as later from agents where id = $1`, [agent.id]);
  assert.equal(due[0].later, true, 'the next wake is one interval away');
  for (let i = 0; i < 3; i++) {
    const [w] = await wake(agent.id);
    assert.equal(w.state, 'completed');
    assert.deepEqual(w.result, { reason: 'no_work', runs: [] });
  }
  assert.equal((await wakes(agent.id)).length, 4, 'one job per wake');
  assert.equal(fake.requests.length, 0, 'no model call');
  assert.deepEqual(await runsOf(agent.id), []);
  assert.equal(await available(t), before, 'no credit held or spent');
  const check = await ok(await api(t, 'GET', '/agent-runs/idle-check?agent=sleeper'), 200);
  assert.deepEqual([check.idle, check.reason, check.next_task_id, check.open_runs], [true, 'no_work', null, 0]);
  // Says why plainly: the unassigned task is there, but heartbeats take only the agent's own.
  assert.match(check.message, /^No todo task assigned to sleeper is ready to start: heartbeats pick up only tasks assigned to the agent/);
  // The blocker is done: the blocked task becomes its next one.
  await ok(await api(t, 'PATCH', `/tasks/${human.number}`, { status: 'done' }), 200);
  const ready = await ok(await api(t, 'GET', `/agent-runs/idle-check?agent=${agent.id}`), 200);
  assert.deepEqual([ready.idle, ready.reason, ready.next_task_id], [false, 'ready', blocked.id]);
  await ok(await api(t, 'POST', '/agents/sleeper/stop', {}), 200);
});

test('with work, a wake claims the most urgent task and runs it as a paid run (1 credit); stats and list show it', async () => {
  const t = await funded('Work');
  const agent = await fakeAgent(t, 'worker');
  const later = await taskFor(t, 'worker', 'Tidy the backlog', { priority: 'P3' });
  const urgent = await taskFor(t, 'worker', 'Fix the checkout', { priority: 'P0' });
  const before = await available(t);
  fake.reset();
  fake.script({ kind: 'text', text: 'Fixed the checkout.', usage: { prompt_tokens: 100, completion_tokens: 20 } });
  await beat(t, 'worker');
  // Whichever sweep got it (the schedule's or ours), there is one wake and it starts one run.
  await until('the first run', async () => (await runsOf(agent.id)).length === 1);
  const [run] = await allEnded(agent.id);
  assert.equal(run.task_id, urgent.id, 'P0 first');
  assert.equal(run.status, 'succeeded');
  assert.equal(Number(run.credits_spent), 1);
  assert.equal(fake.requests.length, 1);
  const got = (await api(t, 'GET', `/runs/${run.id}`)).body;
  assert.deepEqual([got.tokens_in, got.tokens_out], [100, 20]);
  assert.equal((await api(t, 'GET', `/tasks/${urgent.number}`)).body.status, 'in_review');
  assert.equal((await api(t, 'GET', `/tasks/${later.number}`)).body.status, 'todo', 'one run at a time (max_concurrent_runs 1)');
  const claimed = await sql(app, `select actor_type, actor_id from activity_log where entity_id = $1 and action = 'task.claimed'`, [urgent.id]);
  assert.deepEqual(claimed, [{ actor_type: 'agent', actor_id: agent.id }], 'claimed by the agent itself');
  await waitForPosting(app.app.services.database.pool, t.orgId);
  assert.equal(await available(t), before - 1, 'exactly one credit');
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, t.orgId)), []);

  const shown = (await api(t, 'GET', '/agents/worker')).body;
  assert.deepEqual(
    [shown.runs_this_month, shown.credits_this_month, shown.tokens_this_month, shown.completion_rate],
    [1, 1, 120, 1],
  );
  assert.ok(shown.last_heartbeat_at);
  await fakeAgent(t, 'newcomer');
  const listed = (await api(t, 'GET', '/agents')).body.data;
  const row = (name: string) => listed.find((a: any) => a.name === name);
  assert.deepEqual([row('worker').runs_this_month, row('worker').tokens_this_month, row('worker').completion_rate], [1, 120, 1]);
  assert.deepEqual([row('newcomer').runs_this_month, row('newcomer').completion_rate, row('newcomer').last_heartbeat_at], [0, null, null]);

  // The next interval: the other task.
  fake.script({ kind: 'text', text: 'Tidied.', usage: { prompt_tokens: 50, completion_tokens: 5 } });
  const [w] = await wake(agent.id);
  assert.equal(w.result.reason, 'started');
  const rs = await allEnded(agent.id);
  assert.deepEqual(
    rs.map((r) => [r.task_id, r.status]),
    [
      [urgent.id, 'succeeded'],
      [later.id, 'succeeded'],
    ],
  );
  await ok(await api(t, 'POST', '/agents/worker/stop', {}), 200);
});

test('two workers on two instances: every wake runs once, each task gets one run', async () => {
  const t = await funded('Fleet');
  const names = ['ant', 'bee', 'cat'];
  const agents: any[] = [];
  for (const name of names) {
    // The offline model: deterministic, no vendor, so the three agents' runs need no script.
    agents.push(await ok(await api(t, 'POST', '/agents', { name })));
    await taskFor(t, name, `${name}: first job`, { priority: 'P1' });
    await taskFor(t, name, `${name}: second job`, { priority: 'P2' });
  }
  const before = await available(t);
  for (const a of agents) await sql(app, `update agents set interval_sec = 3600, heartbeat_due_at = now() - interval '1 second' where id = $1`, [a.id]);
  // Eight sweeps at once on the two instances; then a second interval for each agent.
  await Promise.all([...sweepers, ...sweepers, ...sweepers, ...sweepers].map((s) => s()));
  for (const a of agents) await until(`the first wake of ${a.name}`, async () => (await wakes(a.id)).every((j) => j.state === 'completed'));
  for (const a of agents) assert.equal((await wakes(a.id)).length, 1, `${a.name} woke once`);
  for (const a of agents) await allEnded(a.id);
  for (const a of agents) assert.equal((await wake(a.id)).length, 1, `${a.name} woke once more`);
  for (const a of agents) {
    const rs = await allEnded(a.id);
    assert.equal(rs.length, 2, `${a.name}: one run per wake`);
    assert.equal(new Set(rs.map((r) => r.task_id)).size, 2, `${a.name}: each task once`);
    assert.ok(rs.every((r) => r.status === 'succeeded'));
  }
  await waitForPosting(app.app.services.database.pool, t.orgId);
  assert.equal(await available(t), before - 6);
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, t.orgId)), []);
  for (const name of names) await ok(await api(t, 'POST', `/agents/${name}/stop`, {}), 200);
});

test('max_concurrent_runs: a wake fills the free slots and no more; a full agent waits', async () => {
  const t = await funded('Slots');
  const agent = await fakeAgent(t, 'pair', { max_concurrent_runs: 2 });
  for (const n of [1, 2, 3]) await taskFor(t, 'pair', `Job ${n}`);
  fake.reset();
  fake.script({ kind: 'hang' }, { kind: 'hang' });
  const [w] = await wake(agent.id);
  assert.equal(w.result.reason, 'started');
  assert.equal(w.result.runs.length, 2);
  await until('both runs to be running', async () => (await runsOf(agent.id)).filter((r) => r.status === 'running').length === 2);
  const full = await ok(await api(t, 'GET', '/agent-runs/idle-check?agent=pair'), 200);
  assert.deepEqual([full.idle, full.reason, full.open_runs, full.max_concurrent_runs], [false, 'at_capacity', 2, 2]);
  const [again] = await wake(agent.id);
  assert.deepEqual(again.result, { reason: 'at_capacity', runs: [] });
  // A slot frees (the cancelled run's task is back in its todo list): the next wake fills that one slot only.
  const runs = await runsOf(agent.id);
  assert.equal(runs.length, 2);
  await ok(await api(t, 'POST', `/runs/${runs[0].id}/cancel`, {}), 200);
  await until('the cancel', async () => (await runsOf(agent.id))[0].status === 'cancelled');
  fake.script({ kind: 'hang' });
  const [third] = await wake(agent.id);
  assert.equal(third.result.runs.length, 1);
  const open = (await runsOf(agent.id)).filter((r) => ['queued', 'running'].includes(r.status));
  assert.equal(open.length, 2, 'never more than two open');
  for (const r of open) await ok(await api(t, 'POST', `/runs/${r.id}/cancel`, {}), 200);
  await allEnded(agent.id);
  await ok(await api(t, 'POST', '/agents/pair/stop', {}), 200);
});

test('budget (credits): alert at its share once, paused at 100 %, then the next heartbeat does nothing', async () => {
  const t = await funded('Credits cap');
  const agent = await fakeAgent(t, 'capped', { budget: { monthly_credits: 2, alert_at_pct: 50 } });
  const tasks = [];
  for (const n of [1, 2, 3]) tasks.push(await taskFor(t, 'capped', `Capped ${n}`));
  fake.reset();
  const reply: Reply = { kind: 'text', text: 'Done.', usage: { prompt_tokens: 10, completion_tokens: 5 } };
  fake.script(reply, reply);

  await wake(agent.id);
  await allEnded(agent.id);
  const alerts = await until('the alert', async () => {
    const a = await eventsOf(t, 'agent.budget_alert', agent.id);
    return a.length ? a : undefined;
  });
  assert.equal(alerts.length, 1);
  assert.deepEqual(
    [alerts[0].data.budget, alerts[0].data.used, alerts[0].data.limit, alerts[0].data.pct],
    ['monthly_credits', 1, 2, 50],
  );
  assert.equal((await api(t, 'GET', '/agents/capped')).body.status, 'active', 'at 50 %: still working');

  await wake(agent.id);
  await allEnded(agent.id);
  const paused = await until('the pause', async () => {
    const a = (await api(t, 'GET', '/agents/capped')).body;
    return a.status === 'paused' ? a : undefined;
  });
  assert.equal(paused.status_reason, 'budget');
  assert.equal(paused.credits_this_month, 2);
  const pauses = await eventsOf(t, 'agent.paused', agent.id);
  assert.equal(pauses.length, 1);
  assert.deepEqual([pauses[0].data.reason, pauses[0].data.budget, pauses[0].data.used, pauses[0].data.limit], ['budget', 'monthly_credits', 2, 2]);
  assert.equal((await eventsOf(t, 'agent.budget_alert', agent.id)).length, 1, 'one alert per month');
  const notes = await until('both notifications', async () => {
    const list = (await api(t.sessionToken, 'GET', '/notifications')).body.data as any[];
    const mine = list.filter((n) => ['agent.budget_alert', 'agent.paused'].includes(n.type));
    return mine.length === 2 ? mine : undefined;
  });
  assert.ok(notes.some((n) => n.type === 'agent.budget_alert' && /50%/.test(n.title)));

  // Paused: the sweep does not wake it, nothing runs, no model call, the third task waits.
  const jobsBefore = (await wakes(agent.id)).length;
  await sql(app, `update agents set heartbeat_due_at = now() - interval '1 second' where id = $1`, [agent.id]);
  await Promise.all(sweepers.map((s) => s()));
  assert.equal((await wakes(agent.id)).length, jobsBefore, 'no wake for a paused agent');
  assert.equal(fake.requests.length, 2);
  assert.equal((await runsOf(agent.id)).length, 2);
  assert.equal((await api(t, 'GET', `/tasks/${tasks[2].number}`)).body.status, 'todo');
  const check = await ok(await api(t, 'GET', '/agent-runs/idle-check?agent=capped'), 200);
  assert.deepEqual([check.idle, check.reason, check.next_task_id], [false, 'paused', tasks[2].id]);
  // Started again without more budget: the wake sees it over budget and pauses it again, still without a model call.
  await ok(await api(t, 'POST', '/agents/capped/start', {}), 200);
  const [w] = await wake(agent.id);
  assert.deepEqual(w.result, { reason: 'over_budget', runs: [] });
  assert.equal((await api(t, 'GET', '/agents/capped')).body.status, 'paused');
  assert.equal(fake.requests.length, 2);
  assert.equal((await eventsOf(t, 'agent.budget_alert', agent.id)).length, 1, 'still one alert this month');

  // A bigger budget: started again, it takes the third task, and the new cap gets its own alert (3 of 4: 75 %).
  await ok(await api(t, 'PATCH', '/agents/capped', { budget: { monthly_credits: 4 } }), 200);
  await ok(await api(t, 'POST', '/agents/capped/start', {}), 200);
  fake.script(reply);
  const [resumed] = await wake(agent.id);
  assert.equal(resumed.result.reason, 'started');
  assert.deepEqual(
    (await allEnded(agent.id)).map((r) => [r.task_id, r.status]).at(-1),
    [tasks[2].id, 'succeeded'],
  );
  const second = await until('the new cap’s alert', async () => {
    const a = await eventsOf(t, 'agent.budget_alert', agent.id);
    return a.length === 2 ? a[1] : undefined;
  });
  assert.deepEqual([second.data.used, second.data.limit, second.data.pct], [3, 4, 75]);
  assert.equal((await api(t, 'GET', '/agents/capped')).body.status, 'active');
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, t.orgId)), []);
});

test('budget (tokens): the alert comes mid-run from the loop, which stops before passing the cap; the agent pauses', async () => {
  const t = await funded('Tokens cap');
  const agent = await fakeAgent(t, 'wordy', { tools: ['tasks.comments.create'], budget: { monthly_tokens: 1000, alert_at_pct: 50 } });
  const task = await taskFor(t, 'wordy', 'Talk a lot');
  fake.reset();
  const step: Reply = { kind: 'tool', name: 'tasks_comments_create', args: { id: String(task.number), body: 'more' }, usage: { prompt_tokens: 500, completion_tokens: 100 } };
  fake.script(step, step, step);
  await wake(agent.id);
  const [run] = await allEnded(agent.id);
  assert.equal(run.status, 'failed');
  const got = (await api(t, 'GET', `/runs/${run.id}`)).body;
  assert.equal(got.reason, 'budget');
  // One call (600 tokens); the next would have taken it to ~1200 > 1000, so it was never made.
  assert.deepEqual([got.tokens_in + got.tokens_out, fake.requests.length], [600, 1]);
  const [alert] = await eventsOf(t, 'agent.budget_alert', agent.id);
  assert.deepEqual([alert.data.budget, alert.data.used, alert.data.limit, alert.data.pct], ['monthly_tokens', 600, 1000, 60]);
  const [ended] = await eventsOf(t, 'run.failed', run.id);
  assert.ok(alert.seq < ended.seq, 'alerted while the run was going');
  const a = await until('the pause', async () => {
    const x = (await api(t, 'GET', '/agents/wordy')).body;
    return x.status === 'paused' ? x : undefined;
  });
  assert.deepEqual([a.status_reason, a.tokens_this_month, a.credits_this_month], ['budget', 600, 0]);
});

test('a failing task is not run again at every wake: heartbeats wait 5, 10, 20, 40 min, the fifth failure blocks it with the error; a run by hand still works', async () => {
  const t = await funded('Retries');
  const agent = await fakeAgent(t, 'shaky');
  const task = await taskFor(t, 'shaky', 'Call the broken API');
  const credits = await available(t);
  // 400: a failure the model client does not retry (one request per run).
  const broken: Reply = { kind: 'status', status: 400, body: '{"error":{"message":"bad request"}}' };
  fake.reset();
  fake.script(...Array(10).fill(broken));
  const taskRow = async () => (await sql(app, `select status, run_failures, extract(epoch from retry_after - now()) as wait from tasks where id = $1`, [task.id]))[0];
  const waitAbout = (wait: number, seconds: number) => assert.ok(Math.abs(Number(wait) - seconds) < 30, `waits about ${seconds} s: ${wait}`);
  /** Time passes: the task's wait is over. */
  const waitOver = () => sql(app, `update tasks set retry_after = now() - interval '1 second' where id = $1`, [task.id]);

  const [first] = await wake(agent.id);
  assert.equal(first.result.reason, 'started');
  assert.equal((await allEnded(agent.id))[0].status, 'failed');
  let row = await taskRow();
  assert.deepEqual([row.status, row.run_failures], ['todo', 1]);
  waitAbout(row.wait, 300);
  const shown = (await api(t, 'GET', `/tasks/${task.number}`)).body;
  assert.deepEqual([shown.run_failures, typeof shown.retry_after], [1, 'string']);

  // The next wake comes before the wait is over: nothing runs, no credit held, and the idle check says until when.
  const [early] = await wake(agent.id);
  assert.deepEqual(early.result, { reason: 'no_work', runs: [] });
  assert.equal((await runsOf(agent.id)).length, 1);
  const check = await ok(await api(t, 'GET', '/agent-runs/idle-check?agent=shaky'), 200);
  assert.deepEqual([check.idle, check.reason], [true, 'no_work']);
  assert.match(check.message, new RegExp(`Task #${task.number} waits until \\S+ after 1 failed run in a row`));

  // Over: the wake runs it again; it fails again and waits twice as long.
  await waitOver();
  assert.equal((await wake(agent.id))[0].result.reason, 'started');
  await allEnded(agent.id);
  row = await taskRow();
  assert.deepEqual([row.status, row.run_failures], ['todo', 2]);
  waitAbout(row.wait, 600);

  // A run by hand does not wait (and its failure counts like any other).
  const byHand = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
  await allEnded(agent.id);
  assert.equal((await api(t, 'GET', `/runs/${byHand.id}`)).body.status, 'failed');
  row = await taskRow();
  assert.deepEqual([row.status, row.run_failures], ['todo', 3]);
  waitAbout(row.wait, 1200);

  await waitOver();
  await wake(agent.id);
  await allEnded(agent.id);
  row = await taskRow();
  assert.deepEqual([row.status, row.run_failures], ['todo', 4]);
  waitAbout(row.wait, 2400);

  // The fifth failure in a row: blocked, with the error in a comment by the agent; heartbeats leave it alone.
  await waitOver();
  await wake(agent.id);
  const all = await allEnded(agent.id);
  assert.equal(all.length, 5);
  row = await taskRow();
  assert.deepEqual([row.status, row.run_failures, row.wait], ['blocked', 5, null]);
  const comments = (await api(t, 'GET', `/tasks/${task.number}/comments`)).body.data;
  assert.equal(comments.length, 1);
  assert.deepEqual(comments[0].author, { type: 'agent', id: agent.id });
  assert.match(comments[0].body, new RegExp(`^Blocked after 5 failed runs in a row\\. The last, ${all[4].id}, ended failed \\(provider_error\\): .*bad request`));
  const [idle] = await wake(agent.id);
  assert.deepEqual(idle.result, { reason: 'no_work', runs: [] });
  assert.equal((await runsOf(agent.id)).length, 5);
  await waitForPosting(app.app.services.database.pool, t.orgId);
  assert.equal(await available(t), credits, 'every failed run refunded');
  assert.equal(fake.requests.length, 5, 'one model call per run, none while waiting');

  // Fixed: a run by hand takes the blocked task, succeeds and clears the count.
  fake.reset();
  fake.script({ kind: 'text', text: 'Called it.', usage: { prompt_tokens: 10, completion_tokens: 2 } });
  const fixed = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
  await allEnded(agent.id);
  assert.equal((await api(t, 'GET', `/runs/${fixed.id}`)).body.status, 'succeeded');
  const done = (await api(t, 'GET', `/tasks/${task.number}`)).body;
  assert.deepEqual([done.status, done.run_failures, done.retry_after], ['in_review', 0, null]);

  // A person moving a task on also starts its count afresh.
  const other = await taskFor(t, 'shaky', 'Another broken call');
  fake.script(broken);
  await wake(agent.id);
  await allEnded(agent.id);
  assert.equal((await api(t, 'GET', `/tasks/${other.number}`)).body.run_failures, 1);
  const moved = await ok(await api(t, 'PATCH', `/tasks/${other.number}`, { status: 'backlog' }), 200);
  assert.deepEqual([moved.run_failures, moved.retry_after], [0, null]);
  assert.deepEqual(invariantViolations(await ledgerState(app.app.services.database.pool, t.orgId)), []);
  await ok(await api(t, 'POST', '/agents/shaky/stop', {}), 200);
});

test('a new month resumes an agent its budget paused (event agent.resumed) and it takes work again; one a person stopped stays paused', async () => {
  const t = await funded('New month');
  const reply: Reply = { kind: 'text', text: 'Done.', usage: { prompt_tokens: 10, completion_tokens: 5 } };
  const frugal = await fakeAgent(t, 'frugal', { budget: { monthly_credits: 1 } });
  const held = await fakeAgent(t, 'held', { budget: { monthly_credits: 1 } });
  const first = await taskFor(t, 'frugal', 'First of the month');
  const second = await taskFor(t, 'frugal', 'Next month');
  await taskFor(t, 'held', 'Held work');
  fake.reset();
  fake.script(reply, reply);
  for (const a of [frugal, held]) {
    await wake(a.id);
    await allEnded(a.id);
    await until(`${a.name} paused by its budget`, async () => (await api(t, 'GET', `/agents/${a.name}`)).body.status === 'paused');
  }
  assert.equal((await api(t, 'GET', `/tasks/${first.number}`)).body.status, 'in_review');
  // A person stops `held` as well: whatever its budget does now, it stays stopped.
  await ok(await api(t, 'POST', '/agents/held/stop', { note: 'not this month' }), 200);
  // Still this month: nothing resumes.
  assert.deepEqual(await resumeBudgetPaused(app.app.services), []);

  // The month turns (both agents' runs and pauses move 40 days back, in one statement: the schedule sweeps meanwhile).
  fake.script(reply);
  await sql(
    app,
    `with r as (update runs set queued_at = queued_at - interval '40 days' where agent_id = any($1::text[]))
     update agents set budget_paused_at = budget_paused_at - interval '40 days' where id = any($1::text[])`,
    [[frugal.id, held.id]],
  );
  // The scheduled sweep (every 5 s, either worker) resumes it, and the same sweep wakes it.
  const events = await until('the scheduled sweep to resume frugal', async () => {
    const e = await eventsOf(t, 'agent.resumed', frugal.id);
    return e.length ? e : undefined;
  }, 15_000);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0].data, { agent_id: frugal.id, name: 'frugal', reason: 'new_month' });
  const logged = await sql(app, `select actor_type from activity_log where entity_id = $1 and action = 'agent.resumed'`, [frugal.id]);
  assert.deepEqual(logged, [{ actor_type: 'system' }]);
  // Its wake takes the next task; that run spends the new month's credit and pauses it again.
  const rs = await until('the new month’s run', async () => {
    const all = await runsOf(frugal.id);
    return all.length === 2 && all.every((r) => !['queued', 'running'].includes(r.status)) ? all : undefined;
  }, 15_000);
  assert.deepEqual([rs[1].task_id, rs[1].status], [second.id, 'succeeded']);
  const stopped = (await api(t, 'GET', '/agents/held')).body;
  assert.deepEqual([stopped.status, stopped.status_reason], ['paused', 'not this month']);
  assert.deepEqual(await eventsOf(t, 'agent.resumed', held.id), []);
  assert.equal((await runsOf(held.id)).length, 1);
  await until('frugal paused again', async () => (await api(t, 'GET', '/agents/frugal')).body.status === 'paused');
});

test('dashboards: efficiency and queue health per agent, with exact figures; bad input; another org sees none of it', async () => {
  const t = await funded('Dash');
  const agent = await fakeAgent(t, 'analyst');
  const good = await taskFor(t, 'analyst', 'Good run');
  const bad = await taskFor(t, 'analyst', 'Bad run');
  fake.reset();
  fake.script({ kind: 'text', text: 'Done well.', usage: { prompt_tokens: 200, completion_tokens: 50 } });
  await ok(await api(t, 'POST', `/tasks/${good.number}/run`, {}), 202);
  await allEnded(agent.id);
  const fail: Reply = { kind: 'status', status: 500, body: '{"error":{"message":"boom"}}' };
  fake.script(fail, fail, fail, fail);
  await ok(await api(t, 'POST', `/tasks/${bad.number}/run`, {}), 202);
  const rs = await allEnded(agent.id);
  assert.deepEqual(
    rs.map((r) => r.status),
    ['succeeded', 'failed'],
  );
  await fakeAgent(t, 'bystander');
  const eff = await ok(await api(t, 'GET', '/dashboard/agent-efficiency'), 200);
  const row = eff.data.find((r: any) => r.name === 'analyst');
  assert.deepEqual(
    [row.runs, row.succeeded, row.success_rate, row.tokens, row.credits, row.tasks_done, row.tasks_per_1k_tokens],
    [2, 1, 0.5, 250, 1, 1, 4],
  );
  assert.ok(typeof row.median_duration_ms === 'number' && row.median_duration_ms >= 0);
  assert.deepEqual(eff.data.find((r: any) => r.name === 'bystander')?.runs, 0);
  const future = await ok(await api(t, 'GET', `/dashboard/agent-efficiency?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), 200);
  assert.equal(future.data.find((r: any) => r.name === 'analyst').runs, 0);

  // Queue health: the failed task is back in its todo list, one more waits behind a blocker, one is nobody's.
  const waiting = await taskFor(t, 'analyst', 'Waits for the bad run');
  await ok(await api(t, 'POST', `/tasks/${waiting.number}/dependencies`, { depends_on: String(bad.number) }), 200);
  await ok(await api(t, 'POST', '/tasks', { title: 'Unassigned' }));
  const health = await ok(await api(t, 'GET', '/dashboard/agent-queue-health'), 200);
  const h = health.data.find((r: any) => r.name === 'analyst');
  assert.deepEqual([h.queued_tasks, h.blocked_tasks, h.queued_runs, h.running_runs], [2, 1, 0, 0]);
  assert.ok(h.oldest_task_wait_seconds >= 0);
  assert.equal(health.meta.unassigned_tasks, 1);

  assertEnvelope(await api(t, 'GET', '/dashboard/agent-efficiency?since=yesterday'), 400, 'invalid_request', 'since not a timestamp');
  const other = await funded('Elsewhere');
  const theirs = await ok(await api(other, 'GET', '/dashboard/agent-efficiency'), 200);
  assert.deepEqual(theirs.data, []);
  assert.deepEqual((await ok(await api(other, 'GET', '/dashboard/agent-queue-health'), 200)).data, []);
});

test('idle check: bad input is a 400, an unknown agent or another org’s is a 404', async () => {
  const t = await funded('Checks');
  const agent = await fakeAgent(t, 'mine');
  const other = await funded('Others');
  // Only an agent may leave `agent` out (it asks about itself); a person's key names nobody.
  assertEnvelope(await api(t, 'GET', '/agent-runs/idle-check'), 404, 'not_found', 'no agent');
  assertEnvelope(await api(t, 'GET', '/agent-runs/idle-check?agent='), 400, 'invalid_request', 'empty agent');
  assertEnvelope(await api(t, 'GET', `/agent-runs/idle-check?agent=${'x'.repeat(65)}`), 400, 'invalid_request', 'too long');
  assertEnvelope(await api(t, 'GET', '/agent-runs/idle-check?agent=nobody'), 404, 'not_found', 'unknown');
  assertEnvelope(await api(other, 'GET', `/agent-runs/idle-check?agent=${agent.id}`), 404, 'not_found', 'another org, by id');
  assertEnvelope(await api(other, 'GET', '/agent-runs/idle-check?agent=mine'), 404, 'not_found', 'another org, by name');
  const own = await ok(await api(t, 'GET', '/agent-runs/idle-check?agent=mine'), 200);
  assert.equal(own.agent_id, agent.id);
  // A key without agents:read is refused.
  const narrow = await ok(await api(t, 'POST', '/keys', { name: 'narrow', scopes: ['tasks:read'] }));
  assertEnvelope(await api(narrow.secret, 'GET', '/agent-runs/idle-check?agent=mine'), 403, 'forbidden', 'scope');
});
