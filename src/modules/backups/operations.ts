// Backups (Orkosi `/backups`) and org export/import. A backup holds every org's data, so backups.* are for instance
// admins, with their session (like billing.grant and users.*): an org's API key gets 403, whatever its scopes.
import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, FileBytes, IdParam, Timestamp } from '../../core/schemas.ts';
import { BACKUP_STATUSES, OFFSITE_STATUSES } from '../../db/schema/backups.ts';
import { exportOrg, importOrg } from './org-archive.ts';
import * as service from './service.ts';

const admin = { auth: 'user' as const, instanceAdmin: true, scopes: [] as string[] };

export const Backup = z
  .object({
    id: z.string(),
    status: z.enum(BACKUP_STATUSES),
    trigger: z.enum(['manual', 'schedule']),
    format: z.string().nullable().describe('`opsbase-jsonl` (built in: gzip of JSON lines) or `pg_dump` (custom format)'),
    file_name: z.string().nullable(),
    size_bytes: z.number().nullable(),
    sha256: z.string().nullable().describe('Of the archive file, as downloaded'),
    table_count: z.number().nullable(),
    row_count: z.number().nullable(),
    schema_version: z.number().nullable().describe('Migrations applied when it was taken'),
    duration_ms: z.number().nullable(),
    error: z.string().nullable(),
    requested_by: z.string().nullable(),
    offsite: z
      .object({ status: z.enum(OFFSITE_STATUSES), key: z.string().nullable(), at: Timestamp.nullable(), error: z.string().nullable() })
      .nullable()
      .describe('The copy to the S3-compatible store (null: none attempted)'),
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
  })
  .meta({ id: 'Backup' });

const columns = ['id', 'status', 'trigger', 'size_bytes', 'row_count', 'duration_ms', 'created_at'];

export const triggerBackup = defineOperation({
  id: 'backups.trigger',
  method: 'POST',
  path: '/backups/trigger',
  summary: 'Take a backup of the whole instance now (a job: answers at once with the queued backup)',
  ...admin,
  status: 202,
  input: z.object({}),
  output: Backup,
  cli: { columns },
  handler: (ctx) => service.queueBackup(ctx, 'manual'),
});

export const listBackups = defineOperation({
  id: 'backups.list',
  method: 'GET',
  path: '/backups',
  summary: 'Backups, newest first',
  ...admin,
  input: PageInput.extend({ status: z.enum(BACKUP_STATUSES).optional() }),
  output: listOf(Backup),
  cli: { columns, watch: true },
  handler: (ctx, input) => service.listBackups(ctx, input),
});

export const backupStats = defineOperation({
  id: 'backups.stats',
  method: 'GET',
  path: '/backups/stats',
  summary: 'Backup totals: count, total size, the last backup, the schedule and how many are kept',
  ...admin,
  input: z.object({}),
  output: z.object({
    count: z.number(),
    succeeded: z.number(),
    failed: z.number(),
    in_progress: z.number(),
    total_size_bytes: z.number(),
    last: Backup.nullable(),
    last_succeeded_at: Timestamp.nullable(),
    schedule: z.string().nullable().describe('OPSBASE_BACKUP_CRON (UTC); null: no scheduled backups'),
    keep: z.number().describe('OPSBASE_BACKUP_KEEP: succeeded backups kept'),
    directory: z.string(),
  }),
  handler: (ctx) => service.backupStats(ctx),
});

export const backupLogs = defineOperation({
  id: 'backups.logs',
  method: 'GET',
  path: '/backups/logs',
  summary: 'The last log lines of the backups (or of one), oldest first',
  ...admin,
  input: z.object({
    backup: z.string().min(1).max(64).optional().describe('Only this backup’s lines'),
    lines: z.coerce.number().int().min(1).max(1000).default(100).describe('How many of the last lines (default 100)'),
  }),
  output: z.object({
    data: z.array(z.object({ backup_id: z.string(), at: Timestamp, level: z.string(), message: z.string() })),
  }),
  cli: { columns: ['at', 'backup_id', 'level', 'message'] },
  handler: (ctx, input) => service.backupLogs(ctx, { backup: input.backup, limit: input.lines }),
});

