// The backups operations (instance admins only: an archive holds every org's data). Taking a backup is a job; these
// functions queue it, list and describe what was taken, hand out the files and delete them.
import { createReadStream, existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { desc, eq, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { conflict, notFound } from '../../core/errors.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { newId } from '../../core/ids.ts';
import { iso } from '../../core/schemas.ts';
import { backups } from '../../db/schema/backups.ts';
import type { BinaryBody } from '../../core/operation.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { recordActivity } from '../activity/record.ts';
import { runBackupJob } from './jobs.ts';
import { offsiteTarget } from './offsite.ts';
import { backupDir } from './run.ts';

type Row = typeof backups.$inferSelect;

export function presentBackup(r: Row) {
  return {
    id: r.id,
    status: r.status,
    trigger: r.trigger,
    format: r.format,
    file_name: r.fileName,
    size_bytes: r.sizeBytes,
    sha256: r.sha256,
    table_count: r.tableCount,
    row_count: r.rowCount,
    schema_version: r.schemaVersion,
    duration_ms: r.durationMs,
    error: r.error,
    requested_by: r.requestedBy,
    offsite: r.offsiteStatus ? { status: r.offsiteStatus, key: r.offsiteKey, at: iso(r.offsiteAt), error: r.offsiteError } : null,
    created_at: r.createdAt.toISOString(),
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
  };
}

/** A new backup row (queued) and the job that takes it, in the caller's transaction. */
export async function queueBackup(ctx: Ctx, trigger: 'manual' | 'schedule') {
  const [row] = await ctx.db
    .insert(backups)
    .values({ id: newId('backup'), trigger, requestedBy: ctx.userId, log: [{ at: new Date().toISOString(), level: 'info', message: `queued (${trigger})` }] })
    .returning();
  await enqueueJob(ctx.db, runBackupJob, { id: row.id });
  await recordActivity(ctx, { orgId: null, action: 'backup.triggered', entityType: 'backup', entityId: row.id, metadata: { trigger } });
  return presentBackup(row);
}

async function find(ctx: Ctx, id: string): Promise<Row> {
  const [row] = await ctx.db.select().from(backups).where(eq(backups.id, id));
  if (!row) throw notFound('Backup');
  return row;
}

export const getBackup = async (ctx: Ctx, id: string) => presentBackup(await find(ctx, id));

/** Newest first: backup ids are time-sortable, so the common keyset pagination applies. */
export function listBackups(ctx: Ctx, input: PageInput & { status?: Row['status'] }) {
  return listNewestFirst(ctx.db, backups, input, [input.status ? eq(backups.status, input.status) : undefined], presentBackup);
}

export async function backupStats(ctx: Ctx) {
  const { rows } = await ctx.db.execute<{ count: number; size: number; succeeded: number; failed: number; running: number }>(
    sql`select count(*) as count, coalesce(sum(size_bytes), 0)::bigint as size, count(*) filter (where status = 'succeeded') as succeeded,
               count(*) filter (where status = 'failed') as failed, count(*) filter (where status in ('queued', 'running')) as running
          from backups`,
  );
  const [last] = await ctx.db.select().from(backups).orderBy(desc(backups.createdAt), desc(backups.id)).limit(1);
  const [lastGood] = await ctx.db.select().from(backups).where(eq(backups.status, 'succeeded')).orderBy(desc(backups.createdAt)).limit(1);
  const cfg = ctx.services.config;
  return {
    count: rows[0].count,
    succeeded: rows[0].succeeded,
    failed: rows[0].failed,
    in_progress: rows[0].running,
    total_size_bytes: Number(rows[0].size),
    last: last ? presentBackup(last) : null,
    last_succeeded_at: iso(lastGood?.finishedAt),
    schedule: cfg.OPSBASE_BACKUP_CRON === 'off' ? null : cfg.OPSBASE_BACKUP_CRON,
    keep: cfg.OPSBASE_BACKUP_KEEP,
    directory: backupDir(cfg),
  };
}

/** The last `limit` log lines: of one backup, or of the newest backups together (Orkosi's tail of the backup log). */
export async function backupLogs(ctx: Ctx, input: { backup?: string; limit: number }) {
  if (input.backup) await find(ctx, input.backup);
  const { rows } = await ctx.db.execute<{ backup_id: string; at: string; level: string; message: string }>(
    sql`select * from (
          select b.id as backup_id, l->>'at' as at, l->>'level' as level, l->>'message' as message
            from (select id, log from backups ${input.backup ? sql`where id = ${input.backup}` : sql``} order by created_at desc limit 50) b,
                 jsonb_array_elements(b.log) l
           order by l->>'at' desc, b.id desc limit ${input.limit}) t
        order by at, backup_id`,
  );
  return { data: rows };
}

export async function deleteBackup(ctx: Ctx, id: string) {
  const row = await find(ctx, id);
  if (row.status === 'queued' || row.status === 'running') throw conflict(`Backup ${id} is ${row.status}: delete it once it has finished.`);
  await ctx.db.delete(backups).where(eq(backups.id, id));
  await recordActivity(ctx, { orgId: null, action: 'backup.deleted', entityType: 'backup', entityId: id, metadata: { file_name: row.fileName } });
  // The row goes with the transaction; the file after it is decided (a file without a row is only disk space).
  if (row.fileName) await rm(join(backupDir(ctx.services.config), row.fileName), { force: true });
  return { id, deleted: true as const };
}

export async function downloadBackup(ctx: Ctx, id: string): Promise<BinaryBody> {
  const row = await find(ctx, id);
  if (row.status !== 'succeeded' || !row.fileName) throw conflict(`Backup ${id} is ${row.status}: only a succeeded backup has a file to download.`);
  const file = join(backupDir(ctx.services.config), row.fileName);
  if (!existsSync(file)) throw notFound(`The file of backup ${id} (it is not in this instance's data dir)`);
  const { size } = await stat(file);
  const contentType = row.format === 'pg_dump' ? 'application/octet-stream' : 'application/gzip';
  return { body: createReadStream(file), filename: row.fileName, contentType, size };
}

/** Orkosi's "github-status": the last offsite copy, and whether it is of the newest succeeded backup. */
export async function offsiteStatus(ctx: Ctx) {
  const target = offsiteTarget(ctx.services.config);
  const [lastCopy] = await ctx.db
    .select()
    .from(backups)
    .where(sql`${backups.offsiteAt} is not null`)
    .orderBy(desc(backups.offsiteAt))
    .limit(1);
  const [newest] = await ctx.db.select().from(backups).where(eq(backups.status, 'succeeded')).orderBy(desc(backups.createdAt)).limit(1);
  const [lastOk] = await ctx.db
    .select()
    .from(backups)
    .where(eq(backups.offsiteStatus, 'copied'))
    .orderBy(desc(backups.offsiteAt))
    .limit(1);
  return {
    configured: target !== null,
    target: target?.describe ?? null,
    last_copy: lastCopy
      ? {
          backup_id: lastCopy.id,
          at: iso(lastCopy.offsiteAt),
          ok: lastCopy.offsiteStatus === 'copied',
          key: lastCopy.offsiteKey,
          error: lastCopy.offsiteError,
        }
      : null,
    newest_backup_id: newest?.id ?? null,
    last_copied_backup_id: lastOk?.id ?? null,
    in_sync: !!newest && lastOk?.id === newest.id && lastOk.sha256 === newest.sha256,
  };
}
