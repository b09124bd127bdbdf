// PostgreSQL full-text search over search_entries. What keeps it fast in a big org (STACK-NOTES: ranking every match
// of a common word in 1M documents takes ~1.7 s, an exact count ~2.2 s):
// - the GIN index leads with org_id (btree_gin), so a small org reads only its own rows; an org that is most of the
//   instance (the usual self-hosted case) reads a rare word's short posting list and checks the org on each row;
// - at most RANK_CAP matches are ranked, and the count stops there ("1,000+"); a common word (by the column's
//   statistics) is looked for among the org's newest entries only, read newest first from the (org_id, updated_at)
//   index, where the GIN index would first collect every one of its matches (180k matches: ~8 ms instead of ~220 ms);
//   a rarer word's matches come from the GIN index;
// - snippets (ts_headline, the costly part per row) are made for the returned page only;
// - substrings (pg_trgm over titles and the URLs/codes of bodies) are looked up only when the string looks like a
//   code or no word matched.
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { executePrepared } from '../../db/prepared.ts';
import { type SearchKind, searchEntries } from '../../db/schema/search.ts';
import { type KnowledgeHit, type KnowledgeQuery, type KnowledgeResult, matchCount, type SearchBackend } from './backend.ts';
import { parseSearch } from './query.ts';

/** The most matches ranked per search; past it the rest is not looked at (see bench/search.ts). */
export const RANK_CAP = 1000;
/** How much of a body a snippet is looked for in. */
const SNIPPET_SCAN_CHARS = 20_000;
// Private-use characters mark the matches in ts_headline's output, so the text can be escaped before they become <mark>.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const GAP = '\uE002';
const HEADLINE = `StartSel=${OPEN}, StopSel=${CLOSE}, FragmentDelimiter=${GAP}, MaxWords=28, MinWords=10, MaxFragments=2`;