export const offsiteStatus = defineOperation({
  id: 'backups.offsite_status',
  method: 'GET',
  path: '/backups/offsite-status',
  aliases: ['/backups/github-status'],
  summary: 'The offsite copy (S3-compatible store): the last copy and whether it is of the newest backup',
  ...admin,
  input: z.object({}),
  output: z.object({
    configured: z.boolean(),
    target: z.string().nullable(),
    last_copy: z
      .object({ backup_id: z.string(), at: Timestamp.nullable(), ok: z.boolean(), key: z.string().nullable(), error: z.string().nullable() })
      .nullable(),
    newest_backup_id: z.string().nullable(),
    last_copied_backup_id: z.string().nullable(),
    in_sync: z.boolean().describe('The newest succeeded backup has its offsite copy'),
  }),
  handler: (ctx) => service.offsiteStatus(ctx),
});

export const getBackup = defineOperation({
  id: 'backups.get',
  method: 'GET',
  path: '/backups/:id',
  summary: 'One backup',
  ...admin,
  input: z.object({ id: IdParam('Backup') }),
  output: Backup,
  cli: { columns },
  handler: (ctx, input) => service.getBackup(ctx, input.id),
});

export const downloadBackup = defineOperation({
  id: 'backups.download',
  method: 'GET',
  path: '/backups/:id/download',
  summary: 'Download a backup’s archive file',
  ...admin,
  input: z.object({ id: IdParam('Backup') }),
  output: FileBytes,
  // Bytes only (no handler, so no JSON face and no MCP tool): a backup can be gigabytes, never one base64 string.
  binary: (ctx, input) => service.downloadBackup(ctx, input.id),
});

export const deleteBackup = defineOperation({
  id: 'backups.delete',
  method: 'DELETE',
  path: '/backups/:id',
  summary: 'Delete a backup and its file (not its offsite copy); a queued or running one: 409',
  ...admin,
  input: z.object({ id: IdParam('Backup') }),
  output: Deleted,
  handler: (ctx, input) => service.deleteBackup(ctx, input.id),
});

export const exportOrgOp = defineOperation({
  id: 'orgs.export',
  method: 'GET',
  path: '/orgs/:id/export',
  summary: 'Download everything the org owns as one archive (the owner, or a `*` key), for orgs.import on another instance',
  description:
    'Every table with an org_id (and rows hanging off them), the org, and its members’ user rows with their password hashes ' +
    '(so they sign in on the new instance with the password they had). Ids are preserved. See docs/backups.md.',
  orgParam: 'id',
  // Everything, every credential's hash included: only a full-access key (or the owner's session).
  scopes: ['*'],
  input: z.object({ id: IdParam('Org') }),
  output: FileBytes,
  // Bytes only, like backups.download: an org's archive can be large.
  binary: (ctx) => exportOrg(ctx, ctx.orgId!),
});

export const importOrgOp = defineOperation({
  id: 'orgs.import',
  method: 'POST',
  path: '/orgs/import',
  summary: 'Import an org from an orgs.export archive (instance admins): ids kept; 409 if the org exists here',
  ...admin,
  upload: { field: 'archive_base64', limit: (cfg) => cfg.OPSBASE_UPLOAD_LIMIT_BYTES },
  // Its own transaction on one connection (the rows go in through the loader, not the query builder).
  transaction: false,
  input: z.object({
    archive_base64: z
      .string()
      .min(1)
      .optional()
      .describe('The archive base64-encoded, when the body is JSON; send a large one as the body itself (application/gzip)'),
  }),
  output: z.object({
    org_id: z.string(),
    tables: z.number(),
    rows: z.number(),
    parents_kept: z.number().describe('Rows already here (a user with the same id) that were kept as they are'),
    unreadable_secrets: z.number().describe('Sealed values this instance’s master key cannot open: set the source’s OPSBASE_MASTER_KEY'),
  }),
  status: 201,
  cli: { columns: ['org_id', 'tables', 'rows', 'unreadable_secrets'] },
  handler: (ctx) => importOrg(ctx, ctx.upload),
});

export const backupOperations = [triggerBackup, listBackups, backupStats, backupLogs, offsiteStatus, getBackup, downloadBackup, deleteBackup];
export const orgArchiveOperations = [exportOrgOp, importOrgOp];
