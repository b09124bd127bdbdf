// The connection pool: DATABASE_URL when set, otherwise the embedded cluster in the data dir.
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbedded } from './embedded.ts';
import * as schema from './schema/index.ts';

export type Db = NodePgDatabase<typeof schema>;
/** A transaction handle; services take `Db | Tx` so the caller owns the transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  url: string;
  pool: pg.Pool;
  db: Db;
  close: () => Promise<void>;
}

// bigint (int8) columns, e.g. count(*), come back as JS numbers: every count here fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function connect(url: string, opts: { max?: number; connectionTimeoutMillis?: number; onStop?: () => Promise<void> } = {}): Database {
  // Waiting longer than 5 s for a connection means the server is saturated: fail fast (503) rather than pile up.
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 20, connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5000 });
  // An idle client that loses its server emits 'error' on the pool; without a listener that crashes the process.
  pool.on('error', () => {});
  const db = drizzle(pool, { schema });
  return {
    url,
    pool,
    db,
    close: async () => {
      await pool.end();
      await opts.onStop?.();
    },
  };
}

/** Opens the configured database, starting the embedded cluster when DATABASE_URL is unset. */
export async function openDatabase(cfg: { DATABASE_URL?: string; dataDir: string }, log: Logger): Promise<Database> {
  if (cfg.DATABASE_URL) return connect(cfg.DATABASE_URL);
  const embedded = await startEmbedded({ dataDir: cfg.dataDir, log });
  const database = connect(embedded.url, { onStop: embedded.stop });
  await ensureDatabase(database, 'opsbase');
  await database.pool.end();
  const url = embedded.url.replace(/\/postgres$/, '/opsbase');
  return connect(url, { onStop: embedded.stop });
}

async function ensureDatabase(database: Database, name: string) {
  const { rows } = await database.pool.query('select 1 from pg_database where datname = $1', [name]);
  if (rows.length === 0) await database.pool.query(`create database ${name}`);
}

/**
 * Independent reads at once. On the pool each takes its own connection; in a transaction — one connection, where
 * node-postgres refuses a query while another runs (deprecated in pg 8, an error in pg 9) — one after another.
 */
export async function together<T extends readonly unknown[]>(db: DbOrTx, ...reads: { [K in keyof T]: () => PromiseLike<T[K]> }): Promise<T> {
  if (!(db instanceof PgTransaction)) return (await Promise.all(reads.map((read) => read()))) as unknown as T;
  const out: unknown[] = [];
  for (const read of reads) out.push(await read());
  return out as unknown as T;
}
