// Files (issue 12): the org's uploaded files, one per path (an upload to a known path replaces its content and bumps
// `version`). The bytes live in the blob store (data dir or S3), content-addressed by SHA-256 per org, so two paths
// with the same content share one blob; the text extracted from them (PDF, DOCX, HTML, plain text) is kept here for
// `files.get` and in the search index.
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const EXTRACTION_STATES = ['pending', 'done', 'failed', 'skipped'] as const;
export type ExtractionState = (typeof EXTRACTION_STATES)[number];

export const files = pgTable(
  'files',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** Where it sits in the org (`contracts/acme.pdf`): unique per org, the upsert key. */
    path: text('path').notNull(),
    name: text('name').notNull(),
    /** MIME type. */
    type: text('type').notNull(),
    category: text('category'),
    size: bigint('size', { mode: 'number' }).notNull(),
    /** SHA-256 (hex) of the bytes: the blob's address. */
    contentHash: text('content_hash').notNull(),
    /** 1 on upload; +1 each time new content replaces it. */
    version: integer('version').notNull().default(1),
    textContent: text('text_content'),
    extractionStatus: text('extraction_status').$type<ExtractionState>().notNull().default('pending'),
    extractionError: text('extraction_error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('files_org_path_idx').on(t.orgId, t.path),
    index('files_org_id_idx').on(t.orgId, t.id),
    index('files_org_hash_idx').on(t.orgId, t.contentHash),
  ],
);
