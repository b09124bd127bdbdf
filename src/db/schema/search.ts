// Search (issue 12): one index of the org's knowledge — documents, files and workspace records — kept by the modules
// that own them, in the same transaction as the change (src/modules/search/entries.ts). One table means one ranked
// query for `search.retrieve` and one place a different backend (a BM25 extension) has to index.
// The weighted `tsv` and the `terms` column (URLs, codes, e-mail addresses found by substring through pg_trgm) are
// generated columns written by hand in the migration: drizzle cannot express them.
import { index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const SEARCH_KINDS = ['document', 'file', 'record'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export const searchEntries = pgTable(
  'search_entries',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<SearchKind>().notNull(),
    objectId: text('object_id').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    /** Where the hit is, shown with it: a document's folder path, a file's path, a record's type and product. */
    meta: jsonb('meta').$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  // Newest first, per org and per kind: a very common word's candidates are read in this order and stop at the cap,
  // instead of collecting every match from the GIN index first (measured: 8 ms instead of 220 ms for 180k matches).
  (t) => [
    primaryKey({ columns: [t.kind, t.objectId] }),
    index('search_entries_org_updated_idx').on(t.orgId, t.updatedAt),
    index('search_entries_org_kind_idx').on(t.orgId, t.kind, t.updatedAt),
  ],
);
