CREATE TABLE "search_entries" (
	"org_id" text NOT NULL,
	"kind" text NOT NULL,
	"object_id" text NOT NULL,
	"title" text NOT NULL,
	"body" text DEFAULT '' NOT NULL,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "search_entries_kind_object_id_pk" PRIMARY KEY("kind","object_id")
);
--> statement-breakpoint
ALTER TABLE "search_entries" ADD CONSTRAINT "search_entries_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "search_entries_org_updated_idx" ON "search_entries" USING btree ("org_id","updated_at");--> statement-breakpoint
CREATE INDEX "search_entries_org_kind_idx" ON "search_entries" USING btree ("org_id","kind","updated_at");--> statement-breakpoint
-- Hand-written (drizzle cannot express these). `tsv`: title weighted A, body B, for ranked full-text search.
-- `terms`: the title and every URL, code, number or e-mail address of the body (a token holding a digit or joined
-- by / . : _ # @ -), lowercased, for substring search through pg_trgm — small next to a trigram index of whole
-- bodies. Both indexes lead with org_id (btree_gin), so a search reads one org's rows only.
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE FUNCTION opsbase_search_terms(title text, body text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT lower(coalesce(title, '')) || ' ' || coalesce((
    SELECT string_agg(DISTINCT lower(m[1]), ' ')
    FROM regexp_matches(left(coalesce(body, ''), 200000), '(\S*(?:\w[/.:_#@-]\w|\d)\S*)', 'g') AS m
  ), '')
$$;--> statement-breakpoint
ALTER TABLE "search_entries" ADD COLUMN "tsv" tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', "title"), 'A') || setweight(to_tsvector('english', left("body", 500000)), 'B')) STORED;--> statement-breakpoint
ALTER TABLE "search_entries" ADD COLUMN "terms" text GENERATED ALWAYS AS (opsbase_search_terms("title", "body")) STORED;--> statement-breakpoint
CREATE INDEX "search_entries_org_tsv_idx" ON "search_entries" USING gin ("org_id", "tsv");--> statement-breakpoint
CREATE INDEX "search_entries_org_terms_idx" ON "search_entries" USING gin ("org_id", "terms" gin_trgm_ops);
--> statement-breakpoint
-- The lexemes common in a tsvector column, with the share of rows holding each: a copy of what ANALYZE keeps in
-- pg_stats (most_common_elems), refreshed by the maintenance job (opsbase_refresh_term_stats), because reading and
-- unpacking pg_stats on every search costs ~7 ms and this look-up well under one. Search reads a common word's
-- candidates newest first from a btree index and a rare word's from the GIN index (src/modules/search/postgres-fts.ts):
-- the planner cannot tell them apart itself when the query is a parameter.
CREATE TABLE search_term_stats (tbl text NOT NULL, lexeme text COLLATE "C" NOT NULL, share real NOT NULL, PRIMARY KEY (tbl, lexeme));--> statement-breakpoint
CREATE FUNCTION opsbase_refresh_term_stats(tbl text, col text) RETURNS integer LANGUAGE sql AS $$
  DELETE FROM search_term_stats AS t WHERE t.tbl = opsbase_refresh_term_stats.tbl;
  INSERT INTO search_term_stats (tbl, lexeme, share)
    SELECT DISTINCT ON (u.elem) opsbase_refresh_term_stats.tbl, u.elem, u.freq
    FROM pg_stats AS s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(elem, freq)
    WHERE s.schemaname = current_schema() AND s.tablename = opsbase_refresh_term_stats.tbl AND s.attname = col AND u.elem IS NOT NULL;
  SELECT count(*)::integer FROM search_term_stats AS t WHERE t.tbl = opsbase_refresh_term_stats.tbl;
$$;--> statement-breakpoint
-- The share of a table's rows a text query matches: the smallest share over the query's lexemes, a prefix counting
-- every common lexeme it starts; 0 when none is common (a rare word).
CREATE FUNCTION opsbase_text_share(tbl text, q tsquery) RETURNS real LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH terms AS (
    SELECT m[1] AS lexeme, m[2] IS NOT NULL AS prefix
    FROM regexp_matches(q::text, '''((?:[^'']|'''')+)''(:\*)?', 'g') AS m
  )
  SELECT coalesce(min(share), 0)::real FROM (
    SELECT (SELECT coalesce(sum(s.share), 0) FROM search_term_stats AS s
            WHERE s.tbl = opsbase_text_share.tbl
              AND (s.lexeme = t.lexeme COLLATE "C"
                   OR (t.prefix AND s.lexeme >= t.lexeme COLLATE "C" AND s.lexeme < (t.lexeme || chr(1114111)) COLLATE "C"))) AS share
    FROM terms AS t
  ) AS x
$$;
