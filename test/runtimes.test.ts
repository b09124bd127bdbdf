// The `http` and `process` runtimes (issue 11 §4): an http agent on loopback — the one thing faked, since it lives
// outside Opsbase — receives its run signed like a webhook, verifies it, and reports back through runs.report /
// runs.complete / runs.fail with its run token; a silent one times out, refunded. Process agents are real commands
// (small node scripts): stdout lines become events, the exit code the outcome, and a command that hangs is killed
// with its whole process group at the timeout. Who may report on a run: its own agent or runs:write, never another
// agent (403) or another org (404).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { closeServices, openServices } from '../src/app.ts';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/http/logger.ts';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { agentCredential } from '../src/modules/agents/identity.ts';
import { closeDb, sleep, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { ok, processAlive, runHelpers } from './helpers/runs.ts';
import { until } from './helpers/until.ts';

let app: TestApp;
let worker: Worker | null = null;
let agentServer: FakeAgent;
const dir = mkdtempSync(join(tmpdir(), 'opsbase-runtimes-'));
const { api, funded, waitForRun, startRun, runAndWait, available, events, assertSettledOnce } = runHelpers(() => app);

before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000', OPSBASE_ALLOW_PROCESS_AGENTS: 'true' } });
  worker = await startWorker(app.app.services, { pollMs: 100 });
  agentServer = await startFakeAgent();
});
after(async () => {
  await worker?.stop();
  await agentServer.close();
  await closeDb(app);
  await app.close();
});

// ── the fake http agent ───────────────────────────────────────────────────────────────────────────────────────

interface Delivery {
  raw: string;
  body: any;
  headers: IncomingHttpHeaders;
  /** The signature checked with the secret the agent was given (null: no secret set for it). */
  verified: boolean | null;
}

interface FakeAgent {
  url: string;
  deliveries: Delivery[];
  /** The signing secret per agent id (what an operator copies from agents.signing_secret). */
  secrets: Map<string, string>;
  /** What the agent does after answering: report through the API. */
  onRun: (d: Delivery) => Promise<void> | void;
  status: number;
  close: () => Promise<void>;
}

