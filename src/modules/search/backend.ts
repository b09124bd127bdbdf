// The search backend: one interface, so a server with a BM25 extension can get a backend of its own without the
// operations changing. The PostgreSQL full-text backend (postgres-fts.ts) is the one that ships.
import type { SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import type { SearchKind } from '../../db/schema/search.ts';

export interface KnowledgeQuery {
  orgId: string;
  q: string;
  kinds?: readonly SearchKind[];
  /** Extra conditions on search_entries (e.g. a record type), already scoped by the caller. */
  where?: SQL[];
  limit: number;
  offset?: number;
  /** Highlighted snippets for the returned page (computed for those rows only). */
  snippets?: boolean;
}

export interface KnowledgeHit {
  kind: SearchKind;
  id: string;
  title: string;
  /** HTML-escaped text with the matches in <mark>…</mark>: safe to insert as HTML. */
  snippet: string | null;
  meta: Record<string, unknown>;
  rank: number;
  /** `text`: a (stemmed or prefix) word match; `substring`: found inside a URL, code or title. */
  matched: 'text' | 'substring';
  updated_at: string;
}

/** How many matched: exact up to the cap, then a lower bound (`capped`), never counted past it. */
export interface MatchCount {
  value: number;
  capped: boolean;
  /** `12`, or `1,000+` past the cap. */
  label: string;
}

export interface KnowledgeResult {
  hits: KnowledgeHit[];
  total: MatchCount;
  has_more: boolean;
}

export interface SearchBackend {
  readonly name: string;
  /** Ranked hits over the org's documents, files and records. */
  searchKnowledge(db: DbOrTx, query: KnowledgeQuery): Promise<KnowledgeResult>;
}

/** `lowerBound`: only part of the matches was looked at (a common word's newest entries), so `value` is at least. */
export function matchCount(value: number, cap: number, lowerBound = false): MatchCount {
  const shown = Math.min(value, cap);
  const capped = lowerBound || value >= cap;
  return { value: shown, capped, label: capped ? `${shown.toLocaleString('en-US')}+` : String(value) };
}
