// Files (issue 12): upsert by (org, path), bytes in the blob store, text extracted by a job (jobs.ts) for `files.get`
// and search. A new upload to a known path replaces the file in place (same id): `version` +1 when the bytes
// changed, and extraction starts again. Blobs are shared by every file of the org with the same SHA-256 and are
// collected by a job once no file references them.
import { createHash } from 'node:crypto';
import { and, desc, eq, getTableColumns, inArray, like, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { BinaryBody } from '../../core/operation.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import type { DbOrTx } from '../../db/client.ts';
import { files } from '../../db/schema/files.ts';
import { searchBackend } from '../search/choose.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { indexEntry, removeEntry } from '../search/entries.ts';
import { BlobMissing, blobStoreFor } from './blob-store.ts';
import { collectBlobJob, extractTextJob } from './jobs.ts';
import { guessType } from './mime.ts';

type FileRow = typeof files.$inferSelect;

export function presentFile(f: FileRow) {
  return {
    id: f.id,
    org_id: f.orgId,
    name: f.name,
    path: f.path,
    type: f.type,
    category: f.category,
    size: f.size,
    content_hash: f.contentHash,
    version: f.version,
    extraction_status: f.extractionStatus,
    extraction_error: f.extractionError,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
  };
}

/** `./a//b/c.pdf` → `a/b/c.pdf`; `..` segments, control characters and empty paths are refused (400 on `path`). */
export function normalizePath(raw: string): string {
  const path = raw
    .trim()
    .replaceAll('\\', '/')
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
  if (!path) throw invalid('`path` must name a file, e.g. `contracts/acme.pdf`.', fieldProblem('path', 'must name a file'));
  if (path.split('/').includes('..')) throw invalid('`path` must not contain `..` segments.', fieldProblem('path', 'no `..` segments'));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) throw invalid('`path` must not contain control characters.', fieldProblem('path', 'no control characters'));
  return path;
}

/** `details` as the shared input layer writes them: one entry per field. */
const fieldProblem = (field: string, message: string, location = 'body') => [{ field, location, message }];

/** How long after an upload its blob is checked for a file pointing at it (its transaction has ended by then). */
export const ORPHAN_CHECK_DELAY_SECONDS = 15 * 60;

