// Backups (issue 12): one row per archive of the whole instance, written by a job into the data dir (and copied to
// an S3-compatible store when one is configured). Instance-wide, like users: no org_id — only instance admins see it.
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const BACKUP_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];
export const OFFSITE_STATUSES = ['pending', 'copied', 'failed'] as const;

export interface BackupLogLine {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export const backups = pgTable(
  'backups',
  {
    id: text('id').primaryKey(),
    status: text('status', { enum: BACKUP_STATUSES }).notNull().default('queued'),
    /** `manual` (backups.trigger), `schedule` (OPSBASE_BACKUP_CRON). */
    trigger: text('trigger', { enum: ['manual', 'schedule'] }).notNull(),
    /** `opsbase-jsonl` (gzip of JSON lines, built in) or `pg_dump` (custom format). */
    format: text('format'),
    /** The archive's file name inside <data dir>/backups/. */
    fileName: text('file_name'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    sha256: text('sha256'),
    tableCount: integer('table_count'),
    rowCount: bigint('row_count', { mode: 'number' }),
    /** How many migrations the snapshot's schema had applied (restore reapplies exactly those). */
    schemaVersion: integer('schema_version'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    log: jsonb('log').$type<BackupLogLine[]>().notNull().default([]),
    requestedBy: text('requested_by'),
    offsiteStatus: text('offsite_status', { enum: OFFSITE_STATUSES }),
    offsiteKey: text('offsite_key'),
    offsiteAt: ts('offsite_at'),
    offsiteError: text('offsite_error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [index('backups_created_idx').on(t.createdAt), index('backups_offsite_idx').on(t.offsiteAt)],
);
