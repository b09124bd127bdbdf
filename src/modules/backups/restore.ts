// `opsbase restore <file>`: an instance archive into an EMPTY database, in one transaction.
//
// "Empty" means: no table of the `public` schema holds a single row. The schema itself may be absent (a new
// database) or already migrated (e.g. the migrations of this very version ran), as long as the migrations it has are
// the archive's first ones. Anything else is refused: a restore never merges into or overwrites live data.
//
// The schema is brought to exactly the archive's version (its migrations, no newer ones), the rows are loaded, the
// sequences set where the source left them, and the migrations table is the archive's: a later start applies only
// the migrations that are newer than the backup, to the restored data, as an upgrade would.
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { migrationsFolder } from '../../db/migrate.ts';
import { type ArchiveHeader, ArchiveError, openArchive } from './archive.ts';
import { appliedMigrations, listTables, MIGRATIONS_TABLE, qualified, quoteIdent, type Table } from './catalog.ts';
import { TableLoader } from './loader.ts';

export class RestoreRefused extends Error {}

export interface RestoreResult {
  tables: number;
  rows: number;
  schema_version: number;
  sequences: number;
}

/** The tables of `public` that hold at least one row (an empty list: the database counts as empty). */
export async function tablesWithRows(client: pg.ClientBase): Promise<string[]> {
  const tables = (await listTables(client)).filter((t) => t.name.startsWith('public.'));
  const busy: string[] = [];
  for (const t of tables) {
    const { rows } = await client.query(`select exists (select 1 from ${t.sql}) as any`);
    if (rows[0].any) busy.push(t.name);
  }
  return busy;
}

function checkMigrations(header: ArchiveHeader, applied: { hash: string }[]) {
  const known = readMigrationFiles({ migrationsFolder });
  const theirs = header.migrations;
  if (theirs.length > known.length) {
    throw new RestoreRefused(
      `The archive's schema has ${theirs.length} migrations; this Opsbase knows ${known.length}: restore it with a newer Opsbase.`,
    );
  }
  const differs = theirs.findIndex((m, i) => m.hash !== known[i].hash);
  if (differs >= 0) throw new RestoreRefused(`The archive's migration #${differs + 1} is not this Opsbase's: it comes from another build.`);
  if (applied.length > theirs.length || applied.some((m, i) => m.hash !== theirs[i].hash)) {
    throw new RestoreRefused(
      `The database already has a schema (${applied.length} migrations) that is not a step towards the archive's (${theirs.length}): restore into a new database.`,
    );
  }
  return known.slice(0, theirs.length);
}

/**
 * Foreign keys are checked once, at the end, not row by row: the archive's tables come in name order and a table may
 * reference itself. The owner of the tables (the restoring role ran their migrations) may make them deferrable for
 * the transaction — no superuser needed, unlike `session_replication_role`.
 */
async function deferForeignKeys(client: pg.ClientBase): Promise<{ table: string; name: string }[]> {
  const { rows } = await client.query<{ table: string; name: string }>(
    `select n.nspname || '.' || c.relname as "table", con.conname as name from pg_constraint con
       join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      where con.contype = 'f' and not con.condeferrable and n.nspname in ('public', 'drizzle')`,
  );
  for (const fk of rows) await client.query(`alter table ${qualified(fk.table)} alter constraint ${quoteIdent(fk.name)} deferrable initially deferred`);
  return rows;
}

export async function restoreArchive(databaseUrl: string, file: string, log: (line: string) => void = () => {}): Promise<RestoreResult> {
  const { header, items } = await openArchive(file);
  if (header.kind !== 'instance') throw new ArchiveError(`${file} is an export of one org: import it with \`opsbase orgs import\`, not restore.`);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => {});
  const client = await pool.connect();
  try {
    const busy = await tablesWithRows(client);
    if (busy.length) {
      throw new RestoreRefused(
        `The database is not empty (${busy.length} tables hold rows, e.g. ${busy.slice(0, 3).join(', ')}): restore only into an empty database.`,
      );
    }
    const migrations = checkMigrations(header, await appliedMigrations(client));
    log(`bringing the schema to version ${migrations.length}`);
    // drizzle's migrator reads the whole folder; its dialect applies exactly the list it is given (the archive's).
    const db = drizzle(pool) as unknown as { dialect: { migrate: (m: unknown, s: unknown, c: object) => Promise<void> }; session: unknown };
    await db.dialect.migrate(migrations, db.session, {});

    await client.query('begin');
    const tables = new Map((await listTables(client)).map((t) => [t.name, t]));
    const missing = header.tables.filter((t) => !tables.has(t.name)).map((t) => t.name);
    if (missing.length) throw new RestoreRefused(`The archive has tables this schema lacks: ${missing.join(', ')}.`);
    const deferred = await deferForeignKeys(client);
    await client.query('set constraints all deferred');
    // Triggers of our own (NOTIFY on insert) have no one to tell during a restore.
    for (const t of tables.values()) await client.query(`alter table ${t.sql} disable trigger user`);
    await client.query(`truncate ${MIGRATIONS_TABLE}`);

    const columnsOf = new Map(header.tables.map((t) => [t.name, t.columns]));
    let loader: TableLoader | undefined;
    let total = 0;
    for await (const item of items) {
      if (item.kind === 'table') {
        await loader?.flush();
        const target = tables.get(item.name) as Table;
        loader = new TableLoader(client, target, columnsOf.get(item.name) ?? []);
        log(`restoring ${item.name}`);
      } else if (item.kind === 'row') {
        await loader!.add(item.values);
        total++;
      } else {
        await loader?.flush();
        if (item.end.total_rows !== total) throw new ArchiveError(`${file} says ${item.end.total_rows} rows but holds ${total}.`);
      }
    }
    for (const s of header.sequences) {
      await client.query(`select setval($1::regclass, $2::bigint, $3)`, [qualified(s.name), s.lastValue, s.isCalled]);
    }
    // A backup running when the snapshot was taken is, in the restored instance, one that never finished.
    if (tables.has('public.backups')) {
      await client.query(
        `update backups set status = 'failed', error = 'interrupted: this instance was restored from a snapshot taken while it ran', finished_at = now()
          where status in ('queued', 'running')`,
      );
    }
    await client.query('set constraints all immediate');
    for (const fk of deferred) await client.query(`alter table ${qualified(fk.table)} alter constraint ${quoteIdent(fk.name)} not deferrable`);
    for (const t of tables.values()) await client.query(`alter table ${t.sql} enable trigger user`);
    await client.query('commit');
    log(`restored ${total} rows in ${header.tables.length} tables`);
    return { tables: header.tables.length, rows: total, schema_version: header.migrations.length, sequences: header.sequences.length };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
    await pool.end();
  }
}
