import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { IdParam, QueryBool, Timestamp } from '../../core/schemas.ts';
import * as notifications from './service.ts';

export const Notification = z
  .object({
    id: z.string(),
    org_id: z.string(),
    user_id: z.string().nullable().describe('The recipient; null = the whole org'),
    type: z.string().describe('The event type it came from (e.g. `credits.low`), or the type given on create'),
    title: z.string(),
    body: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    read: z.boolean(),
    read_at: Timestamp.nullable(),
    event_id: z.string().nullable().describe('The domain event that caused it, when a rule made it'),
    created_at: Timestamp,
  })
  .meta({ id: 'Notification' });

const Unread = z.number().int().describe("Unread notifications the caller sees (a session: the org's and its own; a key: the org's)");
const TypeName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_.:-]+$/i, 'letters, digits, `_`, `.`, `:` and `-`');
const columns = ['id', 'type', 'title', 'read', 'user_id', 'created_at'];

export const listNotifications = defineOperation({
  id: 'notifications.list',
  method: 'GET',
  path: '/notifications',
  summary: "Notifications the caller sees, newest first, with the caller's unread count",
  description: 'A session sees the notifications addressed to the whole org and those addressed to its user; an API key sees the org-wide ones.',
  scopes: ['notifications:read'],
  input: PageInput.extend({
    read: QueryBool.optional().describe('true: only read ones; false: only unread ones'),
    type: z.string().max(100).optional().describe('Only this type'),
  }),
  output: listOf(Notification).extend({ unread: Unread }),
  cli: { columns },
  handler: (ctx, input) => notifications.listNotifications(ctx, input),
});

export const createNotification = defineOperation({
  id: 'notifications.create',
  method: 'POST',
  path: '/notifications',
  summary: 'Create a notification for the whole org or for one member',
  scopes: ['notifications:write'],
  input: z.object({
    user_id: z.string().max(64).nullish().describe('A member of the org; omitted or null: the whole org'),
    type: TypeName.default('custom'),
    title: z.string().trim().min(1).max(200),
    body: z.string().max(5000).nullish(),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
  output: Notification,
  cli: { args: ['title'], columns },
  handler: (ctx, input) => notifications.createNotification(ctx, input),
});

export const unreadCount = defineOperation({
  id: 'notifications.unread_count',
  method: 'GET',
  path: '/notifications/unread-count',
  summary: 'How many notifications the caller has not read',
  scopes: ['notifications:read'],
  input: z.object({ type: z.string().max(100).optional().describe('Only this type') }),
  output: z.object({ unread: Unread }),
  handler: (ctx, input) => notifications.unreadCount(ctx, input.type),
});

export const readNotification = defineOperation({
  id: 'notifications.read',
  method: 'POST',
  path: '/notifications/:id/read',
  summary: 'Mark a notification read',
  scopes: ['notifications:write'],
  status: 200,
  input: z.object({ id: IdParam('Notification') }),
  output: Notification,
  cli: { columns },
  handler: (ctx, input) => notifications.markRead(ctx, input.id),
});

export const readAllNotifications = defineOperation({
  id: 'notifications.read_all',
  method: 'PATCH',
  path: '/notifications/read-all',
  summary: 'Mark every notification the caller sees read',
  scopes: ['notifications:write'],
  input: z.object({}),
  output: z.object({ updated: z.number().int(), unread: Unread }),
  handler: (ctx, input) => notifications.markAllRead(ctx, input),
});

export const notificationOperations = [listNotifications, createNotification, unreadCount, readNotification, readAllNotifications];
