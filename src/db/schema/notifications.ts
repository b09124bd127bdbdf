// Notifications (issue 4, scope 6): for one member of an org (`user_id`) or for the whole org (`user_id` null).
// Made by hand (`POST /notifications`) or by the event dispatcher's rules (`event_id` set; at most one per event
// and recipient, which makes dispatch idempotent).
import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const notifications = pgTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    /** The recipient; null = everyone in the org. */
    userId: text('user_id'),
    type: text('type').notNull(),
    title: text('title').notNull(),
    body: text('body'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    readAt: ts('read_at'),
    eventId: text('event_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('notifications_org_idx').on(t.orgId, t.id),
    index('notifications_unread_idx').on(t.orgId, t.userId).where(sql`read_at is null`),
    uniqueIndex('notifications_event_recipient_idx').on(t.eventId, sql`coalesce(user_id, '')`).where(sql`event_id is not null`),
  ],
);
