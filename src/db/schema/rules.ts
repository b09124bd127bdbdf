// Rules (issue 11): standing instructions every llm run of the agents they cover gets in its system prompt — for
// the whole org (`agent_id` null) or one agent. A permanent rule cannot be deleted or disabled.
import { boolean, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { agents } from './agents.ts';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const rules = pgTable(
  'rules',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** null: every agent of the org. */
    agentId: text('agent_id').references(() => agents.id, { onDelete: 'cascade' }),
    category: text('category'),
    text: text('text').notNull(),
    permanent: boolean('permanent').notNull().default(false),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('rules_org_idx').on(t.orgId, t.id), index('rules_agent_idx').on(t.agentId)],
);