async function startFakeAgent(): Promise<FakeAgent> {
  const agent: FakeAgent = { url: '', deliveries: [], secrets: new Map(), onRun: () => {}, status: 202, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw);
      const secret = agent.secrets.get(body.agent?.id);
      let verified: boolean | null = null;
      if (secret) {
        try {
          new Webhook(secret).verify(raw, req.headers as Record<string, string>);
          verified = true;
        } catch {
          verified = false;
        }
      }
      const d = { raw, body, headers: req.headers, verified };
      agent.deliveries.push(d);
      res.writeHead(agent.status, { 'content-type': 'application/json' }).end('{"accepted":true}');
      if (agent.status < 300 && verified) setImmediate(() => void agent.onRun(d));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  agent.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/runs`;
  agent.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return agent;
}

/** The agent calling the API with its run token; the path comes from the URL it was sent (the host is the test app). */
const callBack = (url: string, token: string, body: unknown) =>
  app.request('POST', new URL(url).pathname, { key: token, body });

async function httpAgent(t: Tenant, name: string, config: Record<string, unknown> = {}) {
  const agent = await ok(await api(t, 'POST', '/agents', { name, runtime: 'http', runtime_config: { url: agentServer.url, ...config } }));
  const secret = await ok(await api(t, 'GET', `/agents/${name}/signing-secret`), 200);
  assert.match(secret.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
  agentServer.secrets.set(agent.id, secret.secret);
  return agent;
}

const taskFor = async (t: Tenant, agent: string, title: string, extra: Record<string, unknown> = {}) =>
  ok(await api(t, 'POST', '/tasks', { title, assignee: `agent:${agent}`, ...extra }));

// ── http ──────────────────────────────────────────────────────────────────────────────────────────────────────

test('http: the run is POSTed signed; the agent heartbeats past its lease, reports events and completes; 1 credit', async () => {
  const t = await funded('Http');
  const agent = await httpAgent(t, 'remote', { lease_sec: 1, on_success: 'done' });
  const task = await taskFor(t, 'remote', 'Summarise the quarterly numbers', { description: 'Use the board deck.' });
  const before = await available(t);
  const reports: any[] = [];
  agentServer.onRun = async (d) => {
    const { api: links } = d.body;
    // Three heartbeats 600 ms apart: 1.8 s of work on a 1 s lease, kept alive by reporting.
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      const r = await callBack(links.report, links.token, {
        events: i === 0 ? [{ type: 'log', data: { message: 'reading the deck' } }, { type: 'message', data: { text: 'Numbers are up.' } }] : [],
        usage: { input_tokens: 50 * (i + 1), output_tokens: 10 * (i + 1) },
      });
      reports.push(r);
    }
    await callBack(links.complete, links.token, { result: 'Revenue up 12 %.', usage: { input_tokens: 200, output_tokens: 40 }, model: 'remote-model-1' });
  };
  const run = await runAndWait(t, task);
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  assert.equal(run.result, 'Revenue up 12 %.');
  assert.deepEqual([run.tokens_in, run.tokens_out, run.model, run.runtime, run.credits_spent], [200, 40, 'remote-model-1', 'http', 1]);
  for (const r of reports) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'running');
    assert.equal(r.body.cancel_requested, false);
    assert.ok(Date.parse(r.body.lease_expires_at) > Date.now() - 1000, 'the lease moved forward');
  }

  const d = agentServer.deliveries.find((x) => x.body.run.id === run.id);
  assert.ok(d, 'the agent received the run');
  assert.equal(d.verified, true, 'the Standard Webhooks signature verifies with the agent signing secret');
  assert.equal(d.headers['webhook-id'], run.id);
  assert.throws(() => new Webhook(agentServer.secrets.get(agent.id) ?? '').verify(d.raw.replace('quarterly', 'QUARTERLY'), d.headers as Record<string, string>));
  assert.deepEqual([d.body.type, d.body.task.id, d.body.task.description, d.body.agent.name, d.body.run.lease_sec], ['run', task.id, 'Use the board deck.', 'remote', 1]);
  assert.match(d.body.api.url, /\/api\/v1$/);
  assert.equal(d.body.api.report, `${d.body.api.url}/runs/${run.id}/report`);
  const token = await agentCredential(app.app.services.database.db, app.app.services.masterKey, agent.id);
  assert.equal(d.body.api.token, token, "the run token is the agent's own key");

  const after = await ok(await api(t, 'GET', `/tasks/${task.number}`), 200);
  assert.deepEqual([after.status, after.resolution, after.lease_expires_at], ['done', 'Revenue up 12 %.', null]);
  const evs = await events(t, run.id);
  const types = evs.map((e) => `${e.type}${e.data.status ? `:${e.data.status}` : ''}`);
  assert.deepEqual(types, ['status:queued', 'status:running', 'log', 'log', 'message', 'result', 'status:succeeded'], JSON.stringify(evs));
  assert.equal(evs[3].data.message, 'reading the deck');
  // The report's actor is the agent itself.
  const acted = await sql(app, `select actor_type, actor_id from activity_log where org_id = $1 and action = 'run.succeeded' and entity_id = $2`, [t.orgId, run.id]);
  assert.deepEqual(acted, [{ actor_type: 'agent', actor_id: agent.id }]);
  await assertSettledOnce(t, run.id, 'committed', before);

  // A report on a run that ended: 409, so the agent knows to stop.
  assertEnvelope(await callBack(d.body.api.report, d.body.api.token, {}), 409, 'conflict', 'already ended');
  assertEnvelope(await callBack(d.body.api.complete, d.body.api.token, { result: 'again' }), 409, 'conflict', 'already ended');
});

test('http: an agent silent past its lease → timed_out, refunded, the task back to todo; one that refuses → failed', async () => {
  const t = await funded('Silent');
  await httpAgent(t, 'mute', { lease_sec: 1 });
  agentServer.onRun = () => {};
  const task = await taskFor(t, 'mute', 'Never answered');
  const before = await available(t);
  const started = Date.now();
  const run = await runAndWait(t, task);
  assert.equal(run.status, 'timed_out', JSON.stringify(run));
  assert.equal(run.reason, 'agent_silent');
  assert.ok(Date.now() - started < 15_000, 'ended by its 1 s lease, not its 300 s time limit');
  assert.equal(run.credits_spent, 0);
  const back = await ok(await api(t, 'GET', `/tasks/${task.number}`), 200);
  assert.deepEqual([back.status, back.lease_expires_at], ['todo', null]);
  await assertSettledOnce(t, run.id, 'released', before);

  agentServer.status = 503;
  try {
    const refused = await runAndWait(t, await taskFor(t, 'mute', 'Refused at the door'));
    assert.equal(refused.status, 'failed');
    assert.equal(refused.reason, 'agent_unreachable');
    assert.match(refused.error.message, /HTTP 503/);
  } finally {
    agentServer.status = 202;
  }
});

test('http: a cancel stops the wait; the agent’s next runs.report is 409; runs.fail ends a run as failed, refunded', async () => {
  const t = await funded('Cancel');
  await httpAgent(t, 'slow', { lease_sec: 30 });
  const got: Delivery[] = [];
  agentServer.onRun = (d) => {
    got.push(d);
  };
  const queued = await startRun(t, await taskFor(t, 'slow', 'Long job'));
  const d = await until('the agent to receive the run', () => got.find((x) => x.body.run.id === queued.id));
  await until('the run to be delivered', async () => (await events(t, queued.id)).some((e) => e.type === 'log' && /Delivered/.test(e.data.message)));
  await ok(await api(t, 'POST', `/runs/${queued.id}/cancel`, {}), 200);
  const cancelled = await waitForRun(t, queued.id);
  assert.equal(cancelled.status, 'cancelled');
  assertEnvelope(await callBack(d.body.api.report, d.body.api.token, {}), 409, 'conflict');

  const before = await available(t);
  const second = await startRun(t, await taskFor(t, 'slow', 'Doomed job'));
  const d2 = await until('the second run', () => got.find((x) => x.body.run.id === second.id));
  await until('it to be running', async () => (await api(t, 'GET', `/runs/${second.id}`)).body.status === 'running');
  const failed = await ok(await callBack(d2.body.api.fail, d2.body.api.token, { error: 'The deck is missing.', usage: { input_tokens: 7, output_tokens: 3 } }), 200);
  assert.deepEqual([failed.status, failed.reason, failed.error.message, failed.tokens_in, failed.tokens_out], ['failed', 'agent_error', 'The deck is missing.', 7, 3]);
  const ended = await waitForRun(t, second.id);
  assert.equal(ended.status, 'failed', 'the waiting worker did not overwrite the outcome');
  await assertSettledOnce(t, second.id, 'released', before);
});

test('who may report: the run’s own agent; another agent 403; another org 404; runs:write steps in; bad input 400', async () => {
  const t = await funded('Owner');
  const b = await funded('Other');
  const mine = await httpAgent(t, 'mine', { lease_sec: 60 });
  const theirs = await ok(await api(t, 'POST', '/agents', { name: 'theirs' }));
  const foreign = await ok(await api(b, 'POST', '/agents', { name: 'foreign' }));
  const got: Delivery[] = [];
  agentServer.onRun = (d) => {
    got.push(d);
  };
  const queued = await startRun(t, await taskFor(t, 'mine', 'Guarded run'));
  const d = await until('the run delivered', () => got.find((x) => x.body.run.id === queued.id));
  await until('it to be running', async () => (await api(t, 'GET', `/runs/${queued.id}`)).body.status === 'running');
  const db = app.app.services.database.db;
  const mk = app.app.services.masterKey;
  const otherAgent = (await agentCredential(db, mk, theirs.id)) ?? '';
  const foreignAgent = (await agentCredential(db, mk, foreign.id)) ?? '';
  const weak = await ok(await api(t, 'POST', '/keys', { name: 'reader', scopes: ['runs:read'] }));
  const { report, complete, fail } = d.body.api;

  for (const [url, body] of [
    [report, { events: [{ type: 'log', data: { message: 'x' } }] }],
    [complete, { result: 'stolen' }],
    [fail, { error: 'sabotage' }],
  ] as const) {
    assertEnvelope(await callBack(url, b.key, body), 404, 'not_found', `${url} by another org's key`);
    assertEnvelope(await callBack(url, foreignAgent, body), 404, 'not_found', `${url} by another org's agent`);
    const other = await callBack(url, otherAgent, body);
    assertEnvelope(other, 403, 'forbidden', `${url} by another agent of the org`);
    assert.match(other.body.message, /another agent/);
    assertEnvelope(await callBack(url, weak.secret, body), 403, 'forbidden', `${url} by a key with runs:read only`);
  }
  // Bad input: 400 envelopes naming the field.
  const bad = await callBack(report, d.body.api.token, { events: [{ type: 'status', data: {} }] });
  assertEnvelope(bad, 400, 'invalid_request');
  assert.ok(JSON.stringify(bad.body.details).includes('events'), JSON.stringify(bad.body));
  assertEnvelope(await callBack(complete, d.body.api.token, {}), 400, 'invalid_request', 'no result');
  assertEnvelope(await callBack(complete, d.body.api.token, { result: 'x', usage: { input_tokens: -1, output_tokens: 0 } }), 400, 'invalid_request');
  assertEnvelope(await callBack(fail, d.body.api.token, { error: '' }), 400, 'invalid_request');
  assertEnvelope(await api(t, 'POST', '/runs/run_nope/report', {}), 404, 'not_found');
  // Nothing above touched the run; its own agent still reports on it.
  assert.equal((await api(t, 'GET', `/runs/${queued.id}`)).body.status, 'running');
  assert.equal((await ok(await callBack(report, d.body.api.token, {}), 200)).status, 'running');
  const acted = await sql(app, `select count(*)::int as n from run_events where run_id = $1 and data->>'message' in ('x', 'stolen', 'sabotage')`, [queued.id]);
  assert.equal(acted[0].n, 0);
  // The org's own key (runs:write) may step in for a stuck agent.
  const done = await ok(await api(t, 'POST', `/runs/${queued.id}/complete`, { result: 'Finished by hand.' }), 200);
  assert.deepEqual([done.status, done.result], ['succeeded', 'Finished by hand.']);
  assert.equal(done.agent_id, mine.id);
});

