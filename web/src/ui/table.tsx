// Lists: the first page comes from one request; "Load more" (or scrolling to the end) follows `meta.next_cursor`.
import { type InfiniteData, useInfiniteQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { cell } from './format';
import { Button, ErrorNote, Loading } from './kit';
import { useInfiniteScroll } from './scroll';

export interface Page<T> {
  data: T[];
  meta?: { next_cursor: string | null; has_more: boolean };
}

export interface Column<T> {
  key: string;
  label?: string;
  render?: (row: T) => ReactNode;
}

export function Table<T>({ rows, columns, caption, rowKey }: { rows: T[]; columns: Column<T>[]; caption: string; rowKey?: (row: T) => string }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-zinc-50 text-xs uppercase tracking-wide text-zinc-600 dark:bg-zinc-900 dark:text-zinc-400">
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className="whitespace-nowrap px-3 py-2 font-medium">
                {c.label ?? c.key.replaceAll('_', ' ')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {rows.map((row, i) => (
            <tr key={rowKey ? rowKey(row) : ((row as { id?: string }).id ?? i)} className="hover:bg-zinc-50 dark:hover:bg-zinc-900/60">
              {columns.map((c) => (
                <td key={c.key} className="max-w-[28rem] truncate px-3 py-2 align-middle">
                  {c.render ? c.render(row) : cell((row as Record<string, unknown>)[c.key])}
                </td>
              ))}
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="px-3 py-6 text-center text-zinc-600 dark:text-zinc-400">
                Nothing here yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A cursor-paged list query (`{ data, meta }`), flattened. */
export function usePaged<T>(key: unknown[], fetchPage: (cursor: string | undefined) => Promise<Page<T>>, opts: { enabled?: boolean } = {}) {
  const q = useInfiniteQuery<Page<T>, Error, InfiniteData<Page<T>>, unknown[], string | undefined>({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined,
    getNextPageParam: (last) => (last.meta?.has_more ? (last.meta.next_cursor ?? undefined) : undefined),
    enabled: opts.enabled,
  });
  return { ...q, rows: q.data?.pages.flatMap((p) => p.data) ?? [] };
}

export function PagedTable<T>({
  query,
  columns,
  caption,
  autoLoad,
}: {
  query: ReturnType<typeof usePaged<T>>;
  columns: Column<T>[];
  caption: string;
  /** Load the next page when the end of the list scrolls into view (infinite scroll). */
  autoLoad?: boolean;
}) {
  const scrollEnd = useInfiniteScroll(autoLoad ? query : { hasNextPage: false, isFetchingNextPage: false, fetchNextPage: () => {} });
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  if (query.isPending) return <Loading />;
  if (query.error) return <ErrorNote error={query.error} />;
  return (
    <div className="space-y-3">
      <Table rows={query.rows} columns={columns} caption={caption} />
      <div ref={scrollEnd} className="flex justify-center">
        {hasNextPage && (
          <Button variant="secondary" disabled={isFetchingNextPage} onClick={() => fetchNextPage()}>
            {isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        )}
      </div>
    </div>
  );
}
