// Hot reads (a task list page with its daily quota, the knowledge search) run as named prepared statements built
// once per shape: a call then skips the ORM's SQL building (~0.3 ms of blocking JavaScript for a list page) and
// PostgreSQL's parse and plan (measured on a 200k-task org: planning the list's UNION took 0.4 ms, running it
// 0.15 ms). node-postgres prepares a name once per connection and reuses it after; PostgreSQL switches to a generic
// plan only when it costs no more than the custom ones it made first.
//
// The values are bound by name on every call; the statement's structure (which conditions, how many statuses, a
// cursor or not) is spelled out in a shape key, and two calls with one key must build the same SQL. Keep what goes
// into a statement and what goes into its key side by side, as `Bindings` does.
import { createHash } from 'node:crypto';
import { type Placeholder, type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client.ts';

export class Bindings {
  readonly values: Record<string, unknown> = {};
  private parts: string[] = [];

  /** A value the statement takes as a parameter, named `name` (unique within the statement). */
  bind(name: string, value: unknown): Placeholder {
    if (name in this.values) throw new Error(`bound twice: ${name}`);
    this.values[name] = value;
    this.parts.push(name);
    return sql.placeholder(name);
  }

  /** A part of the statement's structure that no value carries (`archived is null`, three statuses). */
  shape(part: string): void {
    this.parts.push(`#${part}`);
  }

  get key(): string {
    return this.parts.join('|');
  }
}

interface Preparable<P> {
  prepare(name: string): P;
  toSQL(): { sql: string };
}

/** Prepared statements per database handle (a transaction's die with it). */
const statements = new WeakMap<object, Map<string, unknown>>();
/** Shapes kept per handle: filters combine into a bounded number of them, but a bound keeps a mistake from growing. */
const MAX_SHAPES = 500;

/** The prepared statement of `scope` for this shape, built by `build` the first time it is asked for. */
export function preparedFor<P>(db: object, scope: string, b: Bindings, build: () => Preparable<P>): P {
  let byKey = statements.get(db);
  if (!byKey) {
    byKey = new Map();
    statements.set(db, byKey);
  }
  const key = `${scope}:${b.key}`;
  let statement = byKey.get(key) as P | undefined;
  if (!statement) {
    // Named by its text: a name is bound to one text on each connection (node-postgres refuses another text under it).
    const query = build();
    statement = query.prepare(nameOf(scope, query.toSQL().sql));
    if (byKey.size >= MAX_SHAPES) byKey.clear();
    byKey.set(key, statement);
  }
  return statement;
}

const dialect = new PgDialect();
const nameOf = (scope: string, text: string) => `${scope}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;

/** A built hand-written statement prepared under `name`: `.execute(values)` fills its placeholders; rows as the driver gives them. */
function prepareRaw<R>(db: DbOrTx, query: ReturnType<PgDialect['sqlToQuery']>, name: string) {
  return db._.session.prepareQuery(query, undefined, name, false) as unknown as { execute(values?: Record<string, unknown>): Promise<{ rows: R[] }> };
}

/**
 * A hand-written statement (`sql\`…\``, its values placeholders bound in `b`) prepared once per shape, as preparedFor:
 * `.execute(b.values)` answers `{ rows }`, each row the driver's object (column names as the statement says them).
 */
export function preparedSql<R>(db: DbOrTx, scope: string, b: Bindings, build: () => SQL) {
  return preparedFor(db, scope, b, () => {
    const query = dialect.sqlToQuery(build());
    return { toSQL: () => query, prepare: (name: string) => prepareRaw<R>(db, query, name) };
  });
}

/**
 * A hand-written statement (`sql\`…\``) run prepared, named by its text: its values vary, and a few structures (which
 * optional parts it has) each get their own name. Building the text is left to each call; parse and plan are not.
 * (For a statement whose shape its caller can name, preparedSql also skips building the text.)
 */
export async function executePrepared<R>(db: DbOrTx, scope: string, query: SQL): Promise<R[]> {
  const built = dialect.sqlToQuery(query);
  return (await prepareRaw<R>(db, built, nameOf(scope, built.sql)).execute()).rows;
}
