// The modules that own documents, files and workspace records keep their rows in the search index here, inside the
// transaction of the change, so search never shows what was rolled back nor misses what was committed.
import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { type SearchKind, searchEntries } from '../../db/schema/search.ts';

/** Text past this is not indexed (a tsvector holds at most 1 MB; the generated column also cuts at 500,000). */
const MAX_BODY_CHARS = 500_000;

export interface SearchEntry {
  orgId: string;
  kind: SearchKind;
  objectId: string;
  title: string;
  body?: string | null;
  /** Shown with a hit to say where it is: `{ folder }`, `{ path }`, `{ record_type, source_product }`. */
  meta?: Record<string, unknown>;
}

/** Adds or replaces the entry of one object. */
export async function indexEntry(db: DbOrTx, entry: SearchEntry): Promise<void> {
  const row = {
    orgId: entry.orgId,
    kind: entry.kind,
    objectId: entry.objectId,
    title: entry.title,
    // NUL cannot be stored in a PostgreSQL text column; extracted text sometimes carries it.
    body: (entry.body ?? '').slice(0, MAX_BODY_CHARS).replaceAll('\u0000', ''),
    meta: entry.meta ?? {},
  };
  await db
    .insert(searchEntries)
    .values(row)
    .onConflictDoUpdate({
      target: [searchEntries.kind, searchEntries.objectId],
      set: { title: row.title, body: row.body, meta: row.meta, updatedAt: sql`now()` },
    });
}

/** Removes the entry of one object (nothing happens when it has none). */
export async function removeEntry(db: DbOrTx, kind: SearchKind, objectId: string): Promise<void> {
  await db.delete(searchEntries).where(and(eq(searchEntries.kind, kind), eq(searchEntries.objectId, objectId)));
}
