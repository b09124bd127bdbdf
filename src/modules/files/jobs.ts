// Files' background work: text extraction after an upload, and collecting blobs no file references any more.
import { and, eq } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import { files } from '../../db/schema/files.ts';
import { defineJob } from '../../jobs/define.ts';
import { indexEntry } from '../search/entries.ts';
import { blobStoreFor } from './blob-store.ts';
import { extractText } from './extract.ts';
import { collectBlob } from './service.ts';

export const extractTextJob = defineJob<{ file_id: string; content_hash: string }>({
  type: 'files.extract_text',
  timeout: 120,
  max_attempts: 3,
  backoff: 10,
  handler: async ({ services, payload, job }) => {
    const { db } = services.database;
    const [file] = await db.select().from(files).where(eq(files.id, payload.file_id));
    // Deleted, or replaced by newer bytes whose own job will extract them.
    if (!file || file.contentHash !== payload.content_hash) return { skipped: 'superseded' };
    let bytes: Buffer;
    try {
      bytes = await blobStoreFor(services.config).read(file.orgId, file.contentHash);
    } catch (err) {
      // The store may be briefly unreachable: retried, and marked failed only on the last attempt.
      if (job.attempt < job.maxAttempts) throw err;
      return finish(services, file.id, payload.content_hash, { status: 'failed', error: `could not read the file's bytes: ${(err as Error).message}` });
    }
    let outcome: Awaited<ReturnType<typeof extractText>>;
    try {
      outcome = await extractText(bytes, file.type, file.name);
    } catch (err) {
      // A corrupt or encrypted document: retrying would fail the same way.
      return finish(services, file.id, payload.content_hash, { status: 'failed', error: (err as Error).message.slice(0, 500) });
    }
    return outcome.status === 'done'
      ? finish(services, file.id, payload.content_hash, { status: 'done', text: outcome.text })
      : finish(services, file.id, payload.content_hash, { status: 'skipped', error: outcome.reason });
  },
});

type Outcome = { status: 'done'; text: string } | { status: 'failed' | 'skipped'; error: string };

/** Stores the outcome on the file (if it still holds those bytes) and puts the text in the search index. */
async function finish(services: AppServices, fileId: string, hash: string, o: Outcome) {
  return services.database.db.transaction(async (tx) => {
    const [row] = await tx
      .update(files)
      .set({
        extractionStatus: o.status,
        textContent: o.status === 'done' ? o.text : null,
        extractionError: o.status === 'done' ? null : o.error,
      })
      .where(and(eq(files.id, fileId), eq(files.contentHash, hash)))
      .returning();
    if (!row) return { skipped: 'superseded' };
    await indexEntry(tx, { orgId: row.orgId, kind: 'file', objectId: row.id, title: row.name, body: row.textContent, meta: { path: row.path, type: row.type } });
    return { status: o.status, chars: row.textContent?.length ?? 0 };
  });
}

export const collectBlobJob = defineJob<{ org_id: string; content_hash: string }>({
  type: 'files.collect_blob',
  timeout: 60,
  max_attempts: 5,
  backoff: 30,
  handler: async ({ services, payload }) => ({ deleted: await collectBlob(services.database.db, services.config, payload.org_id, payload.content_hash) }),
});

export const fileJobs = [extractTextJob, collectBlobJob];
