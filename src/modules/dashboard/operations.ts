import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { Timestamp } from '../../core/schemas.ts';
import { agentEfficiency, agentQueueHealth } from './service.ts';

const Rate = z.number().nullable();
const AgentRef = { agent_id: z.string(), name: z.string(), status: z.string() };

export const agentEfficiencyOp = defineOperation({
  id: 'dashboard.agent_efficiency',
  method: 'GET',
  path: '/dashboard/agent-efficiency',
  summary: 'Per agent since a date (default 30 days): runs, success rate, tokens, credits, tasks done, tasks per 1k tokens, median run time',
  scopes: ['agents:read'],
  input: z.object({
    since: z.iso.datetime({ offset: true }).optional().describe('Count runs queued from this time on (default: 30 days ago)'),
  }),
  output: z.object({
    data: z.array(
      z.object({
        ...AgentRef,
        runs: z.number().int(),
        succeeded: z.number().int(),
        success_rate: Rate.describe('Succeeded of finished runs (0–1; null: none finished)'),
        tokens_in: z.number(),
        tokens_out: z.number(),
        tokens: z.number(),
        credits: z.number().describe('Credits committed'),
        tasks_done: z.number().int().describe('Distinct tasks it ran successfully'),
        tasks_per_1k_tokens: Rate,
        median_duration_ms: z.number().nullable().describe('Median time from start to end of its finished runs'),
      }),
    ),
    meta: z.object({ since: Timestamp }),
  }),
  cli: { columns: ['name', 'runs', 'success_rate', 'tokens', 'credits', 'tasks_done', 'tasks_per_1k_tokens', 'median_duration_ms'] },
  handler: (ctx, input) => agentEfficiency(ctx, input),
});

export const agentQueueHealthOp = defineOperation({
  id: 'dashboard.agent_queue_health',
  method: 'GET',
  path: '/dashboard/agent-queue-health',
  summary: 'Per agent: tasks waiting (todo, and how many of them blocked), the oldest wait, runs queued and running, heartbeats',
  scopes: ['agents:read'],
  input: z.object({}),
  output: z.object({
    data: z.array(
      z.object({
        ...AgentRef,
        queued_tasks: z.number().int().describe('Todo tasks assigned to it'),
        blocked_tasks: z.number().int().describe('Of those, waiting for an open dependency'),
        oldest_task_wait_seconds: z.number().int().nullable().describe('Age of its oldest todo task'),
        queued_runs: z.number().int(),
        running_runs: z.number().int(),
        oldest_run_wait_seconds: z.number().int().nullable().describe('How long its oldest queued run has waited for a worker'),
        max_concurrent_runs: z.number().int(),
        interval_sec: z.number().int().nullable(),
        last_heartbeat_at: Timestamp.nullable(),
        next_heartbeat_at: Timestamp.nullable(),
      }),
    ),
    meta: z.object({
      generated_at: Timestamp,
      unassigned_tasks: z.number().int().describe('Todo tasks with no assignee'),
      oldest_unassigned_wait_seconds: z.number().int().nullable(),
    }),
  }),
  cli: { columns: ['name', 'status', 'queued_tasks', 'blocked_tasks', 'oldest_task_wait_seconds', 'queued_runs', 'running_runs'] },
  handler: (ctx) => agentQueueHealth(ctx),
});

export const dashboardOperations = [agentEfficiencyOp, agentQueueHealthOp];
