// Agent templates (issue 11): a reusable identity (system prompt), default model, tool allow-list, capabilities and
// config, from which agents are made. Archiving is a soft delete that frees the slug.
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const agentTemplates = pgTable(
  'agent_templates',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    description: text('description'),
    icon: text('icon'),
    category: text('category'),
    model: text('model'),
    intervalSec: integer('interval_sec'),
    /** The system prompt's identity part. */
    identity: text('identity'),
    tools: text('tools').array().notNull().default(sql`'{}'::text[]`),
    capabilities: text('capabilities').array().notNull().default(sql`'{}'::text[]`),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    featured: boolean('featured').notNull().default(false),
    sortOrder: integer('sort_order').notNull().default(0),
    archivedAt: ts('archived_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('agent_templates_org_slug_idx').on(t.orgId, t.slug).where(sql`archived_at is null`),
    index('agent_templates_org_idx').on(t.orgId, t.id),
  ],
);
