import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { PageMeta } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import { CURRENCIES } from '../../db/schema/billing.ts';
import * as plans from './plan-service.ts';

const Limit = z.number().int().describe('-1 means unlimited');

export const Tier = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price_cents: z.number().int().describe('Monthly price in cents'),
    rate_limit_per_minute: z.number().int().nullable().describe('Requests per minute per key or user of its orgs; null: the instance limit'),
    limits: z.object({
      tasks_per_day: Limit,
      agents: Limit,
      seats: Limit,
      storage_bytes: Limit,
      credits_per_month: Limit.describe('Credits included each month'),
      ai_calls: Limit,
      api_calls: Limit,
    }),
  })
  .meta({ id: 'Tier' });

export const Pack = z
  .object({
    id: z.string(),
    name: z.string(),
    currency: z.enum(CURRENCIES),
    amount: z.number().int(),
    price_cents: z.number().int(),
  })
  .meta({ id: 'Pack' });

const Usage = z.object({ used: z.number().int(), limit: Limit, remaining: Limit });
const UsageByLimit = z.object(Object.fromEntries(plans.USAGE_LIMITS.map((k) => [k, Usage])) as Record<plans.UsageLimit, typeof Usage>);

const Subscription = z
  .object({
    tier: z.string(),
    status: z.string().describe('active, trialing, past_due, canceled, …'),
    provider: z.enum(['manual', 'stripe']),
    price_cents: z.number().int(),
    current_period_end: Timestamp.nullable(),
    cancel_at_period_end: z.boolean(),
    updated_at: Timestamp.nullable(),
  })
  .meta({ id: 'Subscription' });

const Violation = z.object({
  limit: z.enum(plans.USAGE_LIMITS),
  current: z.number().int(),
  allowed: z.number().int(),
});

const TierInput = z.object({ tier: z.string().min(1).max(63).describe('Target tier id (see billing.tiers)') });

export const getBilling = defineOperation({
  id: 'billing.get',
  method: 'GET',
  path: '/billing',
  summary: 'Plan, available credits, tiers and packs',
  scopes: ['billing:read'],
  input: z.object({}),
  output: z.object({ plan: z.string(), credits: z.number().int().describe('Available credits'), tiers: z.array(Tier), packs: z.array(Pack) }),
  cli: { columns: ['plan', 'credits'] },
  handler: (ctx) => plans.overview(ctx),
});

export const listTiers = defineOperation({
  id: 'billing.tiers',
  method: 'GET',
  path: '/billing/tiers',
  summary: 'Subscription tiers with prices and limits (public)',
  auth: 'public',
  scopes: [],
  input: z.object({}),
  output: z.object({ data: z.array(Tier), meta: PageMeta }),
  cli: { columns: ['id', 'name', 'price_cents'] },
  handler: async (ctx) => plans.tiers(ctx),
});

export const pricing = defineOperation({
  id: 'billing.pricing',
  method: 'GET',
  path: '/billing/pricing',
  summary: 'Public pricing: tiers and credit / token packs with prices',
  auth: 'public',
  scopes: [],
  input: z.object({}),
  output: z.object({
    currency: z.string().describe('ISO 4217, lowercase'),
    signup_bonus_credits: z.number().int(),
    tiers: z.array(Tier),
    packs: z.array(Pack),
  }),
  handler: async (ctx) => plans.pricing(ctx),
});

export const getSubscription = defineOperation({
  id: 'billing.subscription',
  method: 'GET',
  path: '/billing/subscription',
  summary: "The org's subscription: tier, status, provider, current period end",
  scopes: ['billing:read'],
  input: z.object({}),
  output: Subscription,
  handler: (ctx) => plans.subscription(ctx),
});

export const getUsage = defineOperation({
  id: 'billing.usage',
  method: 'GET',
  path: '/billing/usage',
  summary: 'Current usage against the tier limits',
  scopes: ['billing:read'],
  input: z.object({}),
  output: z.object({ tier: z.string(), period_start: Timestamp, reset_at: Timestamp, usage: UsageByLimit }),
  handler: (ctx) => plans.usage(ctx),
});

export const planSummary = defineOperation({
  id: 'billing.plan_summary',
  method: 'GET',
  path: '/billing/plan-summary',
  summary: 'The tier with its limits, the subscription, credits and current usage',
  scopes: ['billing:read'],
  input: z.object({}),
  output: z.object({
    tier: Tier,
    subscription: Subscription,
    credits: z.object({
      balance: z.number().int(),
      available: z.number().int(),
      held: z.number().int(),
      per_month: Limit.describe('Credits the tier includes each month'),
    }),
    period_start: Timestamp,
    reset_at: Timestamp,
    usage: UsageByLimit,
  }),
  handler: (ctx) => plans.planSummary(ctx),
});

export const validateDowngrade = defineOperation({
  id: 'billing.validate_downgrade',
  method: 'POST',
  path: '/billing/validate-downgrade',
  summary: 'Would the org fit the target tier? Lists each limit its usage exceeds',
  scopes: ['billing:read'],
  status: 200,
  input: TierInput,
  output: z.object({ allowed: z.boolean(), current_tier: z.string(), tier: z.string(), violations: z.array(Violation) }),
  cli: { args: ['tier'], columns: ['allowed', 'current_tier', 'tier', 'violations'] },
  handler: (ctx, input) => plans.validateDowngrade(ctx, input),
});

export const changePlan = defineOperation({
  id: 'billing.change_plan',
  method: 'POST',
  path: '/billing/change-plan',
  summary: 'Move the org to another tier (422 with the violations when its usage exceeds the target)',
  description: 'Without Stripe the change is immediate (provider `manual`). With Stripe configured, a paid tier is bought with `billing.checkout`.',
  scopes: ['billing:write'],
  status: 200,
  input: TierInput,
  output: z.object({ changed: z.boolean(), previous_tier: z.string(), tier: z.string(), subscription: Subscription }),
  cli: { args: ['tier'], columns: ['changed', 'previous_tier', 'tier'] },
  handler: (ctx, input) => plans.changePlan(ctx, input),
});

export const planOperations = [getBilling, listTiers, pricing, getSubscription, getUsage, planSummary, validateDowngrade, changePlan];
