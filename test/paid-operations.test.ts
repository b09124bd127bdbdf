// Paid operations end to end (issue 3, scope 2 and 7; DESIGN §6): a test-only operation with `cost: 2`,
// registered through the same registry as every other, called over HTTP, the CLI and MCP. It reserves before the
// handler runs, commits with the handler's transaction, releases when the handler fails, answers 402 when the
// wallet is short, charges once per Idempotency-Key, and concurrent calls never overdraw the wallet.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connect, type Database } from '../src/db/client.ts';
import { expireHolds } from '../src/modules/billing/holds.ts';
import { consume } from '../src/modules/billing/ledger.ts';
import { operations } from '../src/operations.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { runProcess } from './helpers/run-process.ts';
import { invariantViolations, ledgerState, waitForPosting } from './helpers/ledger.ts';
import { PAID_COST, paidOp, slowGate, slowPaidOp } from './helpers/paid-op.ts';

const CLI = fileURLToPath(new URL('./helpers/cli-with-paid.ts', import.meta.url));
const PATH = '/api/v1/test/paid';

let app: TestApp;
let database: Database;
const dirs: string[] = [];

before(async () => {
  app = await startTestApp({ operations: [...operations, paidOp, slowPaidOp] });
  database = connect(app.databaseUrl, { max: 4 });
});
after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await database?.close();
  await app?.close();
});

/** A tenant whose wallet holds exactly `credits` (whatever a signup bonus gave it is spent first). */
async function tenantWith(credits: number): Promise<Tenant> {
  const t = await app.tenant('Paid');
  const { available } = (await app.request('GET', '/api/v1/wallet', { key: t.key })).body;
  if (available > 0) await database.db.transaction((tx) => consume(tx, { orgId: t.orgId, currency: 'credits', amount: available }));
  if (credits > 0) {
    const g = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, credits } });
    assert.equal(g.status, 201, JSON.stringify(g.body));
  }
  const w = await wallet(t);
  assert.deepEqual([w.balance, w.available, w.holds], [credits, credits, 0]);
  return t;
}

