// A consistent snapshot of every table: one REPEATABLE READ, READ ONLY transaction sees the whole database as of
// one instant while the instance keeps serving; each table is read through a cursor, a batch at a time, each value
// cast to text (PostgreSQL's own text form, which its input functions read back exactly).
import type pg from 'pg';
import { type ArchiveHeader, ArchiveWriter, archiveHeaderBase } from './archive.ts';
import { appliedMigrations, listTables, quoteIdent, sequenceStates, type Table } from './catalog.ts';

const BATCH = 1000;

/** The columns an archive carries: generated ones are computed again on the way in. */
export const storedColumns = (t: Table) => t.columns.filter((c) => !c.generated);

export interface SnapshotResult {
  tables: number;
  rows: number;
  schemaVersion: number;
  sizeBytes: number;
  sha256: string;
}

/** One table's rows (optionally only those `filter` selects: `{ sql: 'where …', params }`) into the archive. */
export async function copyTable(client: pg.ClientBase, writer: ArchiveWriter, table: Table, filter?: { sql: string; params: unknown[] }) {
  const cols = storedColumns(table);
  await writer.table(table.name);
  const list = cols.map((c) => `${quoteIdent(c.name)}::text`).join(', ');
  await client.query(`declare opsbase_dump no scroll cursor for select ${list} from ${table.sql} t ${filter?.sql ?? ''}`, filter?.params ?? []);
  for (;;) {
    const res = await client.query<(string | null)[]>({ text: `fetch ${BATCH} from opsbase_dump`, rowMode: 'array' });
    if (res.rows.length) await writer.rows(res.rows);
    if (res.rows.length < BATCH) break;
  }
  await client.query('close opsbase_dump');
}

export async function serverVersionNum(client: Pick<pg.ClientBase, 'query'>): Promise<number> {
  const { rows } = await client.query<{ server_version_num: string }>('show server_version_num');
  return Number(rows[0].server_version_num);
}

/**
 * Runs `work` inside one REPEATABLE READ, READ ONLY transaction on its own connection: everything it reads is the
 * database as of the transaction's first statement.
 */
export async function inSnapshot<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read, read only');
    const out = await work(client);
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Every table of the database into `file` (an `instance` archive). */
export async function snapshotToFile(pool: pg.Pool, file: string, log: (message: string) => void = () => {}): Promise<SnapshotResult> {
  return inSnapshot(pool, async (client) => {
    const tables = await listTables(client);
    const migrations = await appliedMigrations(client);
    const header: ArchiveHeader = {
      ...archiveHeaderBase(),
      kind: 'instance',
      server_version_num: await serverVersionNum(client),
      migrations,
      tables: tables.map((t) => ({ name: t.name, columns: storedColumns(t) })),
      sequences: await sequenceStates(client),
    };
    log(`snapshot of ${tables.length} tables at schema version ${migrations.length}`);
    const writer = new ArchiveWriter(file);
    try {
      await writer.header(header);
      for (const t of tables) await copyTable(client, writer, t);
      const done = await writer.finish();
      log(`wrote ${done.end.total_rows} rows, ${done.sizeBytes} bytes`);
      return { tables: tables.length, rows: done.end.total_rows, schemaVersion: migrations.length, sizeBytes: done.sizeBytes, sha256: done.sha256 };
    } catch (err) {
      await writer.abort();
      throw err;
    }
  });
}