/** Uploads and removals of one blob (org + hash) take turns with its collection (collectBlob). */
const lockBlob = (db: DbOrTx, orgId: string, hash: string) => db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`blob:${orgId}:${hash}`}, 0))`);

export interface CreateFileInput {
  name: string;
  path?: string;
  type?: string;
  category?: string | null;
}

export async function createFile(ctx: Ctx, input: CreateFileInput) {
  const orgId = requireOrg(ctx);
  // The upload, whichever body it came in (the operation's `upload`: checked against OPSBASE_FILE_MAX_BYTES).
  const bytes = ctx.upload!;
  const path = normalizePath(input.path ?? input.name);
  const type = input.type ?? guessType(input.name);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const category = input.category ?? null;

  await lockBlob(ctx.db, orgId, hash);
  // The bytes are stored before the row that points at them commits; content-addressing makes a retry harmless.
  await blobStoreFor(ctx.services.config).put(orgId, hash, bytes, type);
  // Should this request's transaction roll back, nothing would point at the blob: a collection asked for outside it
  // (on the pool, committed now) looks later and removes the blob if no file of the org holds it by then.
  await enqueueJob(ctx.services.database.db, collectBlobJob, { org_id: orgId, content_hash: hash }, {
    delaySeconds: ORPHAN_CHECK_DELAY_SECONDS,
    singletonKey: `orphan:${orgId}:${hash}`,
  });
  const [before] = await ctx.db
    .select()
    .from(files)
    .where(and(eq(files.orgId, orgId), eq(files.path, path)))
    .for('update');
  const changed = !before || before.contentHash !== hash;
  const [{ inserted, ...row }] = await ctx.db
    .insert(files)
    .values({ id: newId('file'), orgId, path, name: input.name, type, category, size: bytes.length, contentHash: hash })
    .onConflictDoUpdate({
      target: [files.orgId, files.path],
      set: {
        name: input.name,
        type,
        category,
        size: bytes.length,
        contentHash: hash,
        // New bytes: a new version, and their text is extracted again.
        version: sql`case when ${files.contentHash} = ${hash} then ${files.version} else ${files.version} + 1 end`,
        textContent: sql`case when ${files.contentHash} = ${hash} then ${files.textContent} else null end`,
        extractionStatus: sql`case when ${files.contentHash} = ${hash} then ${files.extractionStatus} else 'pending' end`,
        extractionError: sql`case when ${files.contentHash} = ${hash} then ${files.extractionError} else null end`,
        updatedAt: new Date(),
      },
    })
    .returning({ ...getTableColumns(files), inserted: sql<boolean>`(xmax = 0)` });
  // A concurrent first upload to the same path can win the insert after our look found nothing: then we replaced it.
  const result: 'created' | 'replaced' | 'unchanged' = inserted
    ? 'created'
    : !before || changed || before.name !== row.name || before.type !== row.type || before.category !== row.category
      ? 'replaced'
      : 'unchanged';
  if (result === 'unchanged') return { ...presentFile(row), result };

  await indexEntry(ctx.db, { orgId, kind: 'file', objectId: row.id, title: row.name, body: row.textContent, meta: { path: row.path, type: row.type } });
  if (changed) {
    await enqueueJob(ctx.db, extractTextJob, { file_id: row.id, content_hash: hash });
    await recordEvent(ctx.db, { orgId, type: 'file.created', subject: row.id, data: { path, name: row.name, type, size: row.size, version: row.version } });
  }
  if (before && before.contentHash !== hash) await enqueueJob(ctx.db, collectBlobJob, { org_id: orgId, content_hash: before.contentHash });
  await recordActivity(ctx, {
    action: before ? 'file.replaced' : 'file.created',
    entityType: 'file',
    entityId: row.id,
    metadata: { path, size: row.size, version: row.version },
  });
  return { ...presentFile(row), result };
}

async function findFile(ctx: Ctx, id: string, forUpdate = false) {
  const q = ctx.db
    .select()
    .from(files)
    .where(and(eq(files.id, id), eq(files.orgId, requireOrg(ctx))));
  const [row] = forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('File');
  return row;
}

export async function getFile(ctx: Ctx, id: string) {
  const f = await findFile(ctx, id);
  return { ...presentFile(f), text_content: f.textContent };
}

export interface FileFilters extends PageInput {
  path_prefix?: string;
  category?: string;
  type?: string;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listFiles(ctx: Ctx, input: FileFilters) {
  const prefix = input.path_prefix?.replace(/^\.?\/+/, '');
  return listNewestFirst(
    ctx.db,
    files,
    input,
    [
      eq(files.orgId, requireOrg(ctx)),
      prefix ? like(files.path, `${escapeLike(prefix)}%`) : undefined,
      input.category ? eq(files.category, input.category) : undefined,
      // `image/` matches every image type; `application/pdf` exactly that one.
      input.type ? (input.type.endsWith('/') ? like(files.type, `${escapeLike(input.type)}%`) : eq(files.type, input.type)) : undefined,
    ],
    (f) => presentFile(f),
  );
}

/** The bytes, as the raw face of `files.download` serves them. */
export async function openFile(ctx: Ctx, id: string, inline = false): Promise<BinaryBody> {
  const f = await findFile(ctx, id);
  try {
    const { stream, size } = await blobStoreFor(ctx.services.config).open(f.orgId, f.contentHash);
    return { body: stream, size, contentType: f.type, filename: f.name, disposition: inline ? 'inline' : 'attachment' };
  } catch (err) {
    if (err instanceof BlobMissing) throw new AppError('unavailable', 'The content of this file is missing from the blob store.');
    throw err;
  }
}

/** The bytes in base64 (the JSON face of `files.download`, for MCP and other JSON-only clients). */
export async function downloadFile(ctx: Ctx, id: string) {
  const f = await findFile(ctx, id);
  let bytes: Buffer;
  try {
    bytes = await blobStoreFor(ctx.services.config).read(f.orgId, f.contentHash);
  } catch (err) {
    if (err instanceof BlobMissing) throw new AppError('unavailable', 'The content of this file is missing from the blob store.');
    throw err;
  }
  return { id: f.id, name: f.name, path: f.path, type: f.type, size: f.size, content_hash: f.contentHash, content_base64: bytes.toString('base64') };
}

/**
 * Files whose name or extracted text matches `q` (full-text, or a substring of the name and of URLs and codes in the
 * text), best first, through the search backend search.retrieve uses (search/postgres-fts.ts).
 */
export async function searchFiles(ctx: Ctx, input: PageInput & { q?: string }) {
  const orgId = requireOrg(ctx);
  if (input.cursor) throw invalid('Search results are ranked: page with `offset`, not `cursor`.', fieldProblem('cursor', 'use offset', 'querystring'));
  const q = input.q?.trim();
  const offset = input.offset ?? 0;
  const page = <T>(rows: T[]) => ({ rows: rows.slice(0, input.limit), meta: { limit: input.limit, next_cursor: null, has_more: rows.length > input.limit } });
  // No query: the newest files, so the same call serves a search box before anything is typed.
  if (q === undefined) {
    const rows = await ctx.db
      .select()
      .from(files)
      .where(eq(files.orgId, orgId))
      .orderBy(desc(files.id))
      .limit(input.limit + 1)
      .offset(offset);
    const p = page(rows);
    return { data: p.rows.map((f) => ({ ...presentFile(f), rank: 0, snippet: null })), meta: p.meta };
  }
  if (!q) throw invalid('`q` must not be empty.', fieldProblem('q', 'must not be empty', 'querystring'));
  const found = await searchBackend().searchKnowledge(ctx.db, { orgId, q, kinds: ['file'], limit: input.limit, offset, snippets: true });
  const ids = found.hits.map((h) => h.id);
  const rows = ids.length ? await ctx.db.select().from(files).where(and(eq(files.orgId, orgId), inArray(files.id, ids))) : [];
  const byId = new Map(rows.map((f) => [f.id, f]));
  const data = found.hits.flatMap((h) => {
    const f = byId.get(h.id);
    return f ? [{ ...presentFile(f), rank: h.rank, snippet: h.snippet }] : [];
  });
  return { data, meta: { limit: input.limit, next_cursor: null, has_more: found.has_more } };
}

export async function deleteFile(ctx: Ctx, id: string) {
  const f = await findFile(ctx, id, true);
  await ctx.db.delete(files).where(eq(files.id, f.id));
  await removeEntry(ctx.db, 'file', f.id);
  // The blob goes once no other file of the org holds the same bytes: the job checks, under the blob's lock.
  await enqueueJob(ctx.db, collectBlobJob, { org_id: f.orgId, content_hash: f.contentHash });
  await recordActivity(ctx, { action: 'file.deleted', entityType: 'file', entityId: f.id, metadata: { path: f.path, size: f.size } });
  return { id: f.id, deleted: true as const };
}

/** Deletes a blob no file of its org references any more (the collection job). */
export async function collectBlob(db: DbOrTx, cfg: Ctx['services']['config'], orgId: string, hash: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockBlob(tx, orgId, hash);
    const [ref] = await tx
      .select({ id: files.id })
      .from(files)
      .where(and(eq(files.orgId, orgId), eq(files.contentHash, hash)))
      .limit(1);
    if (ref) return false;
    await blobStoreFor(cfg).delete(orgId, hash);
    return true;
  });
}