async function wallet(t: Tenant) {
  const res = await app.request('GET', '/api/v1/wallet', { key: t.key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { balance: number; available: number; holds: number };
}

const callPaid = (t: Tenant, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  app.request('POST', PATH, { key: t.key, body, headers });

async function rows(text: string, params: unknown[]) {
  return (await database.pool.query(text, params)).rows;
}

/** What the test operation wrote (activity rows), its holds and its ledger entries, for one org. */
async function footprint(orgId: string) {
  await waitForPosting(database.pool, orgId);
  const [activity] = await rows(`select count(*)::int as n from activity_log where org_id = $1 and action = 'test.paid'`, [orgId]);
  const holds = await rows(`select id, status, amount, operation, idempotency_key from holds where org_id = $1 order by created_at, id`, [orgId]);
  const entries = await rows(
    `select kind, amount, held_delta, hold_id from ledger_entries where org_id = $1 and currency = 'credits' and kind in ('hold', 'commit', 'release', 'expire') order by created_at, id`,
    [orgId],
  );
  return { activity: activity.n as number, holds, entries };
}

async function assertInvariant(orgId: string) {
  const s = await ledgerState(database.pool, orgId);
  assert.deepEqual(invariantViolations(s), [], JSON.stringify(s));
}

describe('paid operations over HTTP', () => {
  test('an empty wallet gets 402 out_of_credits saying how to top up, and nothing is written', async () => {
    const t = await tenantWith(0);
    const res = await callPaid(t, { note: 'broke' });
    assert.equal(res.status, 402, JSON.stringify(res.body));
    assert.equal(res.body.error, 'out_of_credits');
    assert.match(res.body.message, /needs 2, 0 available/);
    assert.match(res.body.message, /top up|billing checkout|billing grant/i);
    assert.deepEqual(await footprint(t.orgId), { activity: 0, holds: [], entries: [] });
    const w = await wallet(t);
    assert.deepEqual([w.balance, w.available, w.holds], [0, 0, 0]);
  });

  test('success commits the cost with the handler’s write; failure releases it and writes nothing', async () => {
    const t = await tenantWith(10);
    const res = await callPaid(t, { note: 'paid' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.ok, true);
    const w = await wallet(t);
    assert.deepEqual([w.balance, w.available, w.holds], [8, 8, 0]);
    let fp = await footprint(t.orgId);
    assert.equal(fp.activity, 1);
    assert.equal(fp.holds.length, 1);
    const [hold] = fp.holds;
    assert.deepEqual([hold.status, hold.amount, hold.operation], ['committed', PAID_COST, 'test.paid']);
    assert.deepEqual(fp.entries, [
      { kind: 'hold', amount: 0, held_delta: 2, hold_id: hold.id },
      { kind: 'commit', amount: -2, held_delta: -2, hold_id: hold.id },
    ]);
    const [act] = await rows('select id from activity_log where id = $1 and org_id = $2', [res.body.activity_id, t.orgId]);
    assert.ok(act, 'the handler’s write was committed');

    const failed = await callPaid(t, { fail: true, note: 'fails' });
    assert.equal(failed.status, 422, JSON.stringify(failed.body));
    assert.equal(failed.body.error, 'unprocessable');
    const w2 = await wallet(t);
    assert.deepEqual([w2.balance, w2.available, w2.holds], [8, 8, 0], 'a failed paid call costs nothing');
    fp = await footprint(t.orgId);
    assert.equal(fp.activity, 1, 'the failed handler’s write was rolled back');
    assert.equal(fp.holds.length, 2);
    assert.equal(fp.holds[1].status, 'released');
    assert.deepEqual(
      fp.entries.filter((e) => e.hold_id === fp.holds[1].id),
      [
        { kind: 'hold', amount: 0, held_delta: 2, hold_id: fp.holds[1].id },
        { kind: 'release', amount: 0, held_delta: -2, hold_id: fp.holds[1].id },
      ],
    );
    await assertInvariant(t.orgId);
  });

  test('a key without the operation’s scope gets 403 and no hold is taken', async () => {
    const t = await tenantWith(10);
    const k = await app.request('POST', '/api/v1/keys', {
      key: t.sessionToken,
      headers: { 'x-org-id': t.orgId },
      body: { name: 'ro', scopes: ['billing:read'] },
    });
    assert.equal(k.status, 201, JSON.stringify(k.body));
    const res = await app.request('POST', PATH, { key: k.body.secret, body: {} });
    assert.equal(res.status, 403);
    assert.deepEqual(await footprint(t.orgId), { activity: 0, holds: [], entries: [] });
  });

  test('the same Idempotency-Key twice is charged once; the second response is a replay', async () => {
    const t = await tenantWith(10);
    const headers = { 'idempotency-key': 'paid-once-1' };
    const first = await callPaid(t, { note: 'once' }, headers);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const second = await callPaid(t, { note: 'once' }, headers);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.body, first.body);
    const w = await wallet(t);
    assert.deepEqual([w.balance, w.holds], [8, 0]);
    const fp = await footprint(t.orgId);
    assert.equal(fp.activity, 1);
    assert.equal(fp.holds.length, 1);
    assert.match(fp.holds[0].idempotency_key, /paid-once-1$/);
    // Sent at the same time: one runs, the other is told it is in progress or gets the replay; one charge.
    const h2 = { 'idempotency-key': 'paid-once-2' };
    const [a, b] = await Promise.all([callPaid(t, {}, h2), callPaid(t, {}, h2)]);
    const statuses = [a.status, b.status].sort();
    assert.ok(statuses[0] === 201 && (statuses[1] === 201 || statuses[1] === 409), `statuses ${statuses}`);
    assert.equal((await wallet(t)).balance, 6);
    assert.equal((await footprint(t.orgId)).holds.length, 2);
    await assertInvariant(t.orgId);
  });

  test('a failed paid request retried with the same Idempotency-Key runs again', async () => {
    const t = await tenantWith(10);
    const headers = { 'idempotency-key': 'retry-after-failure' };
    const failed = await callPaid(t, { fail: true }, headers);
    assert.equal(failed.status, 422);
    // Nothing was committed, so the key was freed (DESIGN §4): the same request may be retried, and this time
    // it is a new attempt — exactly what a client does after a transient failure.
    const retried = await callPaid(t, { fail: true }, headers);
    assert.equal(retried.status, 422, `the retry runs the operation again: ${retried.status} ${JSON.stringify(retried.body)}`);
  });

  test('retries of a failed paid request with one Idempotency-Key take one hold each, never a growing chain', async () => {
    const t = await tenantWith(10);
    const headers = { 'idempotency-key': 'retried-five-times' };
    for (let i = 0; i < 5; i++) assert.equal((await callPaid(t, { fail: true }, headers)).status, 422, `attempt ${i + 1}`);
    const ok = await callPaid(t, {}, headers);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const { holds } = await footprint(t.orgId);
    assert.equal(holds.length, 6, 'one hold per attempt');
    const base = holds.find((h: { status: string }) => h.status === 'committed')!.idempotency_key as string;
    assert.match(base, /retried-five-times$/, 'the successful attempt holds the key itself');
    for (const h of holds.filter((x: { status: string }) => x.status !== 'committed')) {
      assert.equal(h.idempotency_key, `${base}#retired:${h.id}`, 'a failed attempt retired its own key, once');
    }
    assert.equal((await wallet(t)).balance, 10 - PAID_COST, 'charged once');
    await assertInvariant(t.orgId);
  });

  test('a 402 with an Idempotency-Key leaves the key free: after a top-up the same request goes through', async () => {
    const t = await tenantWith(0);
    const headers = { 'idempotency-key': 'after-top-up' };
    const short = await callPaid(t, { note: 'later' }, headers);
    assert.equal(short.status, 402);
    const g = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: t.orgId, credits: 3 } });
    assert.equal(g.status, 201);
    const paid = await callPaid(t, { note: 'later' }, headers);
    assert.equal(paid.status, 201, JSON.stringify(paid.body));
    assert.equal(paid.headers.get('idempotent-replayed'), null);
    assert.equal((await wallet(t)).balance, 1);
  });

  test('two paid requests that happen to carry the same X-Request-Id are two requests', async () => {
    const t = await tenantWith(10);
    const headers = { 'x-request-id': 'trace-abc-123' };
    const a = await callPaid(t, { note: 'a' }, headers);
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const b = await callPaid(t, { note: 'b' }, headers);
    assert.equal(b.status, 201, `the second request runs: ${b.status} ${JSON.stringify(b.body)}`);
    assert.equal((await wallet(t)).balance, 6);
  });

  test('an action still running when its hold expires is not done for free', async () => {
    const t = await tenantWith(10);
    const pending = app.request('POST', '/api/v1/test/slow', { key: t.key, body: {} });
    // Wait until the hold exists and its 1 s TTL has passed, then run the sweeper (the worker's job) mid-action.
    try {
      for (const deadline = Date.now() + 15_000; ; ) {
        const [h] = await rows(`select expires_at < now() as due from holds where org_id = $1`, [t.orgId]);
        if (h?.due) break;
        assert.ok(Date.now() < deadline, 'the hold of test.slow never came due');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok((await expireHolds(database.db)) >= 1);
    } finally {
      slowGate.release();
    }
    const res = await pending;
    const w = await wallet(t);
    const fp = await footprint(t.orgId);
    // Either the action is refused (nothing written, nothing spent) or it is charged: never written and free.
    if (res.status === 201)
      assert.equal(w.balance, 8, `the action was done (activity rows: ${fp.activity}) but ${10 - w.balance} credits were spent`);
    else assert.equal(fp.activity, 0, `refused with ${res.status}, yet the action's write was committed`);
    await assertInvariant(t.orgId);
  });

  test('concurrent paid requests never drive the available balance below zero', async () => {
    const t = await tenantWith(9);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => callPaid(t, { note: `rush ${i}` })));
    const by = (s: number) => results.filter((r) => r.status === s).length;
    assert.equal(by(201), 4, JSON.stringify(results.map((r) => r.status)));
    assert.equal(by(402), 16);
    for (const r of results.filter((x) => x.status === 402)) assert.equal(r.body.error, 'out_of_credits');
    const w = await wallet(t);
    assert.deepEqual([w.balance, w.available, w.holds], [1, 1, 0]);
    const fp = await footprint(t.orgId);
    assert.equal(fp.activity, 4);
    assert.equal(fp.holds.filter((h) => h.status === 'committed').length, 4);
    assert.equal(fp.holds.length, 4, 'refused requests took no hold');
    await assertInvariant(t.orgId);
  });
});

