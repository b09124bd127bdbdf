// The plans catalog: tiers (price and limits) and packs (credits or tokens for sale), plus the signup bonus.
// Defaults ship here; an instance admin replaces any of them with a JSON file (`OPSBASE_BILLING_CONFIG`, or
// `<data dir>/billing.json` when present), validated once at start so a typo stops the server with its field named.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type Config, config as processConfig } from '../../config.ts';
import { CURRENCIES } from '../../db/schema/billing.ts';

/** A limit of -1 means unlimited. */
export const UNLIMITED = -1;

/** The tier every org starts on (`orgs.plan`'s default); it must exist in every catalog. */
export const DEFAULT_TIER = 'free';

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'an id is 1–63 lowercase letters, digits, `_` or `-`')
  .describe('Stable id');
const Limit = z.number().int('must be a whole number').min(-1, 'must be -1 (unlimited) or more');
const Cents = z.number().int('must be a whole number of cents').min(0, 'must not be negative');

export const LIMIT_NAMES = ['tasks_per_day', 'agents', 'seats', 'storage_bytes', 'credits_per_month', 'ai_calls', 'api_calls'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

export const TierLimits = z
  .strictObject({
    tasks_per_day: Limit.describe('Tasks created per UTC day'),
    agents: Limit.describe('Agents in the org'),
    seats: Limit.describe('Members of the org'),
    storage_bytes: Limit.describe('Stored bytes'),
    credits_per_month: Limit.describe('Credits included each month'),
    ai_calls: Limit.describe('AI calls per UTC month'),
    api_calls: Limit.describe('API requests per UTC month'),
  })
  .describe('-1 means unlimited');

export const TierConfig = z.strictObject({
  id: Id,
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  price_cents: Cents.describe('Monthly price in cents'),
  stripe_price_id: z.string().min(1).optional(),
  /** Caps every key and session of the org's (with the key's own and the instance's limit; the smallest holds). */
  rate_limit_per_minute: z
    .number()
    .int('must be a whole number')
    .positive('must be greater than zero')
    .optional()
    .describe('Requests per minute per API key or user of an org on this tier; unset: the instance limit'),
  limits: TierLimits,
});

export const PackConfig = z.strictObject({
  id: Id,
  name: z.string().min(1).max(100).optional(),
  currency: z.enum(CURRENCIES),
  amount: z.number().int('must be a whole number').positive('must be greater than zero'),
  price_cents: Cents,
  stripe_price_id: z.string().min(1).optional(),
});

/** The file's shape: every key optional, each one given replaces the default wholesale. */
export const BillingFile = z.strictObject({
  currency: z
    .string()
    .regex(/^[a-z]{3}$/, 'an ISO 4217 code in lowercase, e.g. `usd`')
    .optional(),
  signup_bonus_credits: z.number().int('must be a whole number').min(0, 'must not be negative').optional(),
  tiers: z
    .array(TierConfig)
    .min(1, 'at least one tier')
    .superRefine((tiers, c) => {
      const seen = new Set<string>();
      tiers.forEach((t, i) => {
        if (seen.has(t.id)) c.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate tier id \`${t.id}\`` });
        seen.add(t.id);
      });
      if (!seen.has(DEFAULT_TIER)) c.addIssue({ code: 'custom', message: `must include the tier \`${DEFAULT_TIER}\` (every new org starts on it)` });
    })
    .optional(),
  packs: z
    .array(PackConfig)
    .superRefine((packs, c) => {
      const seen = new Set<string>();
      packs.forEach((p, i) => {
        if (seen.has(p.id)) c.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate pack id \`${p.id}\`` });
        seen.add(p.id);
      });
    })
    .optional(),
});

export type Tier = z.infer<typeof TierConfig>;
export type Pack = z.infer<typeof PackConfig>;
export type TierLimits = z.infer<typeof TierLimits>;

export interface Catalog {
  currency: string;
  signup_bonus_credits: number;
  tiers: Tier[];
  packs: Pack[];
  /** Where it came from: `built-in` or the file's path. */
  source: string;
}

const GB = 1024 ** 3;

