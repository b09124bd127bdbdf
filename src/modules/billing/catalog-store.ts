// The effective catalog: the defaults / config file (plans.ts) overlaid by the tiers and packs instance admins
// stored in `billing_catalog`. Every billing read needs it, so each instance caches it, and a change is heard by
// all of them at once through the auth cache's LISTEN/NOTIFY channel (one listener per instance serves both). We
// chose invalidation over a short TTL because a price or limit change must hold on every instance immediately: a
// checkout must not sell the old price, a seat check must not use the old limit. Without a live listener nothing
// is cached (as for credentials), so a lost connection never serves a stale catalog.
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { billingCatalog } from '../../db/schema/catalog.ts';
import { type Catalog, catalog, type Pack, type Tier } from './plans.ts';

type Row = typeof billingCatalog.$inferSelect;

/** The NOTIFY payload of a catalog change; credential changes (every other payload) leave the catalog cached. */
const REASON = 'billing_catalog';

/** After a change on this instance, read from the database this long: its NOTIFY arrives only once it commits. */
const LOCAL_WRITE_BYPASS_MS = 5_000;

interface State {
  value?: Catalog;
  /** Bumped by every invalidation: a load that started before one must not be cached. */
  generation: number;
  bypassUntil: number;
}

const states = new WeakMap<AppServices, State>();

function stateOf(services: AppServices): State {
  let state = states.get(services);
  if (!state) {
    const s: State = { generation: 0, bypassUntil: 0 };
    services.authCache.onInvalidate((reason) => {
      if (reason !== undefined && reason !== REASON) return;
      s.generation++;
      s.value = undefined;
    });
    states.set(services, s);
    state = s;
  }
  return state;
}

/** Replaces entries by id in place (keeping the base's order), appends new ones, drops deleted ones. */
function overlayList<T extends { id: string }>(base: T[], rows: Row[]): T[] {
  const byId = new Map(rows.map((r) => [r.id, r.config as T | null]));
  const kept = base.flatMap((item) => {
    if (!byId.has(item.id)) return [item];
    const over = byId.get(item.id);
    return over ? [over] : [];
  });
  const added = rows.filter((r) => r.config && !base.some((b) => b.id === r.id)).map((r) => r.config as T);
  return [...kept, ...added];
}

/** The base catalog with the stored rows laid over it. */
export function overlay(base: Catalog, rows: Row[]): Catalog {
  const sorted = [...rows].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const of = (kind: Row['kind']) => sorted.filter((r) => r.kind === kind);
  const overridden = rows.length > 0;
  return {
    ...base,
    tiers: overlayList<Tier>(base.tiers, of('tier')),
    packs: overlayList<Pack>(base.packs, of('pack')),
    source: overridden ? `${base.source} + admin changes` : base.source,
  };
}

/** Reads the stored rows through `db` (a transaction sees its own uncommitted changes), uncached. */
export async function readCatalog(services: AppServices, db: DbOrTx): Promise<Catalog> {
  return overlay(catalog(services.config), await db.select().from(billingCatalog));
}

/**
 * The catalog every read uses (tiers, pricing, plan changes, quotas, checkout, seats, monthly credits). Pass the
 * caller's transaction as `db`: a miss is then read on the connection it already holds, never waiting for another
 * from a pool its own burst may have exhausted.
 */
export async function effectiveCatalog(services: AppServices, db: DbOrTx = services.database.db): Promise<Catalog> {
  const state = stateOf(services);
  const cacheable = () => services.authCache.live && Date.now() >= state.bypassUntil;
  if (state.value && cacheable()) return state.value;
  const generation = state.generation;
  const value = await readCatalog(services, db);
  if (generation === state.generation && cacheable()) state.value = value;
  return value;
}

/**
 * Call inside the transaction that changes `billing_catalog`: every instance drops its copy when it commits. The
 * shared channel also drops cached credentials, which are simply read again once — a fair price for a rare admin write.
 */
export async function invalidateCatalog(services: AppServices, db: DbOrTx): Promise<void> {
  stateOf(services).bypassUntil = Date.now() + LOCAL_WRITE_BYPASS_MS;
  await services.authCache.invalidate(db, REASON);
}