describe('paid operations from the CLI and MCP', () => {
  function cli(t: Tenant, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = mkdtempSync(join(tmpdir(), 'opsbase-paid-cli-'));
    dirs.push(home);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: home };
    delete env.FORCE_COLOR;
    // stdin is a pipe, not a TTY: no interactive confirmation is possible, so only --yes can confirm.
    return runProcess(args, env, CLI);
  }

  test('the CLI refuses a paid command without --yes, saying what it costs', async () => {
    const t = await tenantWith(10);
    const refused = await cli(t, ['test', 'paid']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /costs 2 credits/);
    assert.match(refused.stderr, /--yes/);
    assert.equal((await wallet(t)).balance, 10);
    assert.deepEqual(await footprint(t.orgId), { activity: 0, holds: [], entries: [] });

    const help = await cli(t, ['test', 'paid', '--help']);
    assert.match(help.stdout, /--yes\s+spend 2 credits/);

    const done = await cli(t, ['--json', 'test', 'paid', '--yes', '--note', 'from the cli']);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(JSON.parse(done.stdout).ok, true);
    assert.deepEqual(await wallet(t).then((w) => [w.balance, w.holds]), [8, 0]);
    assert.equal((await footprint(t.orgId)).activity, 1);
  });

  test('MCP: the paid tool requires confirm: true and charges only when confirmed', async () => {
    const t = await tenantWith(10);
    const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${app.url}/mcp?toolsets=test`), { requestInit: { headers: { Authorization: `Bearer ${t.key}` } } }),
    );
    try {
      const tool = (await client.listTools()).tools.find((x) => x.name === 'test_paid');
      assert.ok(tool, 'the paid operation is a tool');
      assert.ok(tool.inputSchema.required?.includes('confirm'));
      assert.match(tool.description ?? '', /Costs 2 credits/);

      for (const args of [{}, { confirm: false }, { confirm: 'yes' }]) {
        const refused = (await client.callTool({ name: 'test_paid', arguments: args })) as CallToolResult;
        assert.equal(refused.isError, true, JSON.stringify(args));
        assert.match(JSON.parse((refused.content[0] as { text: string }).text).message, /costs 2 credits.*confirm: true/);
      }
      assert.equal((await wallet(t)).balance, 10);
      assert.deepEqual(await footprint(t.orgId), { activity: 0, holds: [], entries: [] });

      const ok = (await client.callTool({ name: 'test_paid', arguments: { confirm: true, note: 'mcp' } })) as CallToolResult;
      assert.notEqual(ok.isError, true, JSON.stringify(ok));
      assert.equal((ok.structuredContent as { ok: boolean }).ok, true);
      assert.deepEqual(await wallet(t).then((w) => [w.balance, w.holds]), [8, 0]);

      // Confirmed but short of credits: the API's 402 comes back as the tool's error.
      const poor = await tenantWith(0);
      const poorClient = new Client({ name: 'opsbase-test', version: '1.0.0' });
      await poorClient.connect(
        new StreamableHTTPClientTransport(new URL(`${app.url}/mcp?toolsets=test`), { requestInit: { headers: { Authorization: `Bearer ${poor.key}` } } }),
      );
      try {
        const short = (await poorClient.callTool({ name: 'test_paid', arguments: { confirm: true } })) as CallToolResult;
        assert.equal(short.isError, true);
        assert.equal(JSON.parse((short.content[0] as { text: string }).text).error, 'out_of_credits');
      } finally {
        await poorClient.close();
      }
    } finally {
      await client.close();
    }
  });
});
