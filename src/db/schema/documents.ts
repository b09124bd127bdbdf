// Documents (issue 12): markdown documents of an org in a tree of folders, every change of title or content kept as
// a numbered revision. The search index (search_entries) holds a copy of each document's title and content, kept in
// step by the documents module inside the same transaction.
import { sql } from 'drizzle-orm';
import { type AnyPgColumn, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const DOCUMENT_KINDS = ['note', 'policy', 'spec', 'guide', 'other'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
/** Who wrote the summary: an `author` one is never replaced by a drafted one; an `ai` one is redrafted on change. */
export type SummarySource = 'author' | 'ai';

export const folders = pgTable(
  'folders',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** null: at the root. Deleting a folder is the service's work (empty, or recursive): the database refuses otherwise. */
    parentId: text('parent_id').references((): AnyPgColumn => folders.id),
    name: text('name').notNull(),
    createdByType: text('created_by_type').notNull(),
    createdById: text('created_by_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // Names are unique among siblings, whatever their case (paths name folders, and `Policies` vs `policies` would
    // make a path ambiguous). The root is the sibling group of parent '' here.
    uniqueIndex('folders_sibling_name_uq').on(t.orgId, sql`coalesce(${t.parentId}, '')`, sql`lower(${t.name})`),
    index('folders_parent_idx').on(t.parentId),
  ],
);

export const documents = pgTable(
  'documents',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    folderId: text('folder_id').references(() => folders.id),
    title: text('title').notNull(),
    kind: text('kind').$type<DocumentKind>().notNull().default('note'),
    contentMd: text('content_md').notNull().default(''),
    summary: text('summary'),
    summarySource: text('summary_source').$type<SummarySource>(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** The number of the latest revision (1 at creation). */
    revision: integer('revision').notNull().default(1),
    createdByType: text('created_by_type').notNull(),
    createdById: text('created_by_id'),
    updatedByType: text('updated_by_type').notNull(),
    updatedById: text('updated_by_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('documents_org_folder_idx').on(t.orgId, t.folderId, t.id),
    index('documents_org_idx').on(t.orgId, t.id),
    index('documents_tags_idx').using('gin', t.tags),
  ],
);

export const documentRevisions = pgTable(
  'document_revisions',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    documentId: text('document_id')
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    contentMd: text('content_md').notNull(),
    createdByType: text('created_by_type').notNull(),
    createdById: text('created_by_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('document_revisions_number_uq').on(t.documentId, t.number), index('document_revisions_doc_idx').on(t.documentId, t.id)],
);
