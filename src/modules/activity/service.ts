// The org's audit trail: read it, filter it, add to it, count it.
import { and, count, desc, eq, gte, type SQL, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { activityLog } from '../../db/schema/activity.ts';
import { recordActivity } from './record.ts';

type Row = typeof activityLog.$inferSelect;

export function presentActivity(r: Row) {
  return {
    id: r.id,
    org_id: r.orgId,
    actor_type: r.actorType,
    actor_id: r.actorId,
    action: r.action,
    entity_type: r.entityType,
    entity_id: r.entityId,
    metadata: r.metadata,
    request_id: r.requestId,
    created_at: r.createdAt.toISOString(),
  };
}

export interface ActivityFilter {
  actor_type?: 'user' | 'agent' | 'system';
  actor_id?: string;
  action?: string;
  entity_type?: string;
  entity_id?: string;
}

export async function listActivity(ctx: Ctx, input: PageInput & ActivityFilter) {
  return listNewestFirst(
    ctx.db,
    activityLog,
    input,
    [
      eq(activityLog.orgId, requireOrg(ctx)),
      input.actor_type ? eq(activityLog.actorType, input.actor_type) : undefined,
      input.actor_id ? eq(activityLog.actorId, input.actor_id) : undefined,
      input.action ? eq(activityLog.action, input.action) : undefined,
      input.entity_type ? eq(activityLog.entityType, input.entity_type) : undefined,
      input.entity_id ? eq(activityLog.entityId, input.entity_id) : undefined,
    ],
    presentActivity,
  );
}

/** An entry written by a client (an agent reporting what it did, an integration); the actor is the caller. */
export async function createActivity(
  ctx: Ctx,
  input: { action: string; entity_type: string; entity_id?: string | null; metadata?: Record<string, unknown> },
) {
  const row = await recordActivity(ctx, { action: input.action, entityType: input.entity_type, entityId: input.entity_id, metadata: input.metadata });
  return presentActivity(row);
}

async function grouped(ctx: Ctx, column: SQL, since?: Date) {
  const where = and(eq(activityLog.orgId, requireOrg(ctx)), since ? gte(activityLog.createdAt, since) : undefined);
  const rows = await ctx.db
    .select({ key: sql<string>`${column}`, n: count() })
    .from(activityLog)
    .where(where)
    .groupBy(column)
    .orderBy(desc(count()))
    .limit(50);
  return Object.fromEntries(rows.map((r) => [r.key ?? 'unknown', r.n]));
}

export async function activityStats(ctx: Ctx, input: { days: number }) {
  const since = new Date(Date.now() - input.days * 86_400_000);
  const org = requireOrg(ctx);
  const [totals] = await ctx.db
    .select({
      total: count(),
      last_24h: sql<number>`count(*) filter (where ${activityLog.createdAt} >= now() - interval '24 hours')::int`,
      in_period: sql<number>`count(*) filter (where ${activityLog.createdAt} >= ${since})::int`,
    })
    .from(activityLog)
    .where(eq(activityLog.orgId, org));
  return {
    period_days: input.days,
    total: totals.total,
    last_24h: totals.last_24h,
    in_period: totals.in_period,
    by_action: await grouped(ctx, sql`${activityLog.action}`, since),
    by_actor_type: await grouped(ctx, sql`${activityLog.actorType}`, since),
    by_entity_type: await grouped(ctx, sql`${activityLog.entityType}`, since),
  };
}
