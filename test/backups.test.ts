// Backups (issue 12, item 8): a backup taken by the job engine while the instance serves, downloaded byte for byte,
// copied offsite (a local fake S3), restored by `opsbase restore` into an empty database that a fresh server then runs
// with the same org and a working API key; a non-empty database refused; org export → import into a second instance
// with the same objects; retention; instance-admin only.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { readConfig } from '../src/config.ts';
import { migrationsFolder } from '../src/db/migrate.ts';
import { allJobs } from '../src/jobs/registry.ts';
import { registerSchedules, type Worker, startWorker } from '../src/jobs/worker.ts';
import { planOrgExport, STAY_BEHIND } from '../src/modules/backups/org-plan.ts';
import { parentsFirst } from '../src/modules/backups/org-archive.ts';
import { listForeignKeys, listTables } from '../src/modules/backups/catalog.ts';
import { type FakeS3, startFakeS3 } from './helpers/fake-s3.ts';
import { RestoreRefused, restoreArchive } from '../src/modules/backups/restore.ts';
import { inSnapshot } from '../src/modules/backups/snapshot.ts';
import { databaseUrlFor, freshDatabase, startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { MAIN, runProcess } from './helpers/run-process.ts';
import { until } from './helpers/until.ts';

const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-backups-'));
const cleanups: (() => Promise<void>)[] = [];
let app: TestApp;
let worker: Worker;
let fake: FakeS3;
let t: Tenant;
let taskId: string;

before(async () => {
  fake = await startFakeS3();
  app = await startTestApp({ env: { OPSBASE_DATA_DIR: dataDir, OPSBASE_BACKUP_CRON: 'off', OPSBASE_BACKUP_KEEP: '2', ...fake.env } });
  worker = await startWorker(app.app.services, { pollMs: 100 });
  t = await app.tenant('Backed');
  const task = await app.request('POST', '/api/v1/tasks', { key: t.key, body: { title: 'Survive a restore' } });
  assert.equal(task.status, 201);
  taskId = task.body.id;
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await worker?.stop();
  await app?.close();
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** An empty database (no schema at all) on the test server. */
async function emptyDatabase(): Promise<string> {
  const name = `restore_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: process.env.OPSBASE_TEST_ADMIN_URL });
  await c.connect();
  await c.query(`create database ${name} template template0`);
  await c.end();
  cleanups.push(async () => {
    const d = new pg.Client({ connectionString: process.env.OPSBASE_TEST_ADMIN_URL });
    await d.connect();
    await d.query(`drop database if exists ${name} with (force)`);
    await d.end();
  });
  return databaseUrlFor(name);
}

const adminSession = () => app.admin.sessionToken;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function takeBackup(): Promise<any> {
  const queued = await app.request('POST', '/api/v1/backups/trigger', { key: adminSession() });
  assert.equal(queued.status, 202, JSON.stringify(queued.body));
  assert.equal(queued.body.status, 'queued');
  return until('the backup to finish', async () => {
    const r = await app.request('GET', `/api/v1/backups/${queued.body.id}`, { key: adminSession() });
    return r.body.status === 'succeeded' || r.body.status === 'failed' ? r.body : undefined;
  });
}

async function download(id: string, key = adminSession()) {
  const res = await fetch(`${app.url}/api/v1/backups/${id}/download`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

let archive: string;

test('a triggered backup runs as a job: listed, counted, logged, downloaded byte for byte, copied offsite', async () => {
  const b = await takeBackup();
  assert.equal(b.status, 'succeeded', b.error);
  assert.equal(b.format, 'opsbase-jsonl', 'the embedded server is 18 and no matching pg_dump is on the PATH');
  assert.equal(b.schema_version, journal.entries.length);
  assert.ok(b.table_count >= 20 && b.row_count > 5, `${b.table_count} tables, ${b.row_count} rows`);

  const onDisk = readFileSync(join(dataDir, 'backups', b.file_name));
  const got = await download(b.id);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'application/gzip');
  assert.match(got.headers.get('content-disposition') ?? '', /attachment; filename="bak_/);
  assert.deepEqual(got.bytes, onDisk, 'download bytes = the file');
  assert.equal(sha256(got.bytes), b.sha256);
  assert.equal(b.size_bytes, onDisk.length);
  const header = JSON.parse(gunzipSync(got.bytes).toString('utf8').split('\n')[0]).header;
  assert.equal(header.kind, 'instance');
  assert.ok(header.server_version_num >= 150000, `server_version_num ${header.server_version_num}`);
  assert.ok(header.tables.some((x: { name: string }) => x.name === 'drizzle.__drizzle_migrations'), 'the migrations table is in the archive');
  assert.equal(header.migrations.length, journal.entries.length);
  // Bytes only: a client asking for JSON still gets the file (a backup is never built as one base64 string).
  const asJson = await fetch(`${app.url}/api/v1/backups/${b.id}/download`, { headers: { authorization: `Bearer ${adminSession()}`, accept: 'application/json' } });
  assert.equal(asJson.headers.get('content-type'), 'application/gzip');
  assert.deepEqual(Buffer.from(await asJson.arrayBuffer()), onDisk);
  archive = join(dataDir, 'downloaded.jsonl.gz');
  writeFileSync(archive, got.bytes);

  // The CLI's download face: `opsbase backups download <id> --out F` writes the same bytes.
  const viaCli = join(dataDir, 'cli-download.jsonl.gz');
  const env = { ...process.env, OPSBASE_API_URL: app.url, OPSBASE_API_KEY: adminSession(), XDG_CONFIG_HOME: dataDir };
  const dl = await runProcess(['backups', 'download', b.id, '--out', viaCli], env, MAIN);
  assert.equal(dl.code, 0, dl.stderr);
  assert.match(dl.stdout, new RegExp(`saved ${onDisk.length} bytes`));
  assert.deepEqual(readFileSync(viaCli), onDisk);

  const list = await app.request('GET', '/api/v1/backups', { key: adminSession() });
  assert.equal(list.body.data[0].id, b.id, 'newest first');
  const stats = await app.request('GET', '/api/v1/backups/stats', { key: adminSession() });
  assert.equal(stats.status, 200);
  assert.ok(stats.body.count >= 1);
  assert.ok(stats.body.total_size_bytes >= onDisk.length);
  assert.equal(stats.body.keep, 2);
  assert.equal(stats.body.schedule, null, 'OPSBASE_BACKUP_CRON=off');
  const logs = await app.request('GET', `/api/v1/backups/logs?backup=${b.id}`, { key: adminSession() });
  assert.ok(logs.body.data.some((l: { message: string }) => l.message.startsWith('succeeded')), JSON.stringify(logs.body));
  assert.ok(
    logs.body.data.some((l: { message: string }) => /^format opsbase-jsonl \((no pg_dump on the PATH|pg_dump \d+ does not match the server's major version \d+)/.test(l.message)),
    'the log says why the built-in format ran',
  );

  const status = await until('the offsite copy', async () => {
    const r = await app.request('GET', '/api/v1/backups/offsite-status', { key: adminSession() });
    return r.body.in_sync ? r.body : undefined;
  });
  assert.equal(status.configured, true);
  assert.equal(status.last_copy.backup_id, b.id);
  assert.equal(status.last_copy.ok, true);
  assert.deepEqual(fake.objects.get(`backups/${b.file_name}`)?.body, onDisk, 'the offsite copy is the same bytes');
  // Orkosi's path for the same answer.
  assert.equal((await app.request('GET', '/api/v1/backups/github-status', { key: adminSession() })).body.in_sync, true);
});

test('opsbase restore: into an empty database, a fresh server runs it with the same org and a working key', async () => {
  assert.ok(archive, 'the previous test downloaded an archive');
  const url = await emptyDatabase();
  const run = await runProcess(['restore', archive], { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, MAIN);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /restored \d+ rows/);

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const applied = await c.query('select count(*)::int as n from drizzle.__drizzle_migrations');
  assert.equal(applied.rows[0].n, journal.entries.length, 'the migrations table matches: a start applies only newer ones');
  const seq = await c.query(`select last_value::int as v from queue_jobs_seq_seq`);
  const max = await c.query(`select coalesce(max(seq), 0)::int as m from queue_jobs`);
  assert.ok(seq.rows[0].v >= max.rows[0].m, 'sequences continue after the restored rows');
  await c.end();

  const restored = await startTestApp({ databaseUrl: url, env: { OPSBASE_DATA_DIR: dataDir, OPSBASE_BACKUP_CRON: 'off' } });
  try {
    const org = await restored.request('GET', `/api/v1/orgs/${t.orgId}`, { key: t.key });
    assert.equal(org.status, 200, 'the API key made before the backup still works');
    const task = await restored.request('GET', `/api/v1/tasks/${taskId}`, { key: t.key });
    assert.equal(task.body.title, 'Survive a restore');
    const login = await restored.request('POST', '/api/v1/auth/login', { body: { email: t.email, password: t.password } });
    assert.equal(login.status, 200, JSON.stringify(login.body));

    // Now it holds rows: a second restore is refused, and changes nothing.
    const again = await runProcess(['--json', 'restore', archive], { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, MAIN);
    assert.equal(again.code, 3, again.stderr);
    const err = JSON.parse(again.stderr.trim().split('\n').pop()!);
    assert.equal(err.error, 'refused');
    assert.match(err.message, /not empty/);
  } finally {
    await restored.close();
  }
});

test('a database with the schema migrated but no rows counts as empty: the restore fills it', async () => {
  const db = await freshDatabase();
  cleanups.push(db.drop);
  const r = await restoreArchive(db.url, archive);
  assert.ok(r.rows > 5);
  assert.equal(r.schema_version, journal.entries.length);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const org = await c.query('select id from orgs where id = $1', [t.orgId]);
  await c.end();
  assert.equal(org.rows.length, 1);
  await assert.rejects(restoreArchive(db.url, archive), (e: unknown) => e instanceof RestoreRefused && /not empty/.test((e as Error).message));
});

test('opsbase backup --out writes an archive straight from the database; a cut file is refused', async () => {
  const out = join(dataDir, 'cli.jsonl.gz');
  const run = await runProcess(['--json', 'backup', '--out', out], { ...process.env, DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'warn' }, MAIN);
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.sha256, sha256(readFileSync(out)));
  assert.equal(r.schema_version, journal.entries.length);

  const cut = join(dataDir, 'cut.jsonl.gz');
  const bytes = readFileSync(out);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const url = await emptyDatabase();
  const bad = await runProcess(['restore', cut], { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, MAIN);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /damaged|incomplete|not an Opsbase archive/);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const rows = await c.query(`select to_regclass('public.orgs') is null or not exists (select 1 from orgs) as empty`);
  await c.end();
  assert.equal(rows.rows[0].empty, true, 'nothing half-restored');
});

test('retention keeps the newest OPSBASE_BACKUP_KEEP succeeded backups; delete removes row and file', async () => {
  const a = await takeBackup();
  const b = await takeBackup();
  // Retention runs in the job right after the backup is marked succeeded.
  const kept = await until('retention to prune', async () => {
    const list = await app.request('GET', '/api/v1/backups?status=succeeded', { key: adminSession() });
    return list.body.data.length === 2 ? list.body.data.map((x: { id: string }) => x.id) : undefined;
  });
  assert.deepEqual(kept, [b.id, a.id], 'keep = 2: the newest two');
  const del = await app.request('DELETE', `/api/v1/backups/${a.id}`, { key: adminSession() });
  assert.equal(del.status, 200);
  assert.equal((await app.request('GET', `/api/v1/backups/${a.id}`, { key: adminSession() })).status, 404);
  assert.equal((await download(a.id)).status, 404);
  assert.throws(() => readFileSync(join(dataDir, 'backups', a.file_name)));
});

test('the schedule comes from OPSBASE_BACKUP_CRON (off: none); when it fires, a backup is taken with trigger `schedule`', async () => {
  const services = app.app.services;
  const schedule = async () =>
    (await services.database.pool.query(`select cron from queue_schedules where org_id = 'system' and queue = 'backups.schedule'`)).rows[0]?.cron;
  assert.equal(await schedule(), undefined, 'OPSBASE_BACKUP_CRON=off registers nothing');
  await registerSchedules({ ...services, config: { ...services.config, OPSBASE_BACKUP_CRON: '15 2 * * *' } }, allJobs);
  assert.equal(await schedule(), '15 2 * * *');

  await services.database.pool.query(`update queue_schedules set next_run_at = now() - interval '1 minute' where org_id = 'system' and queue = 'backups.schedule'`);
  const scheduled = await until('the scheduled backup', async () => {
    const list = await app.request('GET', '/api/v1/backups', { key: adminSession() });
    return list.body.data.find((x: { trigger: string; status: string }) => x.trigger === 'schedule' && x.status === 'succeeded');
  });
  assert.equal(scheduled.requested_by, null);

  await registerSchedules(services, allJobs);
  assert.equal(await schedule(), undefined, 'turned off again: the schedule is removed');
});

test('a bad OPSBASE_BACKUP_CRON stops the start with a message naming it', () => {
  assert.throws(() => readConfig({ OPSBASE_BACKUP_CRON: 'every night' }), /OPSBASE_BACKUP_CRON: a cron expression/);
  assert.equal(readConfig({ OPSBASE_BACKUP_CRON: 'off' }).OPSBASE_BACKUP_CRON, 'off');
  assert.equal(readConfig({}).OPSBASE_BACKUP_KEEP, 7);
});

test('backups are for instance admins: an org owner’s session and an org key get 403', async () => {
  for (const key of [t.sessionToken, t.key]) {
    assert.equal((await app.request('POST', '/api/v1/backups/trigger', { key })).status, 403);
    assert.equal((await app.request('GET', '/api/v1/backups', { key })).status, 403);
    const list = await app.request('GET', '/api/v1/backups', { key: adminSession() });
    assert.equal((await download(list.body.data[0].id, key)).status, 403);
  }
});

test('a snapshot sees one instant: a task committed while it reads is in none of its tables', async () => {
  const pool = app.app.services.database.pool;
  const [before, after, total] = await inSnapshot(pool, async (client) => {
    const count = async () => (await client.query('select count(*)::int as n from tasks where org_id = $1', [t.orgId])).rows[0].n as number;
    const first = await count();
    const made = await app.request('POST', '/api/v1/tasks', { key: t.key, body: { title: `Made during a snapshot ${Date.now()}` } });
    assert.equal(made.status, 201);
    return [first, await count(), (await pool.query('select count(*)::int as n from tasks where org_id = $1', [t.orgId])).rows[0].n as number];
  });
  assert.equal(after, before, 'the snapshot does not see the new task');
  assert.equal(total, before + 1, 'outside it, the task exists');
});

test('rows of a table that references itself are imported parents first (folders in a tree)', () => {
  // [id, parent_id]: c → b → a, given children first; d has no parent; e points outside the archive.
  const rows = [
    ['c', 'b'],
    ['b', 'a'],
    ['d', null],
    ['a', null],
    ['e', 'zz'],
  ];
  const order = parentsFirst(rows, 0, [1]).map((r) => r[0]);
  assert.deepEqual(order.length, 5);
  for (const [child, parent] of [['c', 'b'], ['b', 'a']]) assert.ok(order.indexOf(parent) < order.indexOf(child), `${parent} before ${child}: ${order}`);
});

test('an org export lists every org table and the rows hanging off them (from the catalog)', async () => {
  const client = await app.app.services.database.pool.connect();
  try {
    const tables = await listTables(client);
    const plan = planOrgExport(tables, await listForeignKeys(client));
    const names = new Set(plan.map((p) => p.table.name));
    for (const tb of tables) {
      if (STAY_BEHIND.has(tb.name)) assert.ok(!names.has(tb.name), `${tb.name} stays behind`);
      else if (tb.columns.some((c) => c.name === 'org_id') && tb.name.startsWith('public.')) assert.ok(names.has(tb.name), `${tb.name} travels with its org`);
    }
    assert.equal(plan.find((p) => p.table.name === 'public.users')?.role, 'parent');
    assert.ok(!names.has('public.sessions'), 'sessions stay behind');
    assert.ok(!names.has('public.search_org_stats'), 'so do the instance’s search statistics');
  } finally {
    client.release();
  }
});

test('org export → import into a second instance: the same objects, keys and passwords work; twice → 409', async () => {
  const agent = await app.request('POST', '/api/v1/agents', { key: t.key, body: { name: 'exported-agent' } });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));

  const narrow = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'narrow', scopes: ['orgs:write', 'tasks:read'] } });
  const refused = await fetch(`${app.url}/api/v1/orgs/${t.orgId}/export`, { headers: { authorization: `Bearer ${narrow.body.secret}` } });
  assert.equal(refused.status, 403, 'a key without the full `*` scope cannot take every credential of the org');
  const member = await app.tenant('Member');
  const added = await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: member.userId, role: 'admin' } });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const asAdmin = await fetch(`${app.url}/api/v1/orgs/${t.orgId}/export`, { headers: { authorization: `Bearer ${member.sessionToken}` } });
  assert.equal(asAdmin.status, 403, 'an org admin is not the owner');
  const other = await app.tenant('Other');
  const notMine = await fetch(`${app.url}/api/v1/orgs/${t.orgId}/export`, { headers: { authorization: `Bearer ${other.sessionToken}` } });
  assert.equal(notMine.status, 404, 'another org is not found');
  const res = await fetch(`${app.url}/api/v1/orgs/${t.orgId}/export`, { headers: { authorization: `Bearer ${t.sessionToken}` } });
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());

  // Another instance with a master key of its own: the secrets sealed under the source's are counted, not lost silently.
  const second = await startTestApp({ env: { OPSBASE_DATA_DIR: dataDir, OPSBASE_BACKUP_CRON: 'off', OPSBASE_MASTER_KEY: randomBytes(32).toString('hex') } });
  try {
    const upload = (key: string) =>
      fetch(`${second.url}/api/v1/orgs/import`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/gzip' }, body: bytes });
    const stranger = await second.tenant('Stranger');
    assert.equal((await upload(stranger.sessionToken)).status, 403, 'instance admins only');

    const imported = await upload(second.admin.sessionToken);
    const body = (await imported.json()) as { org_id: string; rows: number; unreadable_secrets: number };
    assert.equal(imported.status, 201, JSON.stringify(body));
    assert.equal(body.org_id, t.orgId);
    assert.ok(body.rows > 5);
    assert.ok(body.unreadable_secrets >= 1, `the agent's sealed key secret is counted: ${JSON.stringify(body)}`);

    const task = await second.request('GET', `/api/v1/tasks/${taskId}`, { key: t.key });
    assert.equal(task.status, 200, 'the org key works on the new instance');
    assert.equal(task.body.title, 'Survive a restore');
    const agents = await second.request('GET', '/api/v1/agents', { key: t.key });
    assert.ok(agents.body.data.some((a: { id: string }) => a.id === agent.body.id), 'same agent, same id');
    const login = await second.request('POST', '/api/v1/auth/login', { body: { email: t.email, password: t.password } });
    assert.equal(login.status, 200, 'the owner signs in with the same password');
    const newTask = await second.request('POST', '/api/v1/tasks', { key: t.key, body: { title: 'After the move' } });
    assert.equal(newTask.status, 201);
    assert.ok(newTask.body.number > task.body.number, 'task numbers continue');

    // The CLI's upload face sends the same file: the org is there now, so 409 (exit 1).
    const exportFile = join(dataDir, 'org-export.jsonl.gz');
    writeFileSync(exportFile, bytes);
    const env = { ...process.env, OPSBASE_API_URL: second.url, OPSBASE_API_KEY: second.admin.sessionToken, XDG_CONFIG_HOME: dataDir };
    const cliImport = await runProcess(['--json', 'orgs', 'import', '--file', exportFile], env, MAIN);
    assert.equal(cliImport.code, 1, cliImport.stdout + cliImport.stderr);
    assert.match(cliImport.stdout + cliImport.stderr, /conflict/);

    const twice = await upload(second.admin.sessionToken);
    assert.equal(twice.status, 409);
    // The JSON face of the same upload (what MCP sends): the archive in base64, the same refusal.
    const asJson = await second.request('POST', '/api/v1/orgs/import', { key: second.admin.sessionToken, body: { archive_base64: bytes.toString('base64') } });
    assert.equal(asJson.status, 409, JSON.stringify(asJson.body));
    assert.equal(asJson.body.error, 'conflict');

    // The source's instance admin, exported with their own org, is no instance admin on the target.
    const adminOrg = await fetch(`${app.url}/api/v1/orgs/${app.admin.orgId}/export`, { headers: { authorization: `Bearer ${app.admin.sessionToken}` } });
    assert.equal(adminOrg.status, 200);
    const moved = await fetch(`${second.url}/api/v1/orgs/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.admin.sessionToken}`, 'content-type': 'application/gzip' },
      body: Buffer.from(await adminOrg.arrayBuffer()),
    });
    assert.equal(moved.status, 201);
    const c = new pg.Client({ connectionString: second.databaseUrl });
    await c.connect();
    const role = await c.query('select role from users where id = $1', [app.admin.userId]);
    await c.end();
    assert.equal(role.rows[0].role, 'user');
    const session = await second.request('POST', '/api/v1/auth/login', { body: { email: app.admin.email, password: app.admin.password } });
    assert.equal((await second.request('GET', '/api/v1/backups', { key: session.body.token })).status, 403);
    assert.equal(((await twice.json()) as { error: string }).error, 'conflict');

    const notAnArchive = await fetch(`${second.url}/api/v1/orgs/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.admin.sessionToken}`, 'content-type': 'application/gzip' },
      body: Buffer.from('not gzip'),
    });
    assert.equal(notAnArchive.status, 400);
  } finally {
    await second.close();
  }
});