// ── process ───────────────────────────────────────────────────────────────────────────────────────────────────

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const readStdin = `let input = ''; for await (const c of process.stdin) input += c; const run = JSON.parse(input);`;

async function processAgent(t: Tenant, name: string, file: string, extra: Record<string, unknown> = {}) {
  return ok(await api(t, 'POST', '/agents', { name, runtime: 'process', runtime_config: { command: process.execPath, args: [file], ...extra } }));
}


test('process: task JSON on stdin, token and API URL in its env (no server secrets), stdout lines as events, exit 0 → result', async () => {
  const t = await funded('Proc');
  const file = script(
    'ok.mjs',
    `${readStdin}
const say = (o) => console.log(JSON.stringify(o));
say({ type: 'log', data: { message: 'working on ' + run.task.title } });
console.log('plain progress line');
console.error('a warning on stderr');
say({ type: 'usage', data: { input_tokens: 40, output_tokens: 8 } });
say({ type: 'usage', data: { input_tokens: 60, output_tokens: 12 } });
const res = await fetch(process.env.APP_URL + '/api/v1/runs/' + run.run.id + '/report', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + process.env.OPSBASE_RUN_TOKEN, 'content-type': 'application/json' },
  body: JSON.stringify({ events: [{ type: 'log', data: { message: 'via the API' } }] }),
});
say({ type: 'log', data: { env: {
  run_id: process.env.OPSBASE_RUN_ID === run.run.id, token: process.env.OPSBASE_RUN_TOKEN === run.api.token && process.env.OPSBASE_API_KEY === run.api.token,
  api_url: process.env.OPSBASE_API_URL === run.api.url, custom: process.env.CUSTOM,
  leaked: ['DATABASE_URL', 'OPSBASE_MASTER_KEY', 'OPSBASE_TEST_ADMIN_URL'].filter((k) => process.env[k] !== undefined),
  report: res.status } } });
say({ type: 'result', data: { result: 'Done: ' + run.task.title } });
`,
  );
  await processAgent(t, 'local', file, { env: { CUSTOM: 'yes', APP_URL: app.url }, on_success: 'done' });
  const task = await taskFor(t, 'local', 'Tidy the changelog');
  const before = await available(t);
  const run = await runAndWait(t, task);
  assert.equal(run.status, 'succeeded', JSON.stringify(run));
  assert.deepEqual([run.result, run.tokens_in, run.tokens_out, run.credits_spent], ['Done: Tidy the changelog', 100, 20, 1]);
  const evs = await events(t, run.id);
  const logs = evs.filter((e) => e.type === 'log').map((e) => e.data);
  assert.ok(logs.some((l) => l.message === 'working on Tidy the changelog'));
  assert.ok(logs.some((l) => l.stream === 'stdout' && l.message === 'plain progress line'));
  assert.ok(logs.some((l) => l.stream === 'stderr' && l.message === 'a warning on stderr'));
  assert.ok(logs.some((l) => l.message === 'via the API'), 'the run token works against the API');
  const env = logs.find((l) => l.env)?.env;
  assert.deepEqual(env, { run_id: true, token: true, api_url: true, custom: 'yes', leaked: [], report: 200 });
  assert.equal(evs.filter((e) => e.type === 'usage').length, 2);
  assert.equal((await ok(await api(t, 'GET', `/tasks/${task.number}`), 200)).status, 'done');
  const [row] = await sql(app, 'select process from runs where id = $1', [run.id]);
  assert.equal(row.process, null, 'the process record is cleared once it was reaped');
  await assertSettledOnce(t, run.id, 'committed', before);

  // With no result event, the stdout tail is the result.
  await processAgent(t, 'tail', script('tail.mjs', `console.log('first'); console.log('the last words');`));
  const tail = await runAndWait(t, await taskFor(t, 'tail', 'Say something'));
  assert.equal(tail.status, 'succeeded');
  assert.equal(tail.result, 'first\nthe last words');
});

