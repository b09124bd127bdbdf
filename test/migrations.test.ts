// Migrations (issue 2, scope 2): two instances starting at once on one empty database both come up (the
// advisory lock serialises them), and the schema works on PostgreSQL 15 when one is available.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import pg from 'pg';
import { type App, createApp } from '../src/app.ts';
import { readConfig } from '../src/config.ts';
import { migrationsFolder } from '../src/db/migrate.ts';
import { reserve, settle } from '../src/modules/billing/holds.ts';
import { balanceOf, credit } from '../src/modules/billing/ledger.ts';
import { invariantViolations, ledgerState } from './helpers/ledger.ts';

const config = () => readConfig({ ...process.env, LOG_LEVEL: 'silent', OPSBASE_ALLOW_PRIVATE_NETWORK: 'true' });
const journal = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string }[] };
/** Tables the first migration creates (the schema as a whole is checked through drizzle's own record). */
const CORE_TABLES = [
  'activity_log',
  'api_key_secrets',
  'api_keys',
  'api_requests',
  'email_outbox',
  'org_invites',
  'org_members',
  'orgs',
  'sessions',
  'users',
];

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function urlFor(serverUrl: string, db: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Creates an empty database (no template: not even the migrations' schema) on `serverUrl`. */
async function emptyDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mig_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`create database ${name} template template0`);
  } finally {
    await c.end();
  }
  return {
    url: urlFor(serverUrl, name),
    drop: async () => {
      const d = new pg.Client({ connectionString: serverUrl });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await d.end();
    },
  };
}

async function inspect(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ table_name: string; n: number }>(
      `select table_name, count(*)::int as n from information_schema.tables where table_schema = 'public' group by table_name`,
    );
    const applied = await c.query<{ hash: string }>('select hash from drizzle.__drizzle_migrations');
    return { tables: Object.fromEntries(tables.rows.map((r) => [r.table_name, r.n])), applied: applied.rows.length };
  } finally {
    await c.end();
  }
}

test('two instances started at once on one empty database both come up and migrate it once', async () => {
  const adminUrl = process.env.OPSBASE_TEST_ADMIN_URL;
  assert.ok(adminUrl, 'run through test/run.ts');
  const db = await emptyDatabase(adminUrl);
  cleanups.push(db.drop);
  assert.deepEqual((await inspect(db.url).catch(() => null))?.tables ?? {}, {}, 'the database starts empty');

  const apps: App[] = [];
  const started = await Promise.allSettled([
    createApp({ config: config(), databaseUrl: db.url }),
    createApp({ config: config(), databaseUrl: db.url }),
  ]);
  for (const s of started) if (s.status === 'fulfilled') apps.push(s.value);
  cleanups.push(async () => {
    for (const a of apps) await a.close();
  });
  assert.deepEqual(
    started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok')),
    ['ok', 'ok'],
  );

  const { tables, applied } = await inspect(db.url);
  for (const t of CORE_TABLES) assert.equal(tables[t], 1, `table ${t} exists once`);
  assert.equal(applied, journal.entries.length, 'each migration is recorded exactly once');

  // Both instances serve the same database.
  for (const a of apps) {
    const res = await a.server.inject({ method: 'GET', url: '/api/ready' });
    assert.equal(res.statusCode, 200);
  }
  for (const a of apps) await a.close();
  apps.length = 0;
});

test('the schema and an auth round trip work on PostgreSQL 15', async (t) => {
  const serverUrl = process.env.OPSBASE_TEST_PG15_URL;
  if (!serverUrl) {
    t.skip('OPSBASE_TEST_PG15_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
    return;
  }
  const probe = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  let version: number;
  try {
    await probe.connect();
    version = Number((await probe.query('show server_version_num')).rows[0].server_version_num);
  } catch (err) {
    t.skip(`PostgreSQL at OPSBASE_TEST_PG15_URL is unreachable: ${(err as Error).message}`);
    return;
  } finally {
    await probe.end().catch(() => {});
  }
  assert.ok(version >= 150000 && version < 160000, `expected PostgreSQL 15, got ${version}`);

  const db = await emptyDatabase(serverUrl);
  cleanups.push(db.drop);
  const app = await createApp({ config: config(), databaseUrl: db.url });
  cleanups.push(() => app.close());
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.server.address() as { port: number };
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  assert.equal((await inspect(db.url)).applied, journal.entries.length);
  const health = await call('GET', '/api/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.db, 'up');

  const email = 'pg15@example.com';
  const password = 'fifteen-is-fine';
  const reg = await call('POST', '/api/v1/auth/register', { username: 'pg15', email, password, terms_accepted: true, privacy_accepted: true });
  assert.equal(reg.status, 201);
  assert.equal(reg.body.user.role, 'admin');
  const login = await call('POST', '/api/v1/auth/login', { email, password });
  assert.equal(login.status, 200);
  const org = await call('POST', '/api/v1/orgs', { name: 'Fifteen' }, login.body.token);
  assert.equal(org.status, 201);
  const key = await call('POST', '/api/v1/keys', { name: 'pg15', scopes: ['*'] }, login.body.token);
  assert.equal(key.status, 201);
  const who = await call('GET', '/api/v1/whoami', undefined, key.body.secret);
  assert.equal(who.status, 200);
  assert.equal(who.body.org.id, org.body.id);
  assert.equal(who.body.key.name, 'pg15');
  const act = await call('GET', '/api/v1/activity-log?action=org.created', undefined, key.body.secret);
  assert.equal(act.body.data.length, 1);
  // Revocation goes through LISTEN/NOTIFY on this server too.
  assert.equal((await call('POST', `/api/v1/keys/${key.body.id}/revoke`, {}, login.body.token)).status, 200);
  assert.equal((await call('GET', '/api/v1/whoami', undefined, key.body.secret)).status, 401);

  // The ledger's SQL functions (reserve batches, posting) on this server: a batch of reservations, one committed
  // and one released, then the wallet and the ledger agree.
  const { db: money, pool } = app.services.database;
  const orgId = org.body.id as string;
  await money.transaction((tx) => credit(tx, { orgId, currency: 'credits', amount: 10, kind: 'grant' }));
  const taken = await Promise.all(
    [4, 4, 4].map((amount, i) =>
      reserve(money, { orgId, amount, operation: 'test.pg15', idempotencyKey: `pg15-${i}`, ttlSeconds: 60 }).catch((e) => e),
    ),
  );
  const holds = taken.filter((r) => r.hold).map((r) => r.hold);
  assert.equal(holds.length, 2, 'two of three holds of 4 fit in 10 credits');
  assert.equal(taken.find((r) => !r.hold)?.code, 'out_of_credits');
  await settle(money, holds[0].id, 'commit');
  await settle(money, holds[1].id, 'release');
  assert.deepEqual(await balanceOf(money, orgId, 'credits'), { balance: 6, held: 0, available: 6 });
  assert.deepEqual(invariantViolations(await ledgerState(pool, orgId)), []);
});
