// The global search query, shared by the search page and the palette.
import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';

export type SearchGroup = Schemas['SearchResults']['groups'][number];
export type SearchHit = Schemas['SearchHit'];
export type SearchKind = SearchGroup['kind'];

export const KIND_LABEL: Record<SearchKind, string> = {
  task: 'Tasks',
  agent: 'Agents',
  document: 'Documents',
  file: 'Files',
  record: 'Records',
};

/** Everything the org has matching `q` (nothing is asked before 2 characters). */
export function useGlobalSearch(q: string, opts: { types?: SearchKind; limit?: number } = {}) {
  const text = q.trim();
  return useQuery({
    queryKey: ['search', text, opts.types ?? 'all', opts.limit ?? 5],
    queryFn: () => ok(api.GET('/api/v1/search', { params: { query: { q: text, types: opts.types, limit: opts.limit } } })),
    enabled: text.length >= 2,
    placeholderData: (previous) => previous,
  });
}
