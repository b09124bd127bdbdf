// Plans of an org: what it uses against its tier's limits, its subscription, and changing tier (manual provider;
// paid tiers go through Stripe checkout when Stripe is configured).
import { and, count, eq, ne } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, notFound, unprocessable } from '../../core/errors.ts';
import { iso } from '../../core/schemas.ts';
import { together } from '../../db/client.ts';
import { agents } from '../../db/schema/agents.ts';
import { subscriptions } from '../../db/schema/billing.ts';
import { orgMembers, orgs } from '../../db/schema/orgs.ts';
import { taskCounters } from '../../db/schema/tasks.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { monthOf } from '../quota/period.ts';
import { usedThisPeriod } from '../quota/service.ts';
import { utcDay } from '../tasks/quota.ts';
import { effectiveCatalog } from './catalog-store.ts';
import { balanceOf } from './ledger.ts';
import { presentPack, presentTier, type Tier, tierById, tierOf } from './plans.ts';

/** Limits measured against current usage (credits_per_month is an allowance, not a usage limit). */
export const USAGE_LIMITS = ['tasks_per_day', 'agents', 'seats', 'storage_bytes', 'ai_calls', 'api_calls'] as const;
export type UsageLimit = (typeof USAGE_LIMITS)[number];

/**
 * The limits a downgrade must fit: what the org holds now. Counters of a period (tasks today, calls this month)
 * do not block a change — over the new limit they just stop being allowed until the period resets.
 */
export const HELD_LIMITS = ['seats', 'agents', 'storage_bytes'] as const satisfies readonly UsageLimit[];

export interface Violation {
  limit: UsageLimit;
  current: number;
  allowed: number;
}

const STRIPE_LIVE = new Set(['active', 'trialing', 'past_due', 'incomplete', 'unpaid']);

async function orgRow(ctx: Ctx, forUpdate = false) {
  const q = ctx.db
    .select({ id: orgs.id, plan: orgs.plan })
    .from(orgs)
    .where(eq(orgs.id, requireOrg(ctx)));
  const [org] = forUpdate ? await q.for('update') : await q;
  if (!org) throw notFound('Org');
  return org;
}

/** Current usage of every limit: tasks created today (UTC), agents not offline, members, and this period's meters. */
export async function currentUsage(ctx: Ctx): Promise<Record<UsageLimit, number>> {
  const orgId = requireOrg(ctx);
  const [[members], [tasksToday], [liveAgents], used] = await together(
    ctx.db,
    () => ctx.db.select({ n: count() }).from(orgMembers).where(eq(orgMembers.orgId, orgId)),
    () =>
      ctx.db
        .select({ n: taskCounters.createdToday })
        .from(taskCounters)
        .where(and(eq(taskCounters.orgId, orgId), eq(taskCounters.day, utcDay()))),
    () =>
      ctx.db
        .select({ n: count() })
        .from(agents)
        .where(and(eq(agents.orgId, orgId), ne(agents.status, 'offline'))),
    () => usedThisPeriod(ctx.db, orgId),
  );
  return {
    tasks_per_day: tasksToday?.n ?? 0,
    agents: liveAgents.n,
    seats: members.n,
    storage_bytes: used.storage_bytes,
    ai_calls: used.ai_calls,
    api_calls: used.api_calls,
  };
}

export function violationsFor(usage: Record<UsageLimit, number>, tier: Tier): Violation[] {
  return HELD_LIMITS.flatMap((limit) => {
    const allowed = tier.limits[limit];
    return allowed !== -1 && usage[limit] > allowed ? [{ limit, current: usage[limit], allowed }] : [];
  });
}

function usageView(usage: Record<UsageLimit, number>, tier: Tier) {
  return Object.fromEntries(
    USAGE_LIMITS.map((k) => {
      const limit = tier.limits[k];
      return [k, { used: usage[k], limit, remaining: limit === -1 ? -1 : Math.max(0, limit - usage[k]) }];
    }),
  ) as Record<UsageLimit, { used: number; limit: number; remaining: number }>;
}

export async function tiers(ctx: Ctx) {
  const data = (await effectiveCatalog(ctx.services, ctx.db)).tiers.map(presentTier);
  return { data, meta: { limit: data.length, next_cursor: null, has_more: false } };
}

export async function pricing(ctx: Ctx) {
  const c = await effectiveCatalog(ctx.services, ctx.db);
  return { currency: c.currency, signup_bonus_credits: c.signup_bonus_credits, tiers: c.tiers.map(presentTier), packs: c.packs.map(presentPack) };
}

/** `GET /billing` (BizOS): the plan, available credits, and what can be bought. */
export async function overview(ctx: Ctx) {
  const org = await orgRow(ctx);
  const c = await effectiveCatalog(ctx.services, ctx.db);
  const credits = await balanceOf(ctx.db, org.id, 'credits');
  return {
    plan: tierOf(org.plan, c).id,
    credits: credits.available,
    tiers: c.tiers.map(presentTier),
    packs: c.packs.map(presentPack),
  };
}

