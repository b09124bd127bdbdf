// The credentials vault (issue 12): named secrets of an org, encrypted with AES-256-GCM under the master key
// (core/crypto.ts). Nothing but `credentials.get` ever decrypts a value, and every such read is in the activity log.
// Integrations keep their secret fields here (`integration` names the owner) and their plain settings beside them.
import { index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const credentials = pgTable(
  'credentials',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    valueEncrypted: text('value_encrypted').notNull(),
    /** The integration whose secret field this is (`stripe`), or null for one put by hand. */
    integration: text('integration'),
    createdBy: text('created_by'),
    updatedBy: text('updated_by'),
    lastReadAt: ts('last_read_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('credentials_org_name_key').on(t.orgId, t.name), index('credentials_org_idx').on(t.orgId, t.id)],
);

export const INTEGRATION_STATUSES = ['configured', 'ok', 'failing'] as const;

export const integrationConfigs = pgTable(
  'integration_configs',
  {
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** The non-secret fields (base URLs, hosts, ports, bucket names). */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: INTEGRATION_STATUSES }).notNull().default('configured'),
    lastCheckedAt: ts('last_checked_at'),
    lastError: text('last_error'),
    configuredBy: text('configured_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.kind] })],
);
