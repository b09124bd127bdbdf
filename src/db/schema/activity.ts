import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const activityLog = pgTable(
  'activity_log',
  {
    id: text('id').primaryKey(),
    // Null for instance-level events (a user registering, an account erased).
    orgId: text('org_id'),
    actorType: text('actor_type', { enum: ['user', 'agent', 'system'] }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    requestId: text('request_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('activity_log_org_idx').on(t.orgId, t.id), index('activity_log_org_action_idx').on(t.orgId, t.action)],
);

/** API request log, written in batches off the request path (see http/request-log.ts). */
export const apiRequests = pgTable(
  'api_requests',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id'),
    keyId: text('key_id'),
    userId: text('user_id'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    route: text('route'),
    status: integer('status').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    ip: text('ip'),
    requestId: text('request_id').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('api_requests_org_idx').on(t.orgId, t.id), index('api_requests_key_idx').on(t.keyId, t.id)],
);
