// Documents (issue 12): markdown documents in folders. Creating one makes revision 1; an update that changes the
// title or the content makes the next revision (tags, kind, summary or folder alone make none). A document without
// a summary of its author's gets one drafted by the AI layer in a background job (summary.ts). The search index
// entry (title, content, folder path, tags) is written in the same transaction as every change.
import { and, arrayContains, desc, eq, isNull, type SQL } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { paginate, type PageInput } from '../../core/pagination.ts';
import { type DocumentKind, documentRevisions, documents } from '../../db/schema/documents.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { indexEntry, removeEntry } from '../search/entries.ts';
import { folderPath, resolveFolder } from './folders.ts';
import { draftSummaryJob } from './jobs.ts';

export type DocumentRow = typeof documents.$inferSelect;

/** The list face: everything but the content, which can be large. */
export function presentListItem(d: DocumentRow, path: string | null) {
  return {
    id: d.id,
    org_id: d.orgId,
    folder_id: d.folderId,
    folder_path: path,
    title: d.title,
    kind: d.kind,
    summary: d.summary,
    summary_source: d.summarySource,
    tags: d.tags,
    revision: d.revision,
    created_by: { type: d.createdByType, id: d.createdById },
    updated_by: { type: d.updatedByType, id: d.updatedById },
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

export const presentDocument = (d: DocumentRow, path: string | null) => ({ ...presentListItem(d, path), content_md: d.contentMd });

export async function findDocument(ctx: Ctx, id: string, opts: { forUpdate?: boolean } = {}): Promise<DocumentRow> {
  const q = ctx.db
    .select()
    .from(documents)
    .where(and(eq(documents.orgId, requireOrg(ctx)), eq(documents.id, id)));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Document');
  return row;
}

async function indexDocument(ctx: Ctx, d: DocumentRow, path: string) {
  await indexEntry(ctx.db, { orgId: d.orgId, kind: 'document', objectId: d.id, title: d.title, body: d.contentMd, meta: { folder: path, tags: d.tags } });
}

async function addRevision(ctx: Ctx, d: DocumentRow) {
  await ctx.db.insert(documentRevisions).values({
    id: newId('documentRevision'),
    orgId: d.orgId,
    documentId: d.id,
    number: d.revision,
    title: d.title,
    contentMd: d.contentMd,
    createdByType: ctx.actorType,
    createdById: ctx.actorId,
  });
}

/** Asks for a summary of this revision; the job drops it if the document has moved on by then. */
const askForSummary = (ctx: Ctx, d: DocumentRow) => enqueueJob(ctx.db, draftSummaryJob, { document_id: d.id, revision: d.revision });

const eventData = (d: DocumentRow, path: string) => ({ title: d.title, kind: d.kind, folder_id: d.folderId, folder: path, tags: d.tags, revision: d.revision });

export interface DocumentFields {
  title?: string;
  kind?: DocumentKind;
  content_md?: string;
  summary?: string | null;
  folder_id?: string | null;
  tags?: string[];
}

export async function createDocument(ctx: Ctx, input: DocumentFields & { title: string }) {
  const orgId = requireOrg(ctx);
  const folder = input.folder_id ? await resolveFolder(ctx, input.folder_id, 'folder_id', { lock: true }) : null;
  const summary = input.summary?.trim() ? input.summary.trim() : null;
  const [row] = await ctx.db
    .insert(documents)
    .values({
      id: newId('document'),
      orgId,
      folderId: folder?.id ?? null,
      title: input.title,
      kind: input.kind ?? 'note',
      contentMd: input.content_md ?? '',
      summary,
      summarySource: summary ? 'author' : null,
      tags: [...new Set(input.tags ?? [])],
      revision: 1,
      createdByType: ctx.actorType,
      createdById: ctx.actorId,
      updatedByType: ctx.actorType,
      updatedById: ctx.actorId,
    })
    .returning();
  const path = await folderPath(ctx, row.folderId);
  await addRevision(ctx, row);
  await indexDocument(ctx, row, path);
  if (!summary) await askForSummary(ctx, row);
  await recordActivity(ctx, { action: 'document.created', entityType: 'document', entityId: row.id, metadata: { title: row.title, folder: path } });
  await recordEvent(ctx.db, { orgId, type: 'document.created', subject: row.id, data: eventData(row, path) });
  return presentDocument(row, path || null);
}

export async function getDocument(ctx: Ctx, id: string) {
  const row = await findDocument(ctx, id);
  return presentDocument(row, (await folderPath(ctx, row.folderId)) || null);
}

export interface DocumentFilters extends PageInput {
  folder_id?: string;
  all?: boolean;
  tag?: string;
  kind?: DocumentKind;
}

/**
 * As BizOS: the documents of one folder (`folder_id`), of the root when none is given, or of the whole org with
 * `all`. Newest first, cursor pages.
 */
export async function listDocuments(ctx: Ctx, input: DocumentFilters) {
  const orgId = requireOrg(ctx);
  const folder = input.folder_id ? await resolveFolder(ctx, input.folder_id) : null;
  const where: (SQL | undefined)[] = [
    eq(documents.orgId, orgId),
    input.all && !folder ? undefined : folder ? eq(documents.folderId, folder.id) : isNull(documents.folderId),
    input.tag ? arrayContains(documents.tags, [input.tag]) : undefined,
    input.kind ? eq(documents.kind, input.kind) : undefined,
  ];
  const paths = new Map<string | null, string>();
  const page = await paginate(
    input,
    documents.id,
    (w) =>
      ctx.db
        .select()
        .from(documents)
        .where(and(...where, w.after))
        .orderBy(desc(documents.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.id,
    (r) => r,
  );
  for (const d of page.data) if (!paths.has(d.folderId)) paths.set(d.folderId, await folderPath(ctx, d.folderId));
  return { data: page.data.map((d) => presentListItem(d, paths.get(d.folderId) || null)), meta: page.meta };
}

export async function updateDocument(ctx: Ctx, input: DocumentFields & { id: string }) {
  const current = await findDocument(ctx, input.id, { forUpdate: true });
  const set: Partial<typeof documents.$inferInsert> = {};
  if (input.title !== undefined) set.title = input.title;
  if (input.content_md !== undefined) set.contentMd = input.content_md;
  if (input.kind !== undefined) set.kind = input.kind;
  if (input.tags !== undefined) set.tags = [...new Set(input.tags)];
  if (input.folder_id !== undefined) set.folderId = input.folder_id === null ? null : (await resolveFolder(ctx, input.folder_id, 'folder_id', { lock: true })).id;
  const textChanged = (set.title !== undefined && set.title !== current.title) || (set.contentMd !== undefined && set.contentMd !== current.contentMd);
  if (textChanged) set.revision = current.revision + 1;
  // A summary given is the author's; `null` (or blank) asks for a drafted one; none given keeps an author's summary
  // and has a drafted one redrafted when the text changed.
  let draft = false;
  if (input.summary !== undefined) {
    const given = input.summary?.trim() || null;
    set.summary = given;
    set.summarySource = given ? 'author' : null;
    draft = !given;
  } else if (textChanged && current.summarySource !== 'author') {
    draft = true;
  }
  const [row] = await ctx.db
    .update(documents)
    .set({ ...set, updatedByType: ctx.actorType, updatedById: ctx.actorId, updatedAt: new Date() })
    .where(eq(documents.id, current.id))
    .returning();
  if (textChanged) await addRevision(ctx, row);
  const path = await folderPath(ctx, row.folderId);
  const indexChanged = textChanged || row.folderId !== current.folderId || input.tags !== undefined;
  if (indexChanged) await indexDocument(ctx, row, path);
  if (draft) await askForSummary(ctx, row);
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'document.updated', entityType: 'document', entityId: row.id, metadata: { changed, revision: row.revision, new_revision: textChanged } });
  await recordEvent(ctx.db, { orgId: row.orgId, type: 'document.updated', subject: row.id, data: { ...eventData(row, path), changed, new_revision: textChanged } });
  return presentDocument(row, path || null);
}

export async function deleteDocument(ctx: Ctx, id: string) {
  const current = await findDocument(ctx, id, { forUpdate: true });
  await removeEntry(ctx.db, 'document', current.id);
  // Its revisions go with it (ON DELETE CASCADE).
  await ctx.db.delete(documents).where(eq(documents.id, current.id));
  await recordActivity(ctx, { action: 'document.deleted', entityType: 'document', entityId: id, metadata: { title: current.title, revisions: current.revision } });
  await recordEvent(ctx.db, { orgId: current.orgId, type: 'document.deleted', subject: id, data: { title: current.title, folder_id: current.folderId } });
  return { id, deleted: true as const };
}
