// The test harness: a real Opsbase server on a fresh database (cloned from the migrated template), and a fresh
// org + owner + API key per test, made through the real API.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import { createApp, type App } from '../../src/app.ts';
import { readConfig } from '../../src/config.ts';
import type { Operation } from '../../src/core/operation.ts';
import { createLogger } from '../../src/http/logger.ts';

export interface Tenant {
  orgId: string;
  userId: string;
  email: string;
  username: string;
  password: string;
  /** An API key of the org with scope `*`. */
  key: string;
  keyId: string;
  /** A session token of the owner. */
  sessionToken: string;
  refreshToken: string;
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send this exact text as the body (malformed JSON tests). */
  raw?: string;
}

export interface TestApp {
  url: string;
  app: App;
  /** Connection string of this test's own database. */
  databaseUrl: string;
  /** The instance admin (the first user of this database) with an org of their own. */
  admin: Tenant;
  tenant: (name?: string) => Promise<Tenant>;
  request: <T = any>(method: string, path: string, opts?: RequestOptions) => Promise<Response<T>>;
  /** Starts another server instance on the same database (multi-instance tests). */
  second: () => Promise<TestApp>;
  close: () => Promise<void>;
}

function adminUrl(): string {
  const url = process.env.OPSBASE_TEST_ADMIN_URL;
  if (!url) throw new Error('Run tests through `npm test` (test/run.ts), which starts PostgreSQL and sets OPSBASE_TEST_ADMIN_URL.');
  return url;
}

export function databaseUrlFor(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated, empty database cloned from the template. */
export async function freshDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  // CREATE DATABASE … TEMPLATE needs the template to have no other sessions; retry briefly if one is cloning.
  for (let i = 0; ; i++) {
    try {
      await client.query(`create database ${name} template ${process.env.OPSBASE_TEST_TEMPLATE}`);
      break;
    } catch (err) {
      if (i > 50 || !String((err as Error).message).includes('being accessed by other users')) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await client.end();
  return {
    name,
    url: databaseUrlFor(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await c.end();
    },
  };
}

export interface StartOptions {
  operations?: Operation[];
  env?: Record<string, string>;
  databaseUrl?: string;
  /** Where the app's pino logs go (log-content tests); stdout by default. */
  logStream?: DestinationStream;
  /** Internal: a second instance shares the first one's admin. */
  admin?: Tenant;
}

export async function startTestApp(opts: StartOptions = {}): Promise<TestApp> {
  const db = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => {} } : await freshDatabase();
  // Tests stand behind a "proxy": X-Forwarded-For gives throttle tests a client address of their own.
  const config = readConfig({
    ...process.env,
    OPSBASE_ALLOW_PRIVATE_NETWORK: 'true',
    OPSBASE_TRUST_PROXY: 'true',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const app = await createApp({ config, databaseUrl: db.url, operations: opts.operations, log: createLogger(config.LOG_LEVEL, opts.logStream) });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;

  const request = async <T = any>(method: string, path: string, o: RequestOptions = {}): Promise<Response<T>> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON (docs page) */
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  };

  const expectOk = <T>(res: Response<T>, what: string): T => {
    if (res.status >= 300) throw new Error(`${what} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  const tenant = async (name = 'Acme'): Promise<Tenant> => {
    const tag = randomBytes(5).toString('hex');
    const email = `owner-${tag}@example.com`;
    const username = `owner_${tag}`;
    const password = `pw-${tag}-correct-horse`;
    const reg = expectOk(
      await request('POST', '/api/v1/auth/register', {
        body: { username, email, password, terms_accepted: true, privacy_accepted: true },
      }),
      'register',
    );
    const org = expectOk(await request('POST', '/api/v1/orgs', { key: reg.token, body: { name: `${name} ${tag}` } }), 'orgs.create');
    const key = expectOk(
      await request('POST', '/api/v1/keys', { key: reg.token, headers: { 'x-org-id': org.id }, body: { name: 'test', scopes: ['*'] } }),
      'keys.create',
    );
    return {
      orgId: org.id,
      userId: reg.user.id,
      email,
      username,
      password,
      key: key.secret,
      keyId: key.id,
      sessionToken: reg.token,
      refreshToken: reg.refresh_token,
    };
  };

  const admin = opts.admin ?? (await tenant('Admin'));
  let closed = false;
  const testApp: TestApp = {
    url,
    app,
    databaseUrl: db.url,
    admin,
    tenant,
    request,
    second: () => startTestApp({ ...opts, databaseUrl: db.url, admin }),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      await db.drop();
    },
  };
  return testApp;
}
