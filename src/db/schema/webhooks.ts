// Outbound webhooks (issue 4, scope 5; Standard Webhooks). An endpoint subscribes an org to event types (or `*`);
// the event dispatcher writes one delivery per (event, endpoint), in its own transaction, so fan-out is idempotent.
// The signing secret is stored encrypted (AES-256-GCM under the master key): signing needs the plaintext.
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const webhooks = pgTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description'),
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    secretEncrypted: text('secret_encrypted').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    /** When the current run of failed deliveries began (null: the last delivery succeeded). */
    failingSince: ts('failing_since'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
  },
  (t) => [index('webhooks_org_idx').on(t.orgId, t.id)],
);

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    /** The domain event delivered; null for test deliveries and replays. */
    eventId: text('event_id'),
    eventType: text('event_type').notNull(),
    /** The exact JSON body sent: `{ type, timestamp, data }`. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    /** The first 1 KiB of the last response body (or the network error). */
    lastResponse: text('last_response'),
    lastLatencyMs: integer('last_latency_ms'),
    lastAttemptAt: ts('last_attempt_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_org_idx').on(t.orgId, t.id),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.id),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    uniqueIndex('webhook_deliveries_event_webhook_idx').on(t.eventId, t.webhookId).where(sql`event_id is not null`),
  ],
);
