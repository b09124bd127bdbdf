// Backups' background work: one job per backup (manual or scheduled), and the offsite copy as a job of its own so a
// failed upload is retried without taking the snapshot again.
import { systemCtx } from '../../core/context.ts';
import { defineJob, PermanentJobError } from '../../jobs/define.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { copyOffsite, offsiteTarget } from './offsite.ts';
import { applyRetention, runBackup } from './run.ts';

export const copyOffsiteJob = defineJob<{ id: string }>({
  type: 'backups.offsite',
  timeout: 3600,
  max_attempts: 5,
  backoff: 60,
  handler: async ({ services, payload }) => {
    await copyOffsite(services, payload.id);
    return { id: payload.id };
  },
});

export const runBackupJob = defineJob<{ id: string }>({
  type: 'backups.run',
  timeout: 6 * 3600,
  // A second attempt only after a worker died mid-backup (its lease lapsed): a backup that failed is not retried.
  max_attempts: 2,
  backoff: 60,
  handler: async ({ services, payload, log }) => {
    let ran: boolean;
    try {
      ran = await runBackup(services, payload.id);
    } catch (err) {
      // The backup row says why; a second attempt would take the same failing path.
      throw new PermanentJobError((err as Error).message);
    }
    if (!ran) return { id: payload.id, skipped: true };
    const pruned = await applyRetention(services);
    if (pruned.length) log.info({ pruned }, 'old backups deleted (retention)');
    if (offsiteTarget(services.config)) await enqueueJob(services.database.db, copyOffsiteJob, { id: payload.id });
    return { id: payload.id, pruned: pruned.length };
  },
});

/** OPSBASE_BACKUP_CRON (default 03:00 UTC daily; `off` disables it) queues a backup like backups.trigger does. */
export const scheduledBackupJob = defineJob({
  type: 'backups.schedule',
  schedule: (config) => (config.OPSBASE_BACKUP_CRON === 'off' ? null : config.OPSBASE_BACKUP_CRON),
  timeout: 60,
  max_attempts: 3,
  backoff: 30,
  handler: async ({ services }) => {
    const { queueBackup } = await import('./service.ts');
    const backup = await services.database.db.transaction((tx) => queueBackup(systemCtx(services, tx), 'schedule'));
    return { id: backup.id };
  },
});

export const backupJobs = [runBackupJob, copyOffsiteJob, scheduledBackupJob];
