// Instance-admin operations on the catalog: add, change or remove tiers and packs at run time, on every instance.
// Bodies are the config file's own schemas (TierConfig / PackConfig, the id from the path), so unknown keys and
// bad limits are refused the same way in both places.
import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { Deleted } from '../../core/schemas.ts';
import * as admin from './catalog-admin.ts';
import { Pack, Tier } from './plan-operations.ts';
import { PackConfig, TierConfig } from './plans.ts';

const asAdmin = { auth: 'user' as const, instanceAdmin: true, scopes: [] as string[] };
const Created = z.boolean().describe('true when no tier / pack of this id existed before');
const StripePrice = z.string().nullable().describe('The Stripe price sold for it');

const TierId = TierConfig.shape.id.describe('Tier id (lowercase slug)');
const PackId = PackConfig.shape.id.describe('Pack id (lowercase slug)');

export const upsertTier = defineOperation({
  id: 'billing.tiers.upsert',
  method: 'PUT',
  path: '/billing/tiers/:tier_id',
  summary: 'Create or replace a tier: price and limits (instance admins; every instance sees it at once)',
  description:
    'Overlays the tier of the defaults / config file with this id, or adds a tier. Orgs on it get the new limits at once; ' +
    'a Stripe subscription keeps the price it was sold at until it changes in Stripe.',
  ...asAdmin,
  input: TierConfig.omit({ id: true }).extend({ tier_id: TierId }),
  output: z.object({ ...Tier.shape, stripe_price_id: StripePrice, created: Created }),
  cli: { columns: ['id', 'name', 'price_cents', 'created'] },
  handler: (ctx, input) => admin.upsertTier(ctx, input),
});

export const deleteTier = defineOperation({
  id: 'billing.tiers.delete',
  method: 'DELETE',
  path: '/billing/tiers/:tier_id',
  summary: 'Remove a tier (instance admins; refused for `free` and for a tier any org is on)',
  ...asAdmin,
  input: z.object({ tier_id: TierId }),
  output: Deleted,
  handler: (ctx, input) => admin.deleteTier(ctx, input.tier_id),
});

export const upsertPack = defineOperation({
  id: 'billing.packs.upsert',
  method: 'PUT',
  path: '/billing/packs/:pack_id',
  summary: 'Create or replace a pack of credits or tokens for sale (instance admins)',
  ...asAdmin,
  input: PackConfig.omit({ id: true }).extend({ pack_id: PackId }),
  output: z.object({ ...Pack.shape, name: z.string().nullable(), stripe_price_id: StripePrice, created: Created }),
  cli: { columns: ['id', 'currency', 'amount', 'price_cents', 'created'] },
  handler: (ctx, input) => admin.upsertPack(ctx, input),
});

export const deletePack = defineOperation({
  id: 'billing.packs.delete',
  method: 'DELETE',
  path: '/billing/packs/:pack_id',
  summary: 'Stop selling a pack (instance admins; payments already started still credit it)',
  ...asAdmin,
  input: z.object({ pack_id: PackId }),
  output: Deleted,
  handler: (ctx, input) => admin.deletePack(ctx, input.pack_id),
});

export const catalogOperations = [upsertTier, deleteTier, upsertPack, deletePack];
