// Lists: `{ data, meta: { limit, next_cursor, has_more } }`, `?limit=` (default 50, max 200), `?cursor=` or `?offset=`.
// Cursors are opaque base64url of the last row's sort key (its id: ids are time-sortable).
import { z } from 'zod';
import { and, desc, type InferSelectModel, lt, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../db/client.ts';
import { invalid } from './errors.ts';

export const PageInput = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size (1–200, default 50)'),
  cursor: z.string().max(200).optional().describe('Opaque cursor from `meta.next_cursor` of the previous page'),
  offset: z.coerce.number().int().min(0).max(100000).optional().describe('Rows to skip (alternative to cursor)'),
});
export type PageInput = z.infer<typeof PageInput>;

export const PageMeta = z.object({
  limit: z.number().int(),
  next_cursor: z.string().nullable(),
  has_more: z.boolean(),
});

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), meta: PageMeta });
}

export function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,5}_[0-9a-z]{26}$/.test(value)) throw invalid('Invalid cursor: pass `meta.next_cursor` from the previous page unchanged.');
  return value;
}

/** Turns `limit + 1` fetched rows into a page; `key` gives each row's cursor value (newest first lists use id). */
export function toPage<T>(rows: T[], limit: number, key: (row: T) => string) {
  const has_more = rows.length > limit;
  const data = has_more ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, meta: { limit, next_cursor: has_more && last ? encodeCursor(key(last)) : null, has_more } };
}

export interface PageWindow {
  /** `id < cursor` when a cursor was given: AND it into the query's where clause. */
  after: SQL | undefined;
  limit: number;
  offset: number;
}

/**
 * Newest-first keyset pagination on a time-sortable id column: `fetch` runs the query (ordered by `idColumn`
 * descending) with the window's condition, limit and offset; rows become `{ data, meta }`.
 */
export async function paginate<R, T>(
  input: PageInput,
  idColumn: AnyPgColumn,
  fetch: (w: PageWindow) => Promise<R[]>,
  key: (row: R) => string,
  present: (row: R) => T,
) {
  const cursor = decodeCursor(input.cursor);
  const rows = await fetch({ after: cursor ? lt(idColumn, cursor) : undefined, limit: input.limit + 1, offset: cursor ? 0 : (input.offset ?? 0) });
  const page = toPage(rows, input.limit, key);
  return { data: page.data.map(present), meta: page.meta };
}

type TableWithId = PgTable & { id: AnyPgColumn };

/**
 * The common list: a table's rows matching `where` (conditions ANDed; undefined ones skipped), newest first by
 * id, through `paginate`. Lists with joins or their own SQL call `paginate` directly.
 */
export function listNewestFirst<TTable extends TableWithId, T>(
  db: DbOrTx,
  table: TTable,
  input: PageInput,
  where: (SQL | undefined)[],
  present: (row: InferSelectModel<TTable>) => T,
) {
  return paginate(
    input,
    table.id,
    (w) =>
      db
        .select()
        .from(table as PgTable)
        .where(and(...where, w.after))
        .orderBy(desc(table.id))
        .limit(w.limit)
        .offset(w.offset) as unknown as Promise<InferSelectModel<TTable>[]>,
    (r) => (r as { id: string }).id,
    present,
  );
}
