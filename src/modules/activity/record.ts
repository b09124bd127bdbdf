// The audit row every mutation writes inside its own transaction (DESIGN §5).
import { activityLog } from '../../db/schema/activity.ts';
import type { Ctx } from '../../core/context.ts';
import { newId } from '../../core/ids.ts';

export interface ActivityInput {
  action: string;
  entityType: string;
  entityId?: string | null;
  metadata?: Record<string, unknown>;
  /** Defaults to ctx.orgId; instance-level events pass null. */
  orgId?: string | null;
}

export async function recordActivity(ctx: Ctx, entry: ActivityInput) {
  const metadata = ctx.keyId ? { ...entry.metadata, key_id: ctx.keyId } : (entry.metadata ?? {});
  const [row] = await ctx.db
    .insert(activityLog)
    .values({
      id: newId('activity'),
      orgId: entry.orgId === undefined ? ctx.orgId : entry.orgId,
      actorType: ctx.actorType,
      actorId: ctx.actorId,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId ?? null,
      metadata,
      requestId: ctx.requestId,
    })
    .returning();
  return row;
}
