// The real process: `opsbase start` on an embedded PostgreSQL in a fresh data dir, `opsbase init` against it,
// the worker's maintenance queue, and a graceful SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { runProcess } from './helpers/run-process.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const run = (args: string[], env: Record<string, string>) => runProcess(args, env);

async function waitReady(url: string, child: ChildProcess, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`server exited early with ${child.exitCode}`);
    const ok = await fetch(`${url}/api/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready');
}

test('start on embedded PostgreSQL, init against it, SIGTERM exits 0 and stops the database', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-proc-'));
  const port = await freePort();
  // The embedded path: no DATABASE_URL, whatever the caller's environment says.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = { ...inherited, OPSBASE_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' } as Record<string, string>;
  const server = spawn(process.execPath, ['src/main.ts', 'start'], { env });
  let logs = '';
  server.stdout.on('data', (d) => (logs += d));
  server.stderr.on('data', (d) => (logs += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, server);

    const init = await run(['init', '--email', 'first@example.com', '--password', 'first-pass-123', '--org', 'Acme', '--json'], env);
    assert.equal(init.code, 0, init.stderr);
    const created = JSON.parse(init.stdout);
    assert.equal(created.user.role, 'admin');
    assert.equal(created.org.name, 'Acme');
    assert.match(created.key.secret, /^obk_live_/);

    const who = await fetch(`${url}/api/v1/whoami`, { headers: { authorization: `Bearer ${created.key.secret}` } });
    assert.equal(who.status, 200);
    assert.equal(((await who.json()) as { org: { id: string } }).org.id, created.org.id);

    const again = await run(['init', '--email', 'second@example.com', '--password', 'second-pass-123', '--org', 'Other'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already initialised/);

    // The worker registered its maintenance schedule on the job queue (same database), in a system queue.
    const pgPort = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
    const password = readFileSync(join(dataDir, 'pg-password'), 'utf8').trim();
    const client = new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/opsbase` });
    await client.connect();
    const { rows } = await client.query(`select cron from queue_schedules where org_id = 'system' and queue = 'maintenance.prune'`);
    const boss = await client.query(`select 1 from pg_namespace where nspname = 'pgboss'`);
    await client.end();
    assert.deepEqual(rows, [{ cron: '*/10 * * * *' }]);
    assert.equal(boss.rows.length, 0, 'no pgboss schema is created');

    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    assert.equal(await exited, 0, logs);
    assert.match(logs, /stopped/);
    const refused = await fetch(`${url}/api/health`).then(
      () => false,
      () => true,
    );
    assert.ok(refused, 'the port is closed after shutdown');
    const pgDown = await new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/opsbase` })
      .connect()
      .then(
        () => false,
        () => true,
      );
    assert.ok(pgDown, 'the embedded PostgreSQL was stopped');
    assert.doesNotMatch(logs, new RegExp(created.key.secret), 'the key never appears in the logs');
    assert.doesNotMatch(logs, /first-pass-123/);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a data dir that cannot be created: start exits 1 saying why and what to do', async () => {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const res = await run(['start'], { ...inherited, OPSBASE_DATA_DIR: '/dev/null/opsbase', PORT: String(await freePort()) } as Record<string, string>);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /embedded PostgreSQL .* could not start/);
  assert.match(res.stderr, /opsbase doctor/);
  assert.match(res.stderr, /DATABASE_URL/);
  assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace');
});

test('doctor: all green on a usable setup, and names the problem and the fix when the database is unreachable', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-doctor-'));
  try {
    const base = { ...process.env, OPSBASE_DATA_DIR: dataDir, PORT: String(await freePort()) } as Record<string, string>;
    delete base.DATABASE_URL;
    const good = await run(['--json', 'doctor'], base);
    assert.equal(good.code, 0, good.stdout);
    const report = JSON.parse(good.stdout);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c: { name: string }) => c.name),
      ['node', 'config', 'data dir', 'database', 'port'],
    );

    const bad = await run(['--json', 'doctor'], { ...base, DATABASE_URL: `postgres://nobody@127.0.0.1:${await freePort()}/x` });
    assert.equal(bad.code, 1);
    const database = JSON.parse(bad.stdout).checks.find((c: { name: string }) => c.name === 'database');
    assert.equal(database.ok, false);
    assert.match(database.detail, /unreachable/);
    assert.match(database.fix, /DATABASE_URL/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('start also works as a normal (non-root) user', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('the suite already runs as a normal user: the first test covered it');
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-user-'));
  // Any unprivileged account will do; `postgres` exists once the embedded cluster has run as root.
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  chownSync(dataDir, uid, gid);
  const port = await freePort();
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const server = spawn(process.execPath, ['src/main.ts', 'start'], {
    uid,
    gid,
    env: { ...inherited, HOME: dataDir, OPSBASE_DATA_DIR: join(dataDir, 'data'), PORT: String(port), LOG_LEVEL: 'warn' },
  });
  let logs = '';
  server.stderr.on('data', (d) => (logs += d));
  try {
    await waitReady(`http://127.0.0.1:${port}`, server);
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    assert.equal(health.status, 200);
    const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    assert.equal(await exited, 0, logs);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
