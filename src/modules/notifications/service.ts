// Notifications (issue 4, scope 6). Who sees what: a session (a person) sees the org-wide notifications
// (`user_id` null) and its own; an API key (an integration, no person) sees the org-wide ones only. Read state is
// kept on the notification itself, so marking an org-wide notification read marks it read for the whole org.
import { and, count, eq, isNotNull, isNull, or, type SQL } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { notifications } from '../../db/schema/notifications.ts';
import { orgMembers } from '../../db/schema/orgs.ts';
import { recordActivity } from '../activity/record.ts';

/** NOTIFY on every insert of notifications, payload the org id (an insert trigger, migration 0017): the live stream. */
export const NOTIFICATIONS_CHANNEL = 'opsbase_notifications';

type NotificationRow = typeof notifications.$inferSelect;

export function presentNotification(n: NotificationRow) {
  return {
    id: n.id,
    org_id: n.orgId,
    user_id: n.userId,
    type: n.type,
    title: n.title,
    body: n.body,
    data: n.data,
    read: n.readAt !== null,
    read_at: iso(n.readAt),
    event_id: n.eventId,
    created_at: n.createdAt.toISOString(),
  };
}

/** The notifications the caller may see: the org's, org-wide plus (for a person, i.e. a session) their own. */
function visible(ctx: Ctx): SQL {
  const orgWide = isNull(notifications.userId);
  const person = !ctx.keyId && ctx.userId ? ctx.userId : null;
  return and(eq(notifications.orgId, requireOrg(ctx)), person ? or(orgWide, eq(notifications.userId, person)) : orgWide) as SQL;
}

export async function unreadCount(ctx: Ctx, type?: string) {
  const [row] = await ctx.db
    .select({ n: count() })
    .from(notifications)
    .where(and(visible(ctx), isNull(notifications.readAt), type ? eq(notifications.type, type) : undefined));
  return { unread: row?.n ?? 0 };
}

export interface ListInput extends PageInput {
  read?: boolean;
  type?: string;
}

export async function listNotifications(ctx: Ctx, input: ListInput) {
  const page = await listNewestFirst(
    ctx.db,
    notifications,
    input,
    [
      visible(ctx),
      input.read === undefined ? undefined : input.read ? isNotNull(notifications.readAt) : isNull(notifications.readAt),
      input.type ? eq(notifications.type, input.type) : undefined,
    ],
    presentNotification,
  );
  return { ...page, ...(await unreadCount(ctx)) };
}

export interface CreateInput {
  user_id?: string | null;
  type: string;
  title: string;
  body?: string | null;
  data?: Record<string, unknown>;
}

export async function createNotification(ctx: Ctx, input: CreateInput) {
  const orgId = requireOrg(ctx);
  if (input.user_id) {
    const [member] = await ctx.db
      .select({ id: orgMembers.id })
      .from(orgMembers)
      .where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, input.user_id)));
    if (!member) throw unprocessable('`user_id` is not a member of this org.', { field: 'user_id' });
  }
  const [row] = await ctx.db
    .insert(notifications)
    .values({
      id: newId('notification'),
      orgId,
      userId: input.user_id ?? null,
      type: input.type,
      title: input.title,
      body: input.body ?? null,
      data: input.data ?? {},
    })
    .returning();
  await recordActivity(ctx, {
    action: 'notification.created',
    entityType: 'notification',
    entityId: row.id,
    metadata: { type: row.type, user_id: row.userId },
  });
  return presentNotification(row);
}

export async function markRead(ctx: Ctx, id: string) {
  const [row] = await ctx.db
    .select()
    .from(notifications)
    .where(and(visible(ctx), eq(notifications.id, id)))
    .for('update');
  if (!row) throw notFound('Notification');
  if (row.readAt) return presentNotification(row);
  const [updated] = await ctx.db.update(notifications).set({ readAt: new Date() }).where(eq(notifications.id, id)).returning();
  await recordActivity(ctx, { action: 'notification.read', entityType: 'notification', entityId: id });
  return presentNotification(updated);
}

export async function markAllRead(ctx: Ctx, input: { type?: string }) {
  const rows = await ctx.db
    .update(notifications)
    .set({ readAt: new Date() })
    .where(and(visible(ctx), isNull(notifications.readAt), input.type ? eq(notifications.type, input.type) : undefined))
    .returning({ id: notifications.id });
  if (rows.length)
    await recordActivity(ctx, {
      action: 'notification.read_all',
      entityType: 'notification',
      metadata: { count: rows.length, type: input.type ?? null },
    });
  return { updated: rows.length, ...(await unreadCount(ctx)) };
}
