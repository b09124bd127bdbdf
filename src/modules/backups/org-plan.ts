// Which rows belong to one org, derived from the catalog (no table is named here):
//  - `orgs`: the org's own row;
//  - every table with an `org_id` column: its rows of the org;
//  - tables without `org_id` that reference those (a foreign key to an org table): the rows that hang off the org's;
//  - "parents" outside the org that its rows reference (the members' `users` rows): only those referenced rows.
// Tables are listed parents first, then in foreign-key order, so an import can insert them as they come.
import type { ForeignKey, Table } from './catalog.ts';
import { quoteIdent, referenceOrder } from './catalog.ts';

export type PlanRole = 'parent' | 'org';

export interface PlannedTable {
  table: Table;
  role: PlanRole;
  /** `where …` over alias `t`, with the org id as $1. */
  where: string;
}

const cols = (alias: string, names: string[]) => `(${names.map((n) => `${alias}.${quoteIdent(n)}`).join(', ')})`;

/**
 * Tables that never travel with an org: sessions and reset tokens are the source instance's, and so are the search
 * statistics (how big the org is there).
 */
export const STAY_BEHIND = new Set(['public.sessions', 'public.password_resets', 'public.search_org_stats']);

export function planOrgExport(tables: Table[], fks: ForeignKey[]): PlannedTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const publicTables = tables.filter((t) => t.name.startsWith('public.') && !STAY_BEHIND.has(t.name));
  const selected = new Map<string, (alias: string) => string>();
  let aliasSeq = 0;
  const fresh = () => `s${++aliasSeq}`;

  if (byName.has('public.orgs')) selected.set('public.orgs', (a) => `where ${a}."id" = $1`);
  for (const t of publicTables) {
    if (t.columns.some((c) => c.name === 'org_id')) selected.set(t.name, (a) => `where ${a}."org_id" = $1`);
  }
  // Children: rows of tables without org_id reached by a foreign key from a selected table's rows (to a fixpoint).
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of publicTables) {
      if (selected.has(t.name)) continue;
      const links = fks.filter((fk) => fk.table === t.name && fk.refTable !== t.name && selected.has(fk.refTable));
      if (!links.length) continue;
      const filters = links.map((fk) => ({ fk, parent: selected.get(fk.refTable)! }));
      selected.set(t.name, (a) =>
        `where ${filters
          .map(({ fk, parent }) => {
            const p = fresh();
            return `${cols(a, fk.columns)} in (select ${fk.refColumns.map((c) => `${p}.${quoteIdent(c)}`).join(', ')} from ${byName.get(fk.refTable)!.sql} ${p} ${parent(p)})`;
          })
          .join(' or ')}`,
      );
      grew = true;
    }
  }
  // Parents: rows outside the selection that selected rows reference (a member's user row).
  const parents = new Map<string, (alias: string) => string>();
  for (const t of publicTables) {
    if (selected.has(t.name)) continue;
    const links = fks.filter((fk) => fk.refTable === t.name && selected.has(fk.table));
    if (!links.length) continue;
    parents.set(t.name, (a) =>
      `where ${links
        .map((fk) => {
          const s = fresh();
          return `${cols(a, fk.refColumns)} in (select ${fk.columns.map((c) => `${s}.${quoteIdent(c)}`).join(', ')} from ${byName.get(fk.table)!.sql} ${s} ${selected.get(fk.table)!(s)})`;
        })
        .join(' or ')}`,
    );
  }
  const plan: PlannedTable[] = [];
  for (const name of referenceOrder([...parents.keys()], fks)) plan.push({ table: byName.get(name)!, role: 'parent', where: parents.get(name)!('t') });
  for (const name of referenceOrder([...selected.keys()], fks)) plan.push({ table: byName.get(name)!, role: 'org', where: selected.get(name)!('t') });
  return plan;
}
