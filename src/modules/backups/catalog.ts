// What the database holds, read from PostgreSQL's catalog at the moment of a backup or an export: every table of the
// application's schemas (so a table another module adds later is included with no change here), its columns with
// their types, its foreign keys, and the sequences. Nothing here lists tables by name.
import type pg from 'pg';

/** The application's schemas: `public` (every module's tables) and `drizzle` (the applied migrations). */
export const SCHEMAS = ['public', 'drizzle'] as const;
export const MIGRATIONS_TABLE = 'drizzle.__drizzle_migrations';

export interface Column {
  name: string;
  /** As `format_type` writes it (`timestamp with time zone`, `text[]`, `numeric(20,4)`): values are cast back to it. */
  type: string;
  /** `GENERATED ALWAYS AS (…) STORED`: computed by the server, never written. */
  generated: boolean;
  /** An identity column (`GENERATED … AS IDENTITY`): written with OVERRIDING SYSTEM VALUE. */
  identity: boolean;
}

export interface Table {
  /** Schema-qualified and quoted, ready for SQL: `"public"."tasks"`. */
  sql: string;
  /** `public.tasks` */
  name: string;
  columns: Column[];
}

export interface ForeignKey {
  /** The referencing table (`public.tasks`) and columns. */
  table: string;
  columns: string[];
  /** The referenced table and columns. */
  refTable: string;
  refColumns: string[];
}

export interface SequenceState {
  /** `public.queue_jobs_seq_seq` */
  name: string;
  lastValue: string;
  isCalled: boolean;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
export const qualified = (name: string) =>
  name
    .split('.')
    .map((p) => quoteIdent(p))
    .join('.');

/** Every ordinary and partitioned table (not partitions: rows are read and written through their parent). */
export async function listTables(db: Queryable): Promise<Table[]> {
  const { rows } = await db.query<{ schema: string; table: string; columns: Column[] }>(
    `select n.nspname as schema, c.relname as table,
            json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                     'generated', a.attgenerated <> '', 'identity', a.attidentity <> '') order by a.attnum) as columns
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = any($1) and c.relkind in ('r', 'p') and not c.relispartition
      group by n.nspname, c.relname
      order by n.nspname, c.relname`,
    [SCHEMAS],
  );
  return rows.map((r) => ({ name: `${r.schema}.${r.table}`, sql: `${quoteIdent(r.schema)}.${quoteIdent(r.table)}`, columns: r.columns }));
}

export async function listForeignKeys(db: Queryable): Promise<ForeignKey[]> {
  const { rows } = await db.query<ForeignKey>(
    `select cn.nspname || '.' || cl.relname as "table", rn.nspname || '.' || rl.relname as "refTable",
            (select array_agg(a.attname::text order by k.i) from unnest(con.conkey) with ordinality k(n, i)
               join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n) as columns,
            (select array_agg(a.attname::text order by k.i) from unnest(con.confkey) with ordinality k(n, i)
               join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n) as "refColumns"
       from pg_constraint con
       join pg_class cl on cl.oid = con.conrelid join pg_namespace cn on cn.oid = cl.relnamespace
       join pg_class rl on rl.oid = con.confrelid join pg_namespace rn on rn.oid = rl.relnamespace
      where con.contype = 'f' and cn.nspname = any($1)
      order by 1, 2`,
    [SCHEMAS],
  );
  return rows;
}

/** Every sequence's position, so a restore continues numbering after the restored rows (setval). */
export async function sequenceStates(db: Queryable): Promise<SequenceState[]> {
  const { rows } = await db.query<{ name: string }>(
    `select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'S' and n.nspname = any($1) order by 1`,
    [SCHEMAS],
  );
  const states: SequenceState[] = [];
  for (const { name } of rows) {
    const { rows: s } = await db.query<{ last_value: string; is_called: boolean }>(`select last_value::text, is_called from ${qualified(name)}`);
    states.push({ name, lastValue: s[0].last_value, isCalled: s[0].is_called });
  }
  return states;
}

/**
 * Tables ordered so each comes after the tables it references (self-references ignored: rows of such a table are
 * ordered among themselves by the importer). Tables caught in a cycle of two or more come last, in name order.
 */
export function referenceOrder(tables: string[], fks: ForeignKey[]): string[] {
  const wanted = new Set(tables);
  const deps = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const fk of fks) {
    if (fk.table !== fk.refTable && wanted.has(fk.table) && wanted.has(fk.refTable)) deps.get(fk.table)!.add(fk.refTable);
  }
  const order: string[] = [];
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const t of tables) {
      if (done.has(t) || [...deps.get(t)!].some((d) => !done.has(d))) continue;
      order.push(t);
      done.add(t);
      progress = true;
    }
  }
  return [...order, ...tables.filter((t) => !done.has(t))];
}

/** How many migrations the database has applied (0 when the migrations table does not exist). */
export async function appliedMigrations(db: Queryable): Promise<{ hash: string; created_at: string }[]> {
  const { rows: exists } = await db.query(`select to_regclass($1) is not null as ok`, [MIGRATIONS_TABLE]);
  if (!exists[0].ok) return [];
  const { rows } = await db.query<{ hash: string; created_at: string }>(`select hash, created_at::text from ${MIGRATIONS_TABLE} order by created_at, id`);
  return rows;
}