test('process: exit 1 → failed with its stderr, refunded; a hang past the timeout → its whole group killed, timed_out', async () => {
  const t = await funded('ProcFail');
  await processAgent(t, 'crash', script('crash.mjs', `console.log('trying'); console.error('boom: no disk'); process.exit(1);`));
  const before = await available(t);
  const failed = await runAndWait(t, await taskFor(t, 'crash', 'Crash'));
  assert.deepEqual([failed.status, failed.reason], ['failed', 'exit_code']);
  assert.match(failed.error.message, /exited with code 1.*boom: no disk/s);
  await assertSettledOnce(t, failed.id, 'released', before);

  // It ignores SIGTERM and has a child in its group: both are gone after the timeout (SIGKILL to the group).
  const hang = script(
    'hang.mjs',
    `import { spawn } from 'node:child_process';
process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
const kid = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log(JSON.stringify({ type: 'log', data: { pid: process.pid, kid: kid.pid } }));
setInterval(() => {}, 1000);`,
  );
  await processAgent(t, 'stuck', hang);
  const task = await taskFor(t, 'stuck', 'Hang forever', { max_duration_seconds: 2 });
  const before2 = await available(t);
  const queued = await startRun(t, task);
  const pids = await until('the command to report its pids', async () => (await events(t, queued.id)).find((e) => e.data.kid)?.data);
  assert.ok(processAlive(pids.pid) && processAlive(pids.kid), 'running while the run goes on');
  const [rec] = await sql(app, 'select process from runs where id = $1', [queued.id]);
  assert.equal(rec.process.pid, pids.pid, 'the run records its process group');
  const run = await waitForRun(t, queued.id);
  assert.deepEqual([run.status, run.reason], ['timed_out', 'timeout']);
  await until('the group to be gone', () => !processAlive(pids.pid) && !processAlive(pids.kid), 5000);
  const logs = (await events(t, run.id)).filter((e) => e.type === 'log').map((e) => e.data.message);
  assert.ok(logs.includes('ignoring SIGTERM'), 'it was asked first (SIGTERM), then killed');
  await assertSettledOnce(t, run.id, 'released', before2);
  assert.equal((await ok(await api(t, 'GET', `/tasks/${task.number}`), 200)).status, 'todo');
});

