import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    active: boolean('active').notNull().default(true),
    // Display form of the current secret: its first 13 characters and its last 4.
    prefix: text('prefix').notNull(),
    last4: text('last4').notNull(),
    rateLimitPerMinute: integer('rate_limit_per_minute'),
    createdBy: text('created_by'),
    /** Set for an agent's own key (agents act with it; managed through agents.*, not keys.*). */
    agentId: text('agent_id'),
    expiresAt: ts('expires_at'),
    revokedAt: ts('revoked_at'),
    deletedAt: ts('deleted_at'),
    lastUsedAt: ts('last_used_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('api_keys_org_idx').on(t.orgId, t.id)],
);

/** A key's secrets: rotation keeps the old secret valid until `expires_at` (the grace period). */
export const apiKeySecrets = pgTable(
  'api_key_secrets',
  {
    hash: text('hash').primaryKey(),
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    expiresAt: ts('expires_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('api_key_secrets_key_idx').on(t.keyId)],
);
