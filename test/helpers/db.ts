// Direct database reads for what the API deliberately does not expose (stored hashes, the email outbox), and
// small account helpers shared by the identity tests. Everything else goes through the real HTTP API.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestApp } from './harness.ts';

const pools = new WeakMap<TestApp, pg.Pool>();

/** Runs SQL on the test app's own database (one small pool per app, ended by `closeDb`). */
export async function sql<T extends pg.QueryResultRow = any>(app: TestApp, text: string, params: unknown[] = []): Promise<T[]> {
  let pool = pools.get(app);
  if (!pool) {
    pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
    // An idle client whose server goes away (the app's database dropped at the end of a file) emits 'error' on the
    // pool; without a listener that is an uncaught exception in whichever test made the connection.
    pool.on('error', () => {});
    pools.set(app, pool);
  }
  const { rows } = await pool.query<T>(text, params);
  return rows;
}

export async function closeDb(app: TestApp): Promise<void> {
  const pool = pools.get(app);
  pools.delete(app);
  await pool?.end();
}

/** The newest outbox mail to `to` (case-insensitive), or undefined. */
export async function lastMailTo(app: TestApp, to: string): Promise<{ subject: string; text: string } | undefined> {
  const rows = await sql<{ subject: string; text: string }>(
    app,
    'select subject, text from email_outbox where lower("to") = lower($1) order by id desc limit 1',
    [to],
  );
  return rows[0];
}

export interface Account {
  id: string;
  email: string;
  username: string;
  password: string;
  token: string;
  refreshToken: string;
}

/** Registers a fresh user (no org) through the API. */
export async function register(app: TestApp, opts: { email?: string; password?: string } = {}): Promise<Account> {
  const tag = randomBytes(5).toString('hex');
  const email = opts.email ?? `user-${tag}@example.com`;
  const username = `user_${tag}`;
  const password = opts.password ?? `pw-${tag}-battery-staple`;
  const res = await app.request('POST', '/api/v1/auth/register', {
    body: { username, email, password, terms_accepted: true, privacy_accepted: true },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, username, password, token: res.body.token, refreshToken: res.body.refresh_token };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
