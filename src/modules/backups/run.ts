// Taking one backup (the job's work): mark it running, write the archive — built in, or pg_dump when a matching one
// is on the PATH — record what was written, then apply the retention. Every step leaves a line in the backup's log.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { AppServices } from '../../core/services.ts';
import { systemCtx } from '../../core/context.ts';
import { recordActivity } from '../activity/record.ts';
import { type BackupLogLine, backups } from '../../db/schema/backups.ts';
import { sha256File } from './archive.ts';
import { listTables } from './catalog.ts';
import { pgDump, serverMajor, toolMajor } from './pg-dump.ts';
import { serverVersionNum, snapshotToFile } from './snapshot.ts';

export const backupDir = (cfg: Pick<Config, 'dataDir'>) => join(cfg.dataDir, 'backups');

export async function appendLog(services: AppServices, id: string, level: BackupLogLine['level'], message: string) {
  const line: BackupLogLine = { at: new Date().toISOString(), level, message };
  await services.database.db.execute(sql`update backups set log = log || ${JSON.stringify([line])}::jsonb where id = ${id}`);
}

/** Which writer runs: pg_dump only when asked for or, with `auto`, when its major version is the server's. */
async function chooseFormat(services: AppServices): Promise<{ format: 'opsbase-jsonl' | 'pg_dump'; why: string }> {
  const wanted = services.config.OPSBASE_BACKUP_FORMAT;
  if (wanted === 'builtin') return { format: 'opsbase-jsonl', why: 'OPSBASE_BACKUP_FORMAT=builtin' };
  const client = await services.database.pool.connect();
  const server = serverMajor(await serverVersionNum(client).finally(() => client.release()));
  const tool = await toolMajor('pg_dump');
  if (tool === server) return { format: 'pg_dump', why: `pg_dump ${tool} matches the server's major version` };
  const why = tool === null ? 'no pg_dump on the PATH' : `pg_dump ${tool} does not match the server's major version ${server}`;
  if (wanted === 'pg_dump') throw new Error(`OPSBASE_BACKUP_FORMAT=pg_dump, but ${why}.`);
  return { format: 'opsbase-jsonl', why: `${why}: built-in format` };
}

/** Runs backup `id`; returns false when it is not waiting to run (already done, or failed by a restore). */
export async function runBackup(services: AppServices, id: string): Promise<boolean> {
  const started = Date.now();
  const [row] = await services.database.db.execute<{ id: string }>(
    sql`update backups set status = 'running', started_at = now(), error = null where id = ${id} and status in ('queued', 'running') returning id`,
  ).then((r) => r.rows);
  if (!row) return false;
  const log = (message: string, level: BackupLogLine['level'] = 'info') => appendLog(services, id, level, message);
  let file: string | undefined;
  try {
    const dir = backupDir(services.config);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { format, why } = await chooseFormat(services);
    await log(`format ${format} (${why})`);
    const fileName = `${id}.${format === 'pg_dump' ? 'pgdump' : 'jsonl.gz'}`;
    file = join(dir, fileName);
    let result: { tables: number; rows: number | null; schemaVersion: number | null; sizeBytes: number; sha256: string };
    if (format === 'pg_dump') {
      await pgDump(services.database.url, file, (line) => void log(`pg_dump: ${line}`, 'warn'));
      const tables = await listTables(services.database.pool);
      result = { tables: tables.length, rows: null, schemaVersion: null, sizeBytes: (await stat(file)).size, sha256: await sha256File(file) };
    } else {
      const lines: string[] = [];
      result = await snapshotToFile(services.database.pool, file, (line) => lines.push(line));
      for (const line of lines) await log(line);
    }
    await services.database.db
      .update(backups)
      .set({
        status: 'succeeded',
        format,
        fileName,
        sizeBytes: result.sizeBytes,
        sha256: result.sha256,
        tableCount: result.tables,
        rowCount: result.rows,
        schemaVersion: result.schemaVersion,
        durationMs: Date.now() - started,
        finishedAt: new Date(),
      })
      .where(sql`${backups.id} = ${id}`);
    await log(`succeeded in ${Date.now() - started} ms: ${fileName}, sha256 ${result.sha256}`);
    return true;
  } catch (err) {
    if (file) await rm(file, { force: true });
    const message = (err as Error).message;
    await services.database.db
      .update(backups)
      .set({ status: 'failed', error: message.slice(0, 2000), durationMs: Date.now() - started, finishedAt: new Date() })
      .where(sql`${backups.id} = ${id}`);
    await log(`failed: ${message}`, 'error');
    throw err;
  }
}

/**
 * Keeps the newest OPSBASE_BACKUP_KEEP succeeded backups: older succeeded ones go (file and row), and so do failed
 * ones older than the oldest kept (a failure is worth seeing until good backups have replaced it).
 */
export async function applyRetention(services: AppServices): Promise<string[]> {
  const keep = services.config.OPSBASE_BACKUP_KEEP;
  const { rows } = await services.database.db.execute<{ id: string; file_name: string | null }>(
    sql`with kept as (select created_at from backups where status = 'succeeded' order by created_at desc limit ${keep}),
             floor as (select min(created_at) as at, count(*) as n from kept)
        select b.id, b.file_name from backups b, floor
         where floor.n >= ${keep} and b.created_at < floor.at and b.status in ('succeeded', 'failed')
         order by b.created_at`,
  );
  const dir = backupDir(services.config);
  for (const r of rows) {
    if (r.file_name) await rm(join(dir, r.file_name), { force: true });
    await services.database.db.transaction(async (tx) => {
      await tx.execute(sql`delete from backups where id = ${r.id}`);
      await recordActivity(systemCtx(services, tx), { orgId: null, action: 'backup.pruned', entityType: 'backup', entityId: r.id, metadata: { keep } });
    });
  }
  return rows.map((r) => r.id);
}
