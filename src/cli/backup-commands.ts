// `opsbase backup` and `opsbase restore <file>`: local commands on the database itself (embedded in the data dir, or
// DATABASE_URL), like `opsbase init` — no server or API key needed. Exit codes: 0 done, 1 failed, 3 refused (the
// database is not empty, or the archive's schema is not one this Opsbase can restore).
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { config } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { createLogger } from '../http/logger.ts';
import { ArchiveError } from '../modules/backups/archive.ts';
import { PG_DUMP_MAGIC, pgRestore } from '../modules/backups/pg-dump.ts';
import { RestoreRefused, restoreArchive } from '../modules/backups/restore.ts';
import { snapshotToFile } from '../modules/backups/snapshot.ts';
import { listTables } from '../modules/backups/catalog.ts';

const say = (json: boolean, human: string, data: object) => process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);

function fail(err: unknown, json: boolean): number {
  const refused = err instanceof RestoreRefused;
  const code = refused ? 'refused' : err instanceof ArchiveError ? 'invalid_archive' : 'failed';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(json ? `${JSON.stringify({ error: code, message })}\n` : `error ${code}: ${message}\n`);
  return refused ? 3 : 1;
}

async function database() {
  const cfg = config();
  // Logs on stderr: stdout carries the result (and --json stays clean).
  const log = createLogger(cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL, process.stderr);
  return openDatabase(cfg, log);
}

export async function runBackupCommand(opts: { out?: string }, json: boolean): Promise<number> {
  const out = resolve(opts.out ?? `opsbase-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl.gz`);
  const db = await database();
  try {
    const started = Date.now();
    const r = await snapshotToFile(db.pool, out);
    say(json, `✓ ${out}: ${r.tables} tables, ${r.rows} rows, ${r.sizeBytes} bytes, sha256 ${r.sha256} (${Date.now() - started} ms)`, {
      file: out,
      tables: r.tables,
      rows: r.rows,
      size_bytes: r.sizeBytes,
      sha256: r.sha256,
      schema_version: r.schemaVersion,
    });
    return 0;
  } catch (err) {
    return fail(err, json);
  } finally {
    await db.close();
  }
}

async function isPgDumpArchive(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(PG_DUMP_MAGIC.length);
    await fh.read(buf, 0, buf.length, 0);
    return buf.toString('latin1') === PG_DUMP_MAGIC;
  } finally {
    await fh.close();
  }
}

export async function runRestoreCommand(file: string, json: boolean): Promise<number> {
  const path = resolve(file);
  let pgDump: boolean;
  try {
    pgDump = await isPgDumpArchive(path);
  } catch (err) {
    return fail(new ArchiveError(`cannot read ${path}: ${(err as Error).message}`), json);
  }
  const db = await database();
  try {
    const log = (line: string) => {
      if (!json) process.stderr.write(`  ${line}\n`);
    };
    if (pgDump) {
      // pg_restore creates the schema itself: the database must have no tables at all.
      const client = await db.pool.connect();
      const tables = await listTables(client).finally(() => client.release());
      if (tables.length) throw new RestoreRefused(`The database already has ${tables.length} tables: a pg_dump archive restores only into a new database.`);
      await pgRestore(db.url, path, log);
      say(json, `✓ restored ${path} with pg_restore`, { file: path, format: 'pg_dump' });
      return 0;
    }
    const r = await restoreArchive(db.url, path, log);
    say(json, `✓ restored ${r.rows} rows in ${r.tables} tables (schema version ${r.schema_version}); start Opsbase to apply newer migrations`, {
      file: path,
      ...r,
    });
    return 0;
  } catch (err) {
    return fail(err, json);
  } finally {
    await db.close();
  }
}