interface Row extends Record<string, unknown> {
  kind: SearchKind;
  object_id: string;
  title: string;
  meta: Record<string, unknown>;
  updated_at: string | Date;
  rank: number;
  matched: 'text' | 'substring';
  n: number | string;
  common: boolean;
  headline: string | null;
  head: string | null;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function markHeadline(text: string): string {
  return escapeHtml(text).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>').replaceAll(GAP, ' … ');
}

/** A substring hit's snippet: the text around the first occurrence, with it marked. */
function markSubstring(text: string, needle: string): string | null {
  const at = text.toLowerCase().indexOf(needle.toLowerCase());
  if (at < 0) return null;
  const from = Math.max(0, at - 80);
  const to = Math.min(text.length, at + needle.length + 80);
  const part = (s: string) => escapeHtml(s.replace(/\s+/g, ' '));
  return `${from > 0 ? '… ' : ''}${part(text.slice(from, at))}<mark>${part(text.slice(at, at + needle.length))}</mark>${part(text.slice(at + needle.length, to))}${to < text.length ? ' …' : ''}`;
}

/**
 * The search's conditions. `orgAsFilter`: the org is checked on each row the word's posting list gives rather than
 * matched in the index (`|| ''` keeps the planner from using org_id as an index key; see BIG_ORG_SHARE).
 */
function scope(query: KnowledgeQuery, orgAsFilter = false): SQL {
  const org = orgAsFilter ? sql`${searchEntries.orgId} || '' = ${query.orgId}` : eq(searchEntries.orgId, query.orgId);
  const conds = [org, ...(query.where ?? [])];
  if (query.kinds?.length) conds.push(inArray(searchEntries.kind, [...query.kinds]));
  return and(...conds) as SQL;
}

/**
 * Where a common word's candidates come from: the org's newest COMMON_WINDOW entries, newest first (a btree scan
 * that stops at RANK_CAP matches). A word is common when the column's statistics say it is in at least COMMON_SHARE
 * of the rows (opsbase_text_share over search_term_stats, migration 0020, kept by the maintenance job); a rarer
 * word's matches all come from the GIN index — fewer than
 * COMMON_SHARE of the org, so a bounded number of rows either way.
 */
export const COMMON_SHARE = 0.005;
export const COMMON_WINDOW = 10_000;
/**
 * An org holding at least this share of the entries (opsbase_org_share over search_org_stats, migration 0026) reads a
 * rare word's matches from the index on the words alone and checks the org on each: most of them are its own anyway,
 * and matching the org key in the GIN index made it step through the org's whole posting tree (a word in 383 of a
 * 1M-entry org's documents: 8 ms instead of 0.7 ms). A smaller org keeps the org key, or it would read every other
 * org's matches of the word to throw them away (a small org, a word in 22k entries elsewhere: 160 ms instead of 1 ms).
 */
export const BIG_ORG_SHARE = 0.25;

async function run(db: DbOrTx, query: KnowledgeQuery, withSubstring: boolean): Promise<Row[]> {
  const { tsquery, substring } = parseSearch(query.q);
  const where = scope(query);
  const whereOrgFiltered = scope(query, true);
  const limit = query.limit + 1;
  const substringBranch =
    withSubstring && substring
      ? sql`union all (select kind, object_id, 0::real as rank, 'substring' as matched from search_entries, q
          where ${where} and terms ilike ${substring} and not (tsv @@ q.query) order by updated_at desc limit ${RANK_CAP})`
      : sql``;
  // Each branch runs only when its one-time conditions hold (InitPlans), so a search reads one of the three paths.
  return executePrepared<Row>(db, 'search', sql`
    with q as (select ${tsquery} as query),
    common as (select opsbase_text_share('search_entries', q.query) >= ${COMMON_SHARE} as yes from q),
    big as (select opsbase_org_share('search_entries', ${query.orgId}) >= ${BIG_ORG_SHARE} as yes),
    c as (
      (select kind, object_id, ts_rank(tsv, q.query) as rank, 'text' as matched from search_entries, q
        where ${where} and tsv @@ q.query and not (select yes from common) and not (select yes from big) limit ${RANK_CAP})
      union all
      (select kind, object_id, ts_rank(tsv, q.query) as rank, 'text' as matched from search_entries, q
        where ${whereOrgFiltered} and tsv @@ q.query and not (select yes from common) and (select yes from big) limit ${RANK_CAP})
      union all
      (select w.kind, w.object_id, ts_rank(w.tsv, q.query) as rank, 'text' as matched
        from (select kind, object_id, tsv from search_entries where ${where} and (select yes from common)
              order by updated_at desc limit ${COMMON_WINDOW}) w, q
        where w.tsv @@ q.query limit ${RANK_CAP})
      ${substringBranch}
    ),
    top as (
      select kind, object_id, rank, matched, count(*) over () as n from c
      order by rank desc, object_id desc limit ${limit} offset ${query.offset ?? 0}
    )
    select e.kind, e.object_id, e.title, e.meta, e.updated_at, top.rank, top.matched, top.n, (select yes from common) as common,
      case when ${query.snippets ?? false} and top.matched = 'text'
        then ts_headline('english', left(e.body, ${SNIPPET_SCAN_CHARS}), q.query, ${HEADLINE}) end as headline,
      case when ${query.snippets ?? false} and top.matched = 'substring' then left(e.body, ${SNIPPET_SCAN_CHARS}) end as head
    from top join search_entries e on e.kind = top.kind and e.object_id = top.object_id, q
    order by top.rank desc, top.object_id desc`);
}

function toHit(row: Row, q: string): KnowledgeHit {
  let snippet: string | null = null;
  if (row.headline) snippet = markHeadline(row.headline);
  else if (row.matched === 'substring') snippet = markSubstring(row.head ?? '', q.trim()) ?? markSubstring(row.title, q.trim());
  return {
    kind: row.kind,
    id: row.object_id,
    title: row.title,
    snippet,
    meta: row.meta,
    rank: Number(row.rank),
    matched: row.matched,
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export const postgresFts: SearchBackend = {
  name: 'postgres-fts',
  async searchKnowledge(db, query): Promise<KnowledgeResult> {
    const { looksLikeCode, substring } = parseSearch(query.q);
    let rows = await run(db, query, looksLikeCode);
    // No word matched: look inside URLs, codes and titles too (a partial word is already a prefix match).
    if (!looksLikeCode && substring && rows.length === 0 && !query.offset) rows = await run(db, query, true);
    return {
      hits: rows.slice(0, query.limit).map((r) => toHit(r, query.q)),
      // A common word was looked for among the newest entries only: what was found is a lower bound.
      total: matchCount(Number(rows[0]?.n ?? 0), RANK_CAP, rows[0]?.common ?? false),
      has_more: rows.length > query.limit,
    };
  },
};
