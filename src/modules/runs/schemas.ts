// A run's wire shapes: runs.list / runs.get / tasks.run answer with these, runs.events with RunEvent.
import { z } from 'zod';
import { Timestamp } from '../../core/schemas.ts';
import { RUN_STATUSES } from '../../db/schema/runs.ts';

export const Run = z
  .object({
    id: z.string(),
    org_id: z.string(),
    task_id: z.string(),
    agent_id: z.string().nullable(),
    runtime: z.string(),
    model: z.string().nullable(),
    status: z.enum(RUN_STATUSES),
    reason: z.string().nullable().describe('Why it ended so: budget, cancelled, timeout, worker_lost, provider_error, …'),
    attempt: z.number().int().describe('Execution attempt (> 1 when a worker died mid-run and another took it over)'),
    credits: z.number().describe('Credits reserved for the run'),
    credits_spent: z.number().describe('Credits committed: `credits` on success, 0 otherwise'),
    tokens_in: z.number(),
    tokens_out: z.number(),
    steps: z.number().int().describe('Model calls made'),
    result: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    rule_ids: z.array(z.string()).describe('Rules its system prompt contained'),
    last_seq: z.number().int().describe('Sequence number of its last event'),
    created_by: z.object({ type: z.string(), id: z.string().nullable() }),
    cancel_requested_at: Timestamp.nullable().describe('A cancel was asked for; the worker running it stops it'),
    queued_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    duration_ms: z.number().int().nullable(),
  })
  .meta({ id: 'Run' });
export type RunOut = z.input<typeof Run>;

export const RUN_EVENT_TYPES = ['status', 'log', 'message', 'tool_call', 'tool_result', 'usage', 'result', 'error'] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

export const RunEvent = z
  .object({
    run_id: z.string(),
    seq: z.number().int().describe('1, 2, 3 … in the order they happened; resume after the last one you saw'),
    type: z.enum(RUN_EVENT_TYPES),
    data: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
  })
  .meta({ id: 'RunEvent' });

/** Events an external agent may report (status, result and error are the run's own, written when it ends). */
export const REPORTED_EVENT_TYPES = ['log', 'message', 'tool_call', 'tool_result', 'usage'] as const;

export const ReportedEvent = z.object({
  type: z.enum(REPORTED_EVENT_TYPES),
  data: z.record(z.string(), z.unknown()).default({}),
});

export const Usage = z
  .object({
    input_tokens: z.number().int().min(0).max(1e12),
    output_tokens: z.number().int().min(0).max(1e12),
  })
  .strict();
