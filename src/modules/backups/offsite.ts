// The offsite copy: each succeeded backup is uploaded to the S3-compatible store when one is configured
// (OPSBASE_S3_*, src/core/s3.ts), under `backups/<file name>`, and read back (HEAD) to check its size. The outcome is
// on the backup's row; backups.offsite_status says whether the newest backup has its copy (Orkosi's "github-status").
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import { S3Client, s3SettingsFrom } from '../../core/s3.ts';
import type { AppServices } from '../../core/services.ts';
import { backups } from '../../db/schema/backups.ts';
import { appendLog, backupDir } from './run.ts';

export const OFFSITE_PREFIX = 'backups/';

export interface OffsiteTarget {
  /** `s3://bucket/backups/` as shown to admins (never credentials). */
  describe: string;
  client: S3Client;
}

export function offsiteTarget(config: Config): OffsiteTarget | null {
  const settings = s3SettingsFrom(config);
  if (!settings) return null;
  return { describe: `s3://${settings.bucket}/${OFFSITE_PREFIX} at ${new URL(settings.endpoint).host}`, client: new S3Client(settings) };
}

/** Uploads backup `id`'s archive; a failure is recorded on the row and thrown (the job retries with backoff). */
export async function copyOffsite(services: AppServices, id: string): Promise<void> {
  const target = offsiteTarget(services.config);
  const [row] = await services.database.db.select().from(backups).where(eq(backups.id, id));
  if (!target || !row || row.status !== 'succeeded' || !row.fileName) return;
  const key = `${OFFSITE_PREFIX}${row.fileName}`;
  await services.database.db.update(backups).set({ offsiteStatus: 'pending', offsiteKey: key }).where(eq(backups.id, id));
  try {
    // The whole archive in memory: the client signs a body it knows (no streaming upload with a payload hash).
    const bytes = await readFile(join(backupDir(services.config), row.fileName));
    await target.client.putObject(key, bytes, { contentType: row.format === 'pg_dump' ? 'application/octet-stream' : 'application/gzip' });
    const head = await target.client.headObject(key);
    if (head?.size !== bytes.length) throw new Error(`the copy of ${key} has ${head?.size ?? 'no'} bytes, not ${bytes.length}`);
    await services.database.db.update(backups).set({ offsiteStatus: 'copied', offsiteAt: new Date(), offsiteError: null }).where(eq(backups.id, id));
    await appendLog(services, id, 'info', `copied offsite to ${target.describe.split(' ')[0]}${row.fileName}`);
  } catch (err) {
    const message = (err as Error).message.slice(0, 1000);
    await services.database.db.update(backups).set({ offsiteStatus: 'failed', offsiteAt: new Date(), offsiteError: message }).where(eq(backups.id, id));
    await appendLog(services, id, 'error', `offsite copy failed: ${message}`);
    throw err;
  }
}
