// Agents (issue 11): members of an org's workforce that act with their own identity. Each agent has an API key of
// its org (`api_keys.agent_id`), whose secret is kept here encrypted so the runtime can act as the agent; its
// scopes are the agent's. Deleting an agent takes it offline (soft): its key stops working, its history stays.
import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';
import { agentTemplates } from './templates.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export type AgentRuntime = 'llm' | 'http' | 'process';
export type AgentStatus = 'active' | 'paused' | 'idle' | 'running' | 'error' | 'offline';

export const agents = pgTable(
  'agents',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    /** A slug, unique in the org: `opsbase agents start writer`. */
    name: text('name').notNull(),
    displayName: text('display_name'),
    role: text('role'),
    title: text('title'),
    /** The agent it reports to (a tree: cycles are refused). */
    reportsTo: text('reports_to'),
    emoji: text('emoji'),
    color: text('color'),
    templateId: text('template_id').references(() => agentTemplates.id, { onDelete: 'set null' }),
    runtime: text('runtime').$type<AgentRuntime>().notNull().default('llm'),
    runtimeConfig: jsonb('runtime_config').$type<Record<string, unknown>>().notNull().default({}),
    model: text('model'),
    /** The agent's own model-provider key (AES-256-GCM under the master key); null: the instance's. */
    providerKeyEncrypted: text('provider_key_encrypted'),
    instructions: text('instructions'),
    /** Tool allow-list: operation ids and `http_fetch`. */
    tools: text('tools').array().notNull().default(sql`'{}'::text[]`),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    intervalSec: integer('interval_sec'),
    maxConcurrentRuns: integer('max_concurrent_runs').notNull().default(1),
    monthlyCredits: bigint('monthly_credits', { mode: 'number' }),
    monthlyTokens: bigint('monthly_tokens', { mode: 'number' }),
    alertAtPct: integer('alert_at_pct').notNull().default(80),
    status: text('status').$type<AgentStatus>().notNull().default('active'),
    statusReason: text('status_reason'),
    /** The agent's API key secret, encrypted: the runtime presents it to act as the agent. */
    keySecretEncrypted: text('key_secret_encrypted').notNull(),
    lastHeartbeatAt: ts('last_heartbeat_at'),
    /** When its next heartbeat is due (null: at the next sweep). The sweep moves it on as it enqueues the wake. */
    heartbeatDueAt: ts('heartbeat_due_at'),
    /** When `agent.budget_alert` was last sent: at most once per UTC month. */
    budgetAlertedAt: ts('budget_alerted_at'),
    /** When its budget paused it (null otherwise): such an agent resumes by itself once a new month gives it room. */
    budgetPausedAt: ts('budget_paused_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('agents_org_name_idx').on(t.orgId, t.name), index('agents_org_idx').on(t.orgId, t.id), index('agents_reports_to_idx').on(t.reportsTo),
    // The heartbeat sweep reads only agents with an interval.
    index('agents_heartbeat_due_idx').on(t.heartbeatDueAt).where(sql`interval_sec is not null`),
    // The sweep's look for budget-paused agents a new month may resume: almost always none.
    index('agents_budget_paused_idx').on(t.budgetPausedAt).where(sql`budget_paused_at is not null`),
  ],
);