test('process agents: 422 at save where the instance forbids them; a run after the flag was turned off fails, refunded', async () => {
  const t = await funded('Forbidden');
  const file = script('never.mjs', `console.log('should not run')`);
  await processAgent(t, 'allowed', file);
  const task = await taskFor(t, 'allowed', 'Run me later');

  // A second instance and a worker of the same database, configured without OPSBASE_ALLOW_PROCESS_AGENTS.
  const config = readConfig({ ...process.env, OPSBASE_ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: 'silent', OPSBASE_ALLOW_PROCESS_AGENTS: 'false' });
  const strict = await openServices(config, createLogger('silent'), app.databaseUrl);
  const server = await startTestApp({ databaseUrl: app.databaseUrl, admin: app.admin, env: { OPSBASE_ALLOW_PROCESS_AGENTS: 'false' } });
  await worker?.stop();
  worker = null;
  let strictWorker: Worker | null = null;
  try {
    const refused = await server.request('POST', '/api/v1/agents', {
      key: t.key,
      body: { name: 'refused', runtime: 'process', runtime_config: { command: process.execPath } },
    });
    assertEnvelope(refused, 422, 'unprocessable');
    assert.match(refused.body.message, /OPSBASE_ALLOW_PROCESS_AGENTS/);

    const before = await available(t);
    strictWorker = await startWorker(strict, { pollMs: 100 });
    const run = await runAndWait(t, task);
    assert.deepEqual([run.status, run.reason], ['failed', 'configuration']);
    assert.match(run.error.message, /no longer allows process agents/);
    assert.ok(!(await events(t, run.id)).some((e) => e.data.message === 'should not run'));
    await assertSettledOnce(t, run.id, 'released', before);
  } finally {
    await strictWorker?.stop();
    await closeServices(strict);
    await server.close();
    worker = await startWorker(app.app.services, { pollMs: 100 });
  }
});