export async function subscription(ctx: Ctx) {
  const org = await orgRow(ctx);
  const tier = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db));
  const [sub] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.orgId, org.id));
  // An org that never changed plan is on its tier with no provider subscription behind it.
  return {
    tier: tier.id,
    status: sub?.status ?? 'active',
    provider: sub?.provider ?? ('manual' as const),
    price_cents: tier.price_cents,
    current_period_end: iso(sub?.currentPeriodEnd),
    cancel_at_period_end: false,
    updated_at: iso(sub?.updatedAt),
  };
}

export async function usage(ctx: Ctx) {
  const org = await orgRow(ctx);
  const tier = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db));
  const period = monthOf();
  return {
    tier: tier.id,
    period_start: period.startAt.toISOString(),
    reset_at: period.resetAt.toISOString(),
    usage: usageView(await currentUsage(ctx), tier),
  };
}

export async function planSummary(ctx: Ctx) {
  const org = await orgRow(ctx);
  const tier = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db));
  const period = monthOf();
  const [used, credits, sub] = await together(
    ctx.db,
    () => currentUsage(ctx),
    () => balanceOf(ctx.db, org.id, 'credits'),
    () => subscription(ctx),
  );
  return {
    tier: presentTier(tier),
    subscription: sub,
    credits: { balance: credits.balance, available: credits.available, held: credits.held, per_month: tier.limits.credits_per_month },
    period_start: period.startAt.toISOString(),
    reset_at: period.resetAt.toISOString(),
    usage: usageView(used, tier),
  };
}

async function targetTier(ctx: Ctx, id: string): Promise<Tier> {
  const tier = tierById(id, await effectiveCatalog(ctx.services, ctx.db));
  if (!tier) throw notFound(`Tier \`${id}\``);
  return tier;
}

export async function validateDowngrade(ctx: Ctx, input: { tier: string }) {
  const target = await targetTier(ctx, input.tier);
  const org = await orgRow(ctx);
  const violations = violationsFor(await currentUsage(ctx), target);
  return {
    allowed: violations.length === 0,
    current_tier: tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db)).id,
    tier: target.id,
    violations,
  };
}

function describe(v: Violation) {
  return `${v.limit}: ${v.current} in use, ${v.allowed} allowed`;
}

export async function changePlan(ctx: Ctx, input: { tier: string }) {
  const target = await targetTier(ctx, input.tier);
  // The org row lock serialises plan changes of one org.
  const org = await orgRow(ctx, true);
  const from = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db));
  if (org.plan === target.id) return { changed: false, previous_tier: from.id, tier: target.id, subscription: await subscription(ctx) };

  const [sub] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.orgId, org.id));
  if (sub?.provider === 'stripe' && STRIPE_LIVE.has(sub.status)) {
    throw unprocessable('This org pays through a Stripe subscription: change or cancel it in the customer portal (`billing.portal`).', {
      provider: 'stripe',
      use: 'billing.portal',
    });
  }
  if (ctx.services.config.STRIPE_SECRET_KEY && target.price_cents > 0) {
    throw unprocessable(`\`${target.id}\` is a paid tier: start a Stripe checkout for it with \`billing.checkout\` (tier ${target.id}).`, {
      use: 'billing.checkout',
      tier: target.id,
    });
  }
  const violations = violationsFor(await currentUsage(ctx), target);
  if (violations.length) {
    throw new AppError(
      'unprocessable',
      `The org uses more than the \`${target.id}\` tier allows (${violations.map(describe).join('; ')}). Reduce it first.`,
      { tier: target.id, violations },
    );
  }

  await ctx.db.update(orgs).set({ plan: target.id, updatedAt: new Date() }).where(eq(orgs.id, org.id));
  // Credentials cache their org's plan (its tier caps their rate limit): every instance reads it again.
  await ctx.services.authCache.invalidate(ctx.db, `plan:${org.id}`);
  const now = new Date();
  await ctx.db
    .insert(subscriptions)
    .values({ orgId: org.id, tier: target.id, status: 'active', provider: 'manual', currentPeriodEnd: null, updatedAt: now })
    .onConflictDoUpdate({
      target: subscriptions.orgId,
      set: { tier: target.id, status: 'active', provider: 'manual', subscriptionId: null, currentPeriodEnd: null, updatedAt: now },
    });
  await recordEvent(ctx.db, { orgId: org.id, type: 'plan.changed', subject: org.id, data: { from: from.id, to: target.id, provider: 'manual' } });
  await recordActivity(ctx, {
    action: 'billing.plan_changed',
    entityType: 'org',
    entityId: org.id,
    metadata: { from: from.id, to: target.id },
  });
  return { changed: true, previous_tier: from.id, tier: target.id, subscription: await subscription(ctx) };
}
