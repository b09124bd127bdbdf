// Writes archive rows into tables: batched multi-row INSERTs, each value cast from its text form back to the
// column's type. Shared by `opsbase restore` (every table) and orgs.import (one org's rows).
import type pg from 'pg';
import type { Column, Table } from './catalog.ts';
import { quoteIdent } from './catalog.ts';

/** PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMS = 60_000;
const MAX_ROWS = 1000;

export class SchemaMismatch extends Error {}

/** A prepared writer for one table: the archive's columns, matched by name to the target's. */
export class TableLoader {
  readonly table: Table;
  private readonly columns: Column[];
  /** Archive column positions to take (identity columns may be left for the target to number). */
  private readonly picks: number[];
  private pending: (string | null)[][] = [];
  inserted = 0;
  private readonly client: pg.ClientBase;

  /** Primary key columns: a row whose key exists already is skipped (ON CONFLICT DO NOTHING), not an error. */
  private readonly keepExisting?: string[];

  constructor(client: pg.ClientBase, target: Table, archiveColumns: Column[], opts: { skipIdentity?: boolean; onConflictDoNothing?: string[] } = {}) {
    this.client = client;
    this.keepExisting = opts.onConflictDoNothing;
    this.table = target;
    const byName = new Map(target.columns.filter((c) => !c.generated).map((c) => [c.name, c]));
    const missing = archiveColumns.filter((c) => !byName.has(c.name)).map((c) => c.name);
    if (missing.length) throw new SchemaMismatch(`table ${target.name} has no column ${missing.join(', ')} here (the archive is from another schema version)`);
    this.picks = archiveColumns.map((_, i) => i).filter((i) => !(opts.skipIdentity && byName.get(archiveColumns[i].name)!.identity));
    this.columns = this.picks.map((i) => byName.get(archiveColumns[i].name)!);
  }

  async add(values: (string | null)[]) {
    this.pending.push(this.picks.map((i) => values[i] ?? null));
    if (this.pending.length >= Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(1, this.columns.length)))) await this.flush();
  }

  async flush() {
    if (!this.pending.length) return;
    const rows = this.pending;
    this.pending = [];
    const n = this.columns.length;
    const params: (string | null)[] = [];
    const tuples = rows.map((r, ri) => {
      params.push(...r);
      return `(${this.columns.map((c, ci) => `$${ri * n + ci + 1}::${c.type}`).join(', ')})`;
    });
    const overriding = this.columns.some((c) => c.identity) ? ' overriding system value' : '';
    const cols = this.columns.map((c) => quoteIdent(c.name)).join(', ');
    const keep = this.keepExisting?.length ? ` on conflict (${this.keepExisting.map(quoteIdent).join(', ')}) do nothing` : '';
    const res = await this.client.query(`insert into ${this.table.sql} (${cols})${overriding} values ${tuples.join(', ')}${keep}`, params);
    this.inserted += res.rowCount ?? rows.length;
  }
}
