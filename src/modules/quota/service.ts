// Quotas (BizBasics shapes): usage of ai_calls, api_calls, storage_bytes and seats per UTC month, against the
// limits of the org's tier (-1 = unlimited).
//
// `quota_usage` keeps, per org, resource and month, one row with product_id '' holding the org's total — the row
// a consume checks and moves in a single conditional upsert, so concurrent consumes can never pass the limit —
// and one row per named product for the breakdown.
import { and, eq, ne, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { type DbOrTx, together } from '../../db/client.ts';
import { quotaConsumptions, quotaUsage } from '../../db/schema/billing.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { recordActivity } from '../activity/record.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { type Tier, tierOf } from '../billing/plans.ts';
import { memberCount } from '../orgs/seats.ts';
import { monthOf, type Period } from './period.ts';

export const RESOURCES = ['ai_calls', 'api_calls', 'storage_bytes', 'seats'] as const;
export type Resource = (typeof RESOURCES)[number];

/** The product_id of the org-wide total row. */
const TOTAL = '';

export interface QuotaView {
  used: number;
  limit: number;
  remaining: number;
  period: 'month';
  reset_at: string;
}

export function view(used: number, limit: number, period: Period): QuotaView {
  return { used, limit, remaining: limit === -1 ? -1 : Math.max(0, limit - used), period: 'month', reset_at: period.resetAt.toISOString() };
}

export async function tierOfOrg(ctx: Ctx, orgId = requireOrg(ctx)): Promise<Tier> {
  const [org] = await ctx.db.select({ plan: orgs.plan }).from(orgs).where(eq(orgs.id, orgId));
  return tierOf(org?.plan, await effectiveCatalog(ctx.services, ctx.db));
}

/** The org's totals this period, every resource present (0 when unused). */
export async function usedThisPeriod(db: DbOrTx, orgId: string, period: Period = monthOf()): Promise<Record<Resource, number>> {
  const rows = await db
    .select({ resource: quotaUsage.resource, used: quotaUsage.used })
    .from(quotaUsage)
    .where(and(eq(quotaUsage.orgId, orgId), eq(quotaUsage.periodStart, period.start), eq(quotaUsage.productId, TOTAL)));
  const out = Object.fromEntries(RESOURCES.map((r) => [r, 0])) as Record<Resource, number>;
  for (const r of rows) if (r.resource in out) out[r.resource as Resource] = r.used;
  return out;
}

export async function status(ctx: Ctx) {
  const orgId = requireOrg(ctx);
  const period = monthOf();
  const [tier, used, members] = await together(
    ctx.db,
    () => tierOfOrg(ctx, orgId),
    () => usedThisPeriod(ctx.db, orgId, period),
    () => memberCount(ctx.db, orgId),
  );
  // Seats are held, not counted per month: what the seat limit is enforced against is the org's members.
  used.seats = members;
  const quotas = Object.fromEntries(RESOURCES.map((r) => [r, view(used[r], tier.limits[r], period)])) as Record<Resource, QuotaView>;
  return { org_id: orgId, plan: tier.id, quotas };
}

/** Like `status`, each resource split by product: `product_id: null` is usage no product was named for. */
export async function breakdown(ctx: Ctx) {
  const orgId = requireOrg(ctx);
  const period = monthOf();
  const [base, rows] = await together(
    ctx.db,
    () => status(ctx),
    () =>
      ctx.db
        .select({ resource: quotaUsage.resource, productId: quotaUsage.productId, used: quotaUsage.used })
        .from(quotaUsage)
        .where(and(eq(quotaUsage.orgId, orgId), eq(quotaUsage.periodStart, period.start), ne(quotaUsage.productId, TOTAL)))
        .orderBy(quotaUsage.resource, quotaUsage.productId),
  );
  const quotas = Object.fromEntries(
    RESOURCES.map((r) => {
      const products: { product_id: string | null; used: number }[] = rows
        .filter((row) => row.resource === r)
        .map((row) => ({ product_id: row.productId, used: row.used }));
      const attributed = products.reduce((n, p) => n + p.used, 0);
      const q = base.quotas[r];
      if (q.used > attributed) products.push({ product_id: null, used: q.used - attributed });
      return [r, { ...q, products }];
    }),
  ) as Record<Resource, QuotaView & { products: { product_id: string | null; used: number }[] }>;
  return { org_id: orgId, plan: base.plan, quotas };
}

export interface ConsumeInput {
  resource: Resource;
  amount: number;
  product_id?: string | null;
  idempotency_key?: string | null;
}

export type ConsumeResult = { allowed: boolean; resource: Resource; replayed: boolean } & QuotaView;

interface Remembered {
  request: { resource: Resource; amount: number; product_id: string | null };
  response: Omit<ConsumeResult, 'replayed'>;
}

/**
 * Counts `amount` of a resource when it fits under the limit (`allowed: true`), else counts nothing
 * (`allowed: false`, still a 200). With an idempotency key, a repeat returns the first answer and counts nothing.
 * Must run in a transaction (the operation's): the key's claim and the count commit together.
 */
export async function consume(ctx: Ctx, input: ConsumeInput): Promise<ConsumeResult> {
  const orgId = requireOrg(ctx);
  const request = { resource: input.resource, amount: input.amount, product_id: input.product_id || null };
  const key = input.idempotency_key || null;
  if (key) {
    // Claim the key first: a concurrent request with the same key waits here for ours to commit, then replays it.
    const claimed = await ctx.db
      .insert(quotaConsumptions)
      .values({ orgId, idempotencyKey: key, response: {} })
      .onConflictDoNothing()
      .returning({ key: quotaConsumptions.idempotencyKey });
    if (claimed.length === 0) {
      const [prev] = await ctx.db
        .select({ response: quotaConsumptions.response })
        .from(quotaConsumptions)
        .where(and(eq(quotaConsumptions.orgId, orgId), eq(quotaConsumptions.idempotencyKey, key)));
      const remembered = prev.response as unknown as Remembered;
      const same =
        remembered.request.resource === request.resource &&
        remembered.request.amount === request.amount &&
        remembered.request.product_id === request.product_id;
      if (!same) {
        throw new AppError(
          'idempotency_mismatch',
          'This idempotency_key was already used for another consume (resource, amount or product_id differ).',
          {
            first: remembered.request,
          },
        );
      }
      return { ...remembered.response, replayed: true };
    }
  }

  const period = monthOf();
  const tier = await tierOfOrg(ctx, orgId);
  const limit = tier.limits[input.resource];
  let used: number | undefined;
  if (limit === -1 || input.amount <= limit) {
    // One statement: creates the total row or adds to it, but only while the sum stays within the limit. The row
    // lock makes concurrent consumes queue and re-check the condition against the committed total.
    const fits = limit === -1 ? undefined : sql`${quotaUsage.used} + excluded.used <= ${limit}`;
    const [row] = await ctx.db
      .insert(quotaUsage)
      .values({ orgId, resource: input.resource, productId: TOTAL, periodStart: period.start, used: input.amount })
      .onConflictDoUpdate({
        target: [quotaUsage.orgId, quotaUsage.resource, quotaUsage.productId, quotaUsage.periodStart],
        set: { used: sql`${quotaUsage.used} + excluded.used` },
        setWhere: fits,
      })
      .returning({ used: quotaUsage.used });
    used = row?.used;
  }
  const allowed = used !== undefined;
  if (allowed && request.product_id) {
    await ctx.db
      .insert(quotaUsage)
      .values({ orgId, resource: input.resource, productId: request.product_id, periodStart: period.start, used: input.amount })
      .onConflictDoUpdate({
        target: [quotaUsage.orgId, quotaUsage.resource, quotaUsage.productId, quotaUsage.periodStart],
        set: { used: sql`${quotaUsage.used} + excluded.used` },
      });
  }
  if (!allowed) used = (await usedThisPeriod(ctx.db, orgId, period))[input.resource];
  const response = { allowed, resource: input.resource, ...view(used!, limit, period) };
  if (key) {
    const remembered: Remembered = { request, response };
    await ctx.db
      .update(quotaConsumptions)
      .set({ response: remembered as unknown as Record<string, unknown> })
      .where(and(eq(quotaConsumptions.orgId, orgId), eq(quotaConsumptions.idempotencyKey, key)));
  }
  if (allowed) {
    await recordActivity(ctx, {
      action: 'quota.consumed',
      entityType: 'quota',
      entityId: input.resource,
      metadata: { amount: input.amount, product_id: request.product_id, used: response.used },
    });
  }
  return { ...response, replayed: false };
}
