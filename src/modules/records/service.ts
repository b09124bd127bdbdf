// Workspace records (issue 12, BizBasics `003_…`): other products publish summaries of their objects here, keyed by
// (org, source_product, record_type, source_ref). The upsert is one INSERT … ON CONFLICT whose update only happens
// when the content hash differs, so any number of concurrent identical calls make one row and one revision: the
// first inserts, the rest wait on the unique index, then find the same hash and change nothing.
import { createHash } from 'node:crypto';
import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { newId } from '../../core/ids.ts';
import { notFound } from '../../core/errors.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { workspaceRecordRevisions, workspaceRecords } from '../../db/schema/records.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { indexEntry, removeEntry } from '../search/entries.ts';

type RecordRow = typeof workspaceRecords.$inferSelect;

export function presentRecord(r: RecordRow) {
  return {
    id: r.id,
    org_id: r.orgId,
    source_product: r.sourceProduct,
    record_type: r.recordType,
    source_ref: r.sourceRef,
    title: r.title,
    subtitle: r.subtitle,
    summary_text: r.summaryText,
    app_href: r.appHref,
    meta: r.meta,
    status: r.status,
    tags: r.tags,
    revision: r.revision,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

export interface RecordContent {
  title: string;
  subtitle?: string | null;
  summary_text?: string | null;
  app_href?: string | null;
  meta?: Record<string, unknown>;
  status?: string;
  tags?: string[];
}

export interface UpsertRecordInput extends RecordContent {
  source_product: string;
  record_type: string;
  source_ref: string;
}

/** JSON with object keys sorted at every depth: the same content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The record's content as stored: a field left out of an upsert is cleared (a publish replaces the summary). */
function contentOf(input: RecordContent) {
  const c = {
    title: input.title,
    subtitle: input.subtitle ?? null,
    summaryText: input.summary_text ?? null,
    appHref: input.app_href ?? null,
    meta: input.meta ?? {},
    status: input.status ?? 'active',
    tags: [...new Set(input.tags ?? [])],
  };
  return { ...c, contentHash: createHash('sha256').update(canonical(c)).digest('hex') };
}

export async function upsertRecord(ctx: Ctx, input: UpsertRecordInput) {
  const orgId = requireOrg(ctx);
  const content = contentOf(input);
  const key = { sourceProduct: input.source_product, recordType: input.record_type, sourceRef: input.source_ref };
  const [written] = await ctx.db
    .insert(workspaceRecords)
    .values({ id: newId('record'), orgId, ...key, ...content })
    .onConflictDoUpdate({
      target: [workspaceRecords.orgId, workspaceRecords.sourceProduct, workspaceRecords.recordType, workspaceRecords.sourceRef],
      set: { ...content, revision: sql`${workspaceRecords.revision} + 1`, updatedAt: new Date() },
      // Same content: no update, no new revision (the row is still locked until this transaction ends).
      setWhere: sql`${workspaceRecords.contentHash} <> ${content.contentHash}`,
    })
    .returning({ ...getTableColumns(workspaceRecords), inserted: sql<boolean>`(xmax = 0)` });

  if (!written) {
    const [same] = await ctx.db
      .select()
      .from(workspaceRecords)
      .where(and(eq(workspaceRecords.orgId, orgId), eq(workspaceRecords.sourceProduct, key.sourceProduct), eq(workspaceRecords.recordType, key.recordType), eq(workspaceRecords.sourceRef, key.sourceRef)));
    return { workspace_record_id: same.id, status: 'unchanged' as const, record: presentRecord(same) };
  }
  const { inserted, ...row } = written;
  const status = inserted ? ('created' as const) : ('updated' as const);
  await ctx.db.insert(workspaceRecordRevisions).values({ id: newId('recordRevision'), orgId, recordId: row.id, revision: row.revision, ...content });
  await indexEntry(ctx.db, {
    orgId,
    kind: 'record',
    objectId: row.id,
    title: row.title,
    body: [row.subtitle, row.summaryText, row.tags.join(' ')].filter(Boolean).join('\n'),
    meta: { record_type: row.recordType, source_product: row.sourceProduct, source_ref: row.sourceRef },
  });
  await recordEvent(ctx.db, {
    orgId,
    type: 'record.upserted',
    subject: row.id,
    data: { source_product: row.sourceProduct, record_type: row.recordType, source_ref: row.sourceRef, status, revision: row.revision },
  });
  await recordActivity(ctx, {
    action: `record.${status}`,
    entityType: 'workspace_record',
    entityId: row.id,
    metadata: { source_product: row.sourceProduct, record_type: row.recordType, source_ref: row.sourceRef, revision: row.revision },
  });
  return { workspace_record_id: row.id, status, record: presentRecord(row) };
}

async function findRecord(ctx: Ctx, id: string) {
  const [row] = await ctx.db
    .select()
    .from(workspaceRecords)
    .where(and(eq(workspaceRecords.id, id), eq(workspaceRecords.orgId, requireOrg(ctx))));
  if (!row) throw notFound('Record');
  return row;
}

export async function getRecord(ctx: Ctx, id: string) {
  return presentRecord(await findRecord(ctx, id));
}

export async function listRevisions(ctx: Ctx, id: string) {
  const record = await findRecord(ctx, id);
  const rows = await ctx.db
    .select()
    .from(workspaceRecordRevisions)
    .where(and(eq(workspaceRecordRevisions.recordId, record.id), eq(workspaceRecordRevisions.orgId, record.orgId)))
    .orderBy(asc(workspaceRecordRevisions.revision));
  return {
    data: rows.map((r) => ({
      revision: r.revision,
      title: r.title,
      subtitle: r.subtitle,
      summary_text: r.summaryText,
      app_href: r.appHref,
      meta: r.meta,
      status: r.status,
      tags: r.tags,
      created_at: r.createdAt.toISOString(),
    })),
  };
}

export interface RecordFilters extends PageInput {
  record_type?: string;
  source_product?: string;
  status?: string;
}

export async function listRecords(ctx: Ctx, input: RecordFilters) {
  return listNewestFirst(
    ctx.db,
    workspaceRecords,
    input,
    [
      eq(workspaceRecords.orgId, requireOrg(ctx)),
      input.record_type ? eq(workspaceRecords.recordType, input.record_type) : undefined,
      input.source_product ? eq(workspaceRecords.sourceProduct, input.source_product) : undefined,
      input.status ? eq(workspaceRecords.status, input.status) : undefined,
    ],
    presentRecord,
  );
}

export async function deleteRecord(ctx: Ctx, id: string) {
  const row = await findRecord(ctx, id);
  await ctx.db.delete(workspaceRecords).where(eq(workspaceRecords.id, row.id));
  await removeEntry(ctx.db, 'record', row.id);
  await recordActivity(ctx, {
    action: 'record.deleted',
    entityType: 'workspace_record',
    entityId: row.id,
    metadata: { source_product: row.sourceProduct, record_type: row.recordType, source_ref: row.sourceRef },
  });
  return { id: row.id, deleted: true as const };
}
