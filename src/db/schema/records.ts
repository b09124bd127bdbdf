// Workspace records (issue 12, BizBasics `003_…`): summaries of other products' objects (a CRM deal, an invoice)
// published into the org so people and agents find them. One row per (org, source_product, record_type,
// source_ref); an upsert that changes the content bumps `revision` and keeps the content as it was in
// `workspace_record_revisions`, so the history of a record is there to step through.
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The content of a record: what a revision keeps and the content hash covers. */
const content = () => ({
  title: text('title').notNull(),
  subtitle: text('subtitle'),
  summaryText: text('summary_text'),
  appHref: text('app_href'),
  meta: jsonb('meta').$type<Record<string, unknown>>().notNull().default({}),
  status: text('status').notNull().default('active'),
  tags: text('tags').array().notNull().default([]),
  /** SHA-256 of the content above in a canonical form: equal hashes mean nothing changed. */
  contentHash: text('content_hash').notNull(),
});

export const workspaceRecords = pgTable(
  'workspace_records',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    sourceProduct: text('source_product').notNull(),
    recordType: text('record_type').notNull(),
    sourceRef: text('source_ref').notNull(),
    ...content(),
    revision: integer('revision').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('workspace_records_key_idx').on(t.orgId, t.sourceProduct, t.recordType, t.sourceRef),
    index('workspace_records_org_id_idx').on(t.orgId, t.id),
    index('workspace_records_org_type_idx').on(t.orgId, t.recordType, t.id),
  ],
);

export const workspaceRecordRevisions = pgTable(
  'workspace_record_revisions',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    recordId: text('record_id')
      .notNull()
      .references(() => workspaceRecords.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    ...content(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('workspace_record_revisions_record_idx').on(t.recordId, t.revision)],
);
