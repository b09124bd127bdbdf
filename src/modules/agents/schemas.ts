// The agent's wire shapes: one object in and out of every agents.* operation (and the public v1 aliases).
import { z } from 'zod';
import { Scope, Timestamp } from '../../core/schemas.ts';

export const AGENT_STATUSES = ['active', 'paused', 'idle', 'running', 'error', 'offline'] as const;
export const RUNTIMES = ['llm', 'http', 'process'] as const;

export const Budget = z
  .object({
    monthly_credits: z.number().int().min(0).max(1e12).nullable().optional().describe('Credits the agent may spend per UTC month (null: no cap)'),
    monthly_tokens: z.number().int().min(0).max(1e15).nullable().optional().describe('Model tokens per UTC month (null: no cap)'),
    alert_at_pct: z.number().int().min(1).max(100).optional().describe('Emit `agent.budget_alert` at this share of a cap (default 80)'),
  })
  .strict();

export const Agent = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string().describe('Unique in the org; usable wherever an agent id is'),
    display_name: z.string().nullable(),
    role: z.string().nullable(),
    title: z.string().nullable(),
    reports_to: z.string().nullable().describe('Id of the agent this one reports to'),
    emoji: z.string().nullable(),
    color: z.string().nullable(),
    template_id: z.string().nullable(),
    runtime: z.enum(RUNTIMES),
    runtime_config: z.record(z.string(), z.unknown()),
    model: z.string().nullable(),
    has_provider_api_key: z.boolean().describe('Whether the agent has its own model-provider key (never shown)'),
    instructions: z.string().nullable(),
    tools: z.array(z.string()).describe('Allow-listed operation ids (and `http_fetch`) the agent may call'),
    scopes: z.array(z.string()).describe('What the agent may do with its own identity'),
    key_id: z.string().nullable().describe("The agent's API key (its identity; requests appear under it)"),
    interval_sec: z.number().int().nullable(),
    max_concurrent_runs: z.number().int(),
    budget: z.object({ monthly_credits: z.number().nullable(), monthly_tokens: z.number().nullable(), alert_at_pct: z.number().int() }),
    status: z.enum(AGENT_STATUSES),
    status_reason: z.string().nullable(),
    runs_this_month: z.number().int().describe('Runs queued this UTC month'),
    credits_this_month: z.number().describe('Credits spent this UTC month: committed by finished runs plus held by open ones'),
    tokens_this_month: z.number().describe('Model tokens (in + out) its runs used this UTC month'),
    completion_rate: z.number().nullable().describe('Share of this month\'s finished runs that succeeded (0–1; null: none finished)'),
    last_heartbeat_at: Timestamp.nullable().describe('Its last heartbeat (or the last sign of life of a run)'),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Agent' });
export type AgentOut = z.input<typeof Agent>;

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a slug: lowercase letters, digits, - and _, starting with a letter or digit (at most 63)')
  .refine((s) => !/^agt_[0-9a-z]{26}$/.test(s), 'looks like an agent id');
const Text = (max: number) => z.string().trim().max(max);
const Ref = z.string().min(1).max(64);

/** Fields create and update share (update: all optional). */
export const AgentFields = {
  display_name: Text(200).nullish(),
  role: Text(200).nullish(),
  title: Text(200).nullish(),
  reports_to: Ref.nullish().describe('Agent id or name (a tree: no cycles)'),
  emoji: Text(16).nullish(),
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'a #rrggbb colour')
    .nullish(),
  template_id: Ref.nullish().describe('Template id or slug: identity and defaults (model, interval, tools)'),
  runtime_config: z.record(z.string(), z.unknown()).optional().describe('Per runtime: llm {provider, base_url, temperature, max_steps, …}, http {url, method, timeout_sec}, process {command, args, cwd, env, timeout_sec}'),
  model: Text(200).nullish(),
  provider_api_key: z.string().min(1).max(1000).nullish().describe("The agent's own model-provider key (write-only, stored encrypted); null removes it"),
  instructions: Text(20_000).nullish(),
  tools: z.array(z.string().min(1).max(100)).max(100).optional(),
  scopes: z.array(Scope).max(100).optional().describe('Default: the scopes its tools need. Only scopes you hold.'),
  interval_sec: z.number().int().min(60).max(31 * 86400).nullish().describe('How often it looks for work (heartbeat, seconds)'),
  max_concurrent_runs: z.number().int().min(1).max(100).optional(),
  budget: Budget.optional(),
};

export const CreateAgentInput = z.object({
  name: Name,
  runtime: z.enum(RUNTIMES).default('llm'),
  status: z.enum(['active', 'paused']).optional().describe('Start paused to configure it first'),
  ...AgentFields,
});
export type CreateAgentInput = z.output<typeof CreateAgentInput>;

export const UpdateAgentInput = z.object({
  id: Ref,
  name: Name.optional(),
  runtime: z.enum(RUNTIMES).optional(),
  ...AgentFields,
});
export type UpdateAgentInput = z.output<typeof UpdateAgentInput>;

export const IDLE_REASONS = ['ready', 'no_work', 'at_capacity', 'over_budget', 'paused', 'offline', 'error'] as const;

export const IdleCheck = z
  .object({
    agent_id: z.string(),
    idle: z.boolean().describe('No task the agent could start now'),
    next_task_id: z.string().nullable().describe('The task a wake would start next'),
    next_task_number: z.number().int().nullable(),
    reason: z.enum(IDLE_REASONS).describe('What a wake would do, or why not'),
    message: z.string(),
    open_runs: z.number().int().describe('Its runs queued or running'),
    max_concurrent_runs: z.number().int(),
  })
  .meta({ id: 'AgentIdleCheck' });
