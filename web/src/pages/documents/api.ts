// What the document pages share: the folder tree, a folder's documents, one document and its revisions, and the
// mutations, each refreshing every view of documents once the server has answered.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import { usePaged } from '../../ui/table';

export type Folder = Schemas['Folder'];
export type DocumentItem = Schemas['DocumentListItem'];
export type Doc = Schemas['Document'];
export type Revision = Schemas['DocumentRevision'];
export type RevisionDetail = Schemas['DocumentRevisionDetail'];

export const KINDS: Doc['kind'][] = ['note', 'policy', 'spec', 'guide', 'other'];
export const kindOptions = KINDS.map((k) => ({ value: k, label: k }));

/** `all`: every document; `root`: those in no folder; otherwise a folder id. */
export type Place = 'all' | 'root' | string;

export const useFolders = () => useQuery({ queryKey: ['documents', 'folders'], queryFn: () => ok(api.GET('/api/v1/folders')) });

export function useDocuments(place: Place) {
  return usePaged<DocumentItem>(['documents', 'list', place], (cursor) => {
    const query: Record<string, string | number | boolean> = { limit: 50 };
    if (place === 'all') query.all = true;
    else if (place !== 'root') query.folder_id = place;
    if (cursor) query.cursor = cursor;
    return ok(api.GET('/api/v1/documents', { params: { query: query as never } }));
  });
}

export const useDocument = (id: string) =>
  useQuery({ queryKey: ['documents', 'one', id], queryFn: () => ok(api.GET('/api/v1/documents/{id}', { params: { path: { id } } })) });

export const useRevisions = (id: string) =>
  usePaged<Revision>(['documents', 'revisions', id], (cursor) =>
    ok(api.GET('/api/v1/documents/{id}/revisions', { params: { path: { id }, query: { limit: 50, ...(cursor ? { cursor } : {}) } } })),
  );

export const useRevisionDiff = (id: string, number: number, compareTo: number | null) =>
  useQuery({
    queryKey: ['documents', 'revision', id, number, compareTo],
    queryFn: () =>
      ok(
        api.GET('/api/v1/documents/{id}/revisions/{number}', {
          params: { path: { id, number: String(number) }, query: compareTo ? { compare_to: compareTo } : {} },
        }),
      ),
  });

/**
 * A mutation after which every documents query refetches. `first` runs before that (leaving a page whose object is
 * gone): a callback given to `mutate` would be lost when the refetch unmounts the component that asked.
 */
export function useDocsMutation<V, R>(fn: (v: V) => Promise<R>, first?: (result: R) => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: (result) => {
      first?.(result);
      return qc.invalidateQueries({ queryKey: ['documents'] });
    },
  });
}

export const splitTags = (s: string) =>
  s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
