// The one place the search backend is chosen. Only PostgreSQL full-text search ships; a BM25 backend (e.g. for a
// server with pg_search) would be picked here by configuration, and nothing else would change.
import type { SearchBackend } from './backend.ts';
import { postgresFts } from './postgres-fts.ts';

export function searchBackend(): SearchBackend {
  return postgresFts;
}