export const DEFAULT_CATALOG: Catalog = {
  currency: 'usd',
  // Self-hosted instances fund orgs by admin grant or Stripe; set a bonus in the file to give new orgs credits.
  signup_bonus_credits: 0,
  source: 'built-in',
  tiers: [
    {
      id: 'free',
      name: 'Free',
      description: 'For trying Opsbase out and small teams.',
      price_cents: 0,
      limits: { tasks_per_day: 20, agents: 2, seats: 3, storage_bytes: GB, credits_per_month: 0, ai_calls: 1_000, api_calls: 10_000 },
    },
    {
      id: 'pro',
      name: 'Pro',
      description: 'For a business run day to day on Opsbase.',
      price_cents: 2_900,
      limits: { tasks_per_day: 200, agents: 10, seats: 10, storage_bytes: 10 * GB, credits_per_month: 500, ai_calls: 20_000, api_calls: 250_000 },
    },
    {
      id: 'business',
      name: 'Business',
      description: 'For larger teams and heavy automation.',
      price_cents: 9_900,
      limits: { tasks_per_day: -1, agents: 50, seats: 50, storage_bytes: 100 * GB, credits_per_month: 2_500, ai_calls: 200_000, api_calls: -1 },
    },
  ],
  packs: [
    { id: 'credits_100', name: '100 credits', currency: 'credits', amount: 100, price_cents: 1_000 },
    { id: 'credits_500', name: '500 credits', currency: 'credits', amount: 500, price_cents: 4_500 },
    { id: 'credits_2000', name: '2,000 credits', currency: 'credits', amount: 2_000, price_cents: 16_000 },
    { id: 'tokens_100k', name: '100,000 tokens', currency: 'tokens', amount: 100_000, price_cents: 1_000 },
    { id: 'tokens_1m', name: '1,000,000 tokens', currency: 'tokens', amount: 1_000_000, price_cents: 8_000 },
  ],
};

/** The file to read, if any: `OPSBASE_BILLING_CONFIG` (must exist), else `<data dir>/billing.json` when present. */
export function billingConfigPath(cfg: Config): string | undefined {
  if (cfg.OPSBASE_BILLING_CONFIG) return resolve(cfg.OPSBASE_BILLING_CONFIG);
  const inDataDir = join(cfg.dataDir, 'billing.json');
  return existsSync(inDataDir) ? inDataDir : undefined;
}

/** Reads and validates the catalog; throws an Error whose message names the file and every bad field. */
export function loadCatalog(cfg: Config): Catalog {
  const path = billingConfigPath(cfg);
  if (!path) return DEFAULT_CATALOG;
  const what = cfg.OPSBASE_BILLING_CONFIG ? `OPSBASE_BILLING_CONFIG (${path})` : `billing config ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${what}: ${(err as Error).message}. Fix the path or unset OPSBASE_BILLING_CONFIG to use the built-in plans.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`Invalid ${what}: not valid JSON (${(err as Error).message}).`);
  }
  const parsed = BillingFile.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new Error(`Invalid ${what}:\n${lines.join('\n')}`);
  }
  const file = parsed.data;
  return {
    currency: file.currency ?? DEFAULT_CATALOG.currency,
    signup_bonus_credits: file.signup_bonus_credits ?? DEFAULT_CATALOG.signup_bonus_credits,
    tiers: file.tiers ?? DEFAULT_CATALOG.tiers,
    packs: file.packs ?? DEFAULT_CATALOG.packs,
    source: path,
  };
}

// One catalog per configuration (a process normally has one; tests run apps with different files side by side).
const loaded = new WeakMap<Config, Catalog>();

/** The catalog of this configuration (`ctx.services.config`), read once; the process configuration by default. */
export function catalog(cfg: Config = processConfig()): Catalog {
  let c = loaded.get(cfg);
  if (!c) {
    c = loadCatalog(cfg);
    loaded.set(cfg, c);
  }
  return c;
}

/**
 * Where a look-up reads: a catalog already in hand (the effective one, `catalog-store.ts`, with the admins' tiers
 * and packs) or a configuration, whose defaults / file catalog is used.
 */
export type CatalogSource = Catalog | Config | undefined;
const resolveCatalog = (s: CatalogSource): Catalog => (s && 'tiers' in s ? s : catalog(s));

export function tierById(id: string, from?: CatalogSource): Tier | undefined {
  return resolveCatalog(from).tiers.find((t) => t.id === id);
}

export function packById(id: string, from?: CatalogSource): Pack | undefined {
  return resolveCatalog(from).packs.find((p) => p.id === id);
}

/** An org's tier from its `orgs.plan`; a plan the catalog no longer lists counts as the default tier. */
export function tierOf(plan: string | null | undefined, from?: CatalogSource): Tier {
  const c = resolveCatalog(from);
  return c.tiers.find((t) => t.id === plan) ?? c.tiers.find((t) => t.id === DEFAULT_TIER)!;
}

/** What a tier looks like to callers (no provider ids). */
export function presentTier(t: Tier) {
  return {
    id: t.id,
    name: t.name,
    description: t.description ?? null,
    price_cents: t.price_cents,
    rate_limit_per_minute: t.rate_limit_per_minute ?? null,
    limits: t.limits,
  };
}

export function presentPack(p: Pack) {
  return { id: p.id, name: p.name ?? `${p.amount} ${p.currency}`, currency: p.currency, amount: p.amount, price_cents: p.price_cents };
}
