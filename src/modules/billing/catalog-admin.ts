// Instance admins change the catalog at run time: a tier or pack written here overlays the one of the defaults /
// config file with the same id (or adds one); a delete hides it. Rows live in `billing_catalog`, so every instance
// sees them; each change drops every instance's cached catalog as it commits (catalog-store.ts).
import { and, count, eq, isNull } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { type CatalogKind, billingCatalog } from '../../db/schema/catalog.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { recordActivity } from '../activity/record.ts';
import { invalidateCatalog, readCatalog } from './catalog-store.ts';
import { DEFAULT_TIER, type Pack, PackConfig, packById, presentTier, type Tier, TierConfig, tierById } from './plans.ts';

/**
 * Writes one row (a config, or null for a deletion) with its activity row, and tells every instance; the caller's
 * transaction commits all three.
 */
async function write(ctx: Ctx, kind: CatalogKind, id: string, config: Tier | Pack | null, action: string, metadata?: Record<string, unknown>) {
  const now = new Date();
  const value = config as Record<string, unknown> | null;
  await ctx.db
    .insert(billingCatalog)
    .values({ kind, id, config: value, updatedBy: ctx.actorId, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: [billingCatalog.kind, billingCatalog.id], set: { config: value, updatedBy: ctx.actorId, updatedAt: now } });
  await recordActivity(ctx, { action: `billing.${kind}_${action}`, entityType: kind, entityId: id, orgId: null, metadata });
  await invalidateCatalog(ctx.services, ctx.db);
}

function presentTierAdmin(t: Tier, created: boolean) {
  return { ...presentTier(t), stripe_price_id: t.stripe_price_id ?? null, created };
}

function presentPackAdmin(p: Pack, created: boolean) {
  return {
    id: p.id,
    name: p.name ?? null,
    currency: p.currency,
    amount: p.amount,
    price_cents: p.price_cents,
    stripe_price_id: p.stripe_price_id ?? null,
    created,
  };
}

export async function upsertTier(ctx: Ctx, input: Omit<Tier, 'id'> & { tier_id: string }) {
  const { tier_id: id, ...rest } = input;
  const tier = TierConfig.parse({ id, ...rest });
  const created = !tierById(id, await readCatalog(ctx.services, ctx.db));
  await write(ctx, 'tier', id, tier, created ? 'created' : 'updated', { price_cents: tier.price_cents, limits: tier.limits });
  return presentTierAdmin(tier, created);
}

export async function deleteTier(ctx: Ctx, id: string) {
  if (id === DEFAULT_TIER) {
    throw unprocessable(
      `The \`${DEFAULT_TIER}\` tier cannot be deleted: every new org starts on it. Change it with \`billing.tiers.upsert\` instead.`,
      {
        tier: id,
      },
    );
  }
  if (!tierById(id, await readCatalog(ctx.services, ctx.db))) throw notFound(`Tier \`${id}\``);
  // Orgs on a tier keep its limits and price only while it exists: deleting it would silently move them to `free`.
  const [{ n }] = await ctx.db
    .select({ n: count() })
    .from(orgs)
    .where(and(eq(orgs.plan, id), isNull(orgs.deletedAt)));
  if (n > 0) {
    throw unprocessable(
      `${n} org${n === 1 ? ' is' : 's are'} on the \`${id}\` tier: move ${n === 1 ? 'it' : 'them'} to another tier (\`billing.change_plan\`) before deleting it.`,
      { tier: id, orgs: n },
    );
  }
  await write(ctx, 'tier', id, null, 'deleted');
  return { id, deleted: true as const };
}

export async function upsertPack(ctx: Ctx, input: Omit<Pack, 'id'> & { pack_id: string }) {
  const { pack_id: id, ...rest } = input;
  const pack = PackConfig.parse({ id, ...rest });
  const created = !packById(id, await readCatalog(ctx.services, ctx.db));
  const metadata = { currency: pack.currency, amount: pack.amount, price_cents: pack.price_cents };
  await write(ctx, 'pack', id, pack, created ? 'created' : 'updated', metadata);
  return presentPackAdmin(pack, created);
}

/** Packs may go at any time: a sale in flight keeps the pack as it was sold; an auto top-up on it skips (`pack_unavailable`). */
export async function deletePack(ctx: Ctx, id: string) {
  if (!packById(id, await readCatalog(ctx.services, ctx.db))) throw notFound(`Pack \`${id}\``);
  await write(ctx, 'pack', id, null, 'deleted');
  return { id, deleted: true as const };
}
