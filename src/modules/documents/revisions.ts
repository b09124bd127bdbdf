// A document's revisions: 1 at creation, one more for every update that changed its title or content. A revision
// is read by its number; `compare_to` another number adds the line diff from that one to this one.
import { and, desc, eq, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { paginate, type PageInput } from '../../core/pagination.ts';
import { documentRevisions } from '../../db/schema/documents.ts';
import { diffLines, unifiedText } from './diff.ts';
import { findDocument } from './service.ts';

type RevisionRow = Omit<typeof documentRevisions.$inferSelect, 'contentMd' | 'orgId'> & { lines: number };

function presentRevision(r: RevisionRow) {
  return {
    id: r.id,
    document_id: r.documentId,
    number: r.number,
    title: r.title,
    lines: r.lines,
    created_by: { type: r.createdByType, id: r.createdById },
    created_at: r.createdAt.toISOString(),
  };
}

/** Lines as the diff counts them: a final newline ends the last line rather than starting another. */
const countLines = (text: string) => (text === '' ? 0 : text.replace(/\n$/, '').split('\n').length);

/** A list row: the line count computed in the database, so a page of revisions never carries their content. */
const listColumns = {
  id: documentRevisions.id,
  documentId: documentRevisions.documentId,
  number: documentRevisions.number,
  title: documentRevisions.title,
  createdByType: documentRevisions.createdByType,
  createdById: documentRevisions.createdById,
  createdAt: documentRevisions.createdAt,
  lines: sql<number>`case when ${documentRevisions.contentMd} = '' then 0
    else array_length(string_to_array(regexp_replace(${documentRevisions.contentMd}, E'\\n$', ''), E'\\n'), 1) end`.mapWith(Number),
};

export async function listRevisions(ctx: Ctx, input: PageInput & { id: string }) {
  const doc = await findDocument(ctx, input.id);
  return paginate(
    input,
    documentRevisions.id,
    (w) =>
      ctx.db
        .select(listColumns)
        .from(documentRevisions)
        .where(and(eq(documentRevisions.documentId, doc.id), w.after))
        .orderBy(desc(documentRevisions.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.id,
    (r) => presentRevision(r),
  );
}

async function revision(ctx: Ctx, documentId: string, number: number, field: string) {
  if (number < 1) throw new AppError('not_found', 'Revision not found.', { field });
  const [row] = await ctx.db
    .select()
    .from(documentRevisions)
    .where(and(eq(documentRevisions.orgId, requireOrg(ctx)), eq(documentRevisions.documentId, documentId), eq(documentRevisions.number, number)));
  if (!row) throw new AppError('not_found', `Revision ${number} not found.`, { field });
  return row;
}

export async function getRevision(ctx: Ctx, input: { id: string; number: string; compare_to?: number }) {
  const doc = await findDocument(ctx, input.id);
  const number = /^\d{1,9}$/.test(input.number) ? Number(input.number) : 0;
  const row = await revision(ctx, doc.id, number, 'number');
  const out = { ...presentRevision({ ...row, lines: countLines(row.contentMd) }), content_md: row.contentMd };
  if (input.compare_to === undefined) return out;
  const base = await revision(ctx, doc.id, input.compare_to, 'compare_to');
  const d = diffLines(base.contentMd, row.contentMd);
  return {
    ...out,
    diff: {
      from: base.number,
      to: row.number,
      title_changed: base.title !== row.title,
      from_title: base.title,
      added: d.added,
      removed: d.removed,
      lines: d.lines,
      unified: unifiedText(d.lines),
    },
  };
}
