// The daily creation quota (`tasks_per_day` of the org's tier, UTC days) and task numbers, both from the org's
// counter row. Bumping it is the first statement of a create: the row lock it takes queues an org's concurrent
// creates, so the count can never pass the limit and numbers are never handed out twice.
import { eq, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { together } from '../../db/client.ts';
import { Bindings, preparedFor } from '../../db/prepared.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { taskCounters } from '../../db/schema/tasks.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { type Catalog, tierOf } from '../billing/plans.ts';
import { tierOfOrg } from '../quota/service.ts';

export const utcDay = (d = new Date()) => d.toISOString().slice(0, 10);

/** The next UTC midnight: when today's count starts again from zero. */
export function resetAt(d = new Date()): string {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
}

export interface DailyQuota {
  used_today: number;
  limit: number;
  remaining: number;
  reset_at: string;
}

const view = (used: number, limit: number): DailyQuota => ({
  used_today: used,
  limit,
  remaining: limit === -1 ? -1 : Math.max(0, limit - used),
  reset_at: resetAt(),
});

/** Counts one creation and returns the new task's number; 402 `quota_exceeded` past the limit (nothing counted: the caller's transaction rolls back). */
export async function takeNumber(ctx: Ctx): Promise<number> {
  const orgId = requireOrg(ctx);
  const today = utcDay();
  const [row] = await ctx.db
    .insert(taskCounters)
    .values({ orgId, lastNumber: 1, day: today, createdToday: 1 })
    .onConflictDoUpdate({
      target: taskCounters.orgId,
      set: {
        lastNumber: sql`${taskCounters.lastNumber} + 1`,
        createdToday: sql`case when ${taskCounters.day} = excluded.day then ${taskCounters.createdToday} + 1 else 1 end`,
        day: sql`excluded.day`,
      },
    })
    .returning({ number: taskCounters.lastNumber, createdToday: taskCounters.createdToday });
  const { limit } = { limit: (await tierOfOrg(ctx, orgId)).limits.tasks_per_day };
  if (limit !== -1 && row.createdToday > limit) {
    const reset = resetAt();
    throw new AppError(
      'quota_exceeded',
      `This org created its ${limit} tasks for today (plan limit tasks_per_day). It resets at ${reset} (UTC midnight).`,
      {
        resource: 'tasks_per_day',
        limit,
        used: limit,
        reset_at: reset,
      },
    );
  }
  return row.number;
}

/** Today's count and the limit, in one query (a list page pays for it on every call). */
export async function dailyQuota(ctx: Ctx): Promise<DailyQuota> {
  const b = new Bindings();
  const org = b.bind('org', requireOrg(ctx));
  const counter = preparedFor(ctx.db, 'tasks_quota', b, () =>
    ctx.db
      .select({ plan: orgs.plan, day: taskCounters.day, createdToday: taskCounters.createdToday })
      .from(orgs)
      .leftJoin(taskCounters, eq(taskCounters.orgId, orgs.id))
      .where(eq(orgs.id, org)),
  );
  const [[row], catalog] = await together(
    ctx.db,
    () => counter.execute(b.values),
    () => effectiveCatalog(ctx.services, ctx.db),
  );
  return counterView(row, catalog);
}

/** The quota from the org's plan and counter row (`day` as YYYY-MM-DD; no row before the org's first task). */
export function counterView(row: { plan: string | null; day: string | null; createdToday: number | null } | undefined, catalog: Catalog): DailyQuota {
  const used = row?.day === utcDay() ? (row.createdToday ?? 0) : 0;
  return view(used, tierOf(row?.plan, catalog).limits.tasks_per_day);
}
