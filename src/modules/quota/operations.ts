import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { Timestamp } from '../../core/schemas.ts';
import * as quota from './service.ts';
import { RESOURCES } from './service.ts';

const Quota = z
  .object({
    used: z.number().int(),
    limit: z.number().int().describe('-1 means unlimited'),
    remaining: z.number().int().describe('-1 means unlimited'),
    period: z.literal('month'),
    reset_at: Timestamp.describe('The start of the next UTC month'),
  })
  .meta({ id: 'Quota' });

const perResource = <T extends z.ZodType>(item: T) => z.object(Object.fromEntries(RESOURCES.map((r) => [r, item])) as Record<quota.Resource, T>);

export const quotaStatus = defineOperation({
  id: 'quota.status',
  method: 'GET',
  path: '/quota/status',
  summary: "This month's usage against the plan's limits, per resource",
  scopes: ['quota:read'],
  input: z.object({}),
  output: z.object({ org_id: z.string(), plan: z.string(), quotas: perResource(Quota) }),
  handler: (ctx) => quota.status(ctx),
});

export const quotaBreakdown = defineOperation({
  id: 'quota.breakdown',
  method: 'GET',
  path: '/quota/breakdown',
  summary: "This month's usage per resource, split by product",
  scopes: ['quota:read'],
  input: z.object({}),
  output: z.object({
    org_id: z.string(),
    plan: z.string(),
    quotas: perResource(
      Quota.extend({
        products: z.array(
          z.object({ product_id: z.string().nullable().describe('null: usage not attributed to a product'), used: z.number().int() }),
        ),
      }),
    ),
  }),
  handler: (ctx) => quota.breakdown(ctx),
});

export const quotaConsume = defineOperation({
  id: 'quota.consume',
  method: 'POST',
  path: '/quota/consume',
  summary: 'Count usage of a resource if it fits the limit (over the limit: allowed false, nothing counted)',
  description:
    'Atomic under concurrency: the limit is never exceeded. Over the limit the answer is still 200, with `allowed: false`. ' +
    'A repeat with the same `idempotency_key` returns the first answer and counts nothing.',
  scopes: ['quota:write'],
  status: 200,
  input: z.object({
    resource: z.enum(RESOURCES),
    amount: z.number().int('must be a whole number').positive('must be greater than zero').max(1e15).default(1),
    product_id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'letters, digits, `_`, `.`, `:` or `-`, at most 100')
      .nullish()
      .describe('Attribute the usage to this product (see quota.breakdown)'),
    idempotency_key: z.string().min(1).max(200).nullish().describe('A repeat with the same key counts nothing and returns the first answer'),
  }),
  output: Quota.extend({
    allowed: z.boolean(),
    resource: z.enum(RESOURCES),
    replayed: z.boolean().describe('True when this idempotency_key was seen before: nothing was counted this time'),
  }),
  cli: { args: ['resource'], columns: ['allowed', 'resource', 'used', 'limit', 'remaining', 'reset_at'] },
  handler: (ctx, input) => quota.consume(ctx, input),
});

export const quotaOperations = [quotaStatus, quotaBreakdown, quotaConsume];
