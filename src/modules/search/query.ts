// What a search string becomes. Words are matched stemmed through full-text search, the last one also as a prefix
// (people type "refu" and expect "refund"); a string with URL or code characters is also looked up as a
// substring (pg_trgm) of the titles and of the URLs/codes of the bodies (search_entries.terms).
import { type SQL, sql } from 'drizzle-orm';

/** websearch syntax people use on purpose: a quoted phrase, `-word`, `or`. Then the text goes as is. */
const OPERATORS = /["]|(^|\s)-\S|\sor\s/i;
const WORD = /[\p{L}\p{N}]+/gu;

export interface ParsedSearch {
  /** The tsquery to match and rank with. */
  tsquery: SQL;
  /** The ILIKE pattern for substring search, when the string is long enough for trigrams (3+ characters). */
  substring: string | null;
  /** Holds characters a word search cannot find (`/`, `.`, `-`, digits…): look for it as a substring too. */
  looksLikeCode: boolean;
}

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function parseSearch(raw: string): ParsedSearch {
  const q = raw.trim();
  const words = q.match(WORD) ?? [];
  let tsquery: SQL;
  if (OPERATORS.test(q) || words.length === 0) tsquery = sql`websearch_to_tsquery('english', ${q})`;
  else {
    // Only letters and digits reach to_tsquery, so its syntax cannot be injected; stop words vanish in it as they
    // do in websearch_to_tsquery.
    const last = words[words.length - 1];
    const text = [...words.slice(0, -1), last.length >= 2 ? `${last}:*` : last].join(' & ');
    tsquery = sql`to_tsquery('english', ${text})`;
  }
  const substring = q.length >= 3 ? likePattern(q) : null;
  return { tsquery, substring, looksLikeCode: /[^\p{L}\s]/u.test(q) };
}
