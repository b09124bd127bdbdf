import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import { RUN_STATUSES } from '../../db/schema/runs.ts';
import { several } from '../tasks/list.ts';
import { cancelRun } from './cancel.ts';
import { completeRun, failRun, reportRun } from './report.ts';
import { listRunEvents, streamRunEvents } from './stream.ts';
import { ReportedEvent, Run, RunEvent, Usage } from './schemas.ts';
import { findRun, listRuns, presentRun } from './service.ts';
import { runnable, startRun } from './start.ts';

const columns = ['id', 'status', 'task_id', 'agent_id', 'credits_spent', 'tokens_in', 'tokens_out', 'duration_ms'];
const RunId = z.string().min(1).max(64).describe('Run id (`run_…`)');

export const runTaskOp = defineOperation({
  id: 'tasks.run',
  method: 'POST',
  path: '/tasks/:id/run',
  summary: 'Run a task by its agent (1 credit, held now; committed on success, refunded on failure, timeout or cancel)',
  description:
    'Queues a run and answers 202 at once. The agent is `agent`, else the task\'s agent assignee. Follow it with `GET /runs/{run_id}/events` (JSON, or Server-Sent Events with `Accept: text/event-stream`).',
  scopes: ['runs:write'],
  cost: 1,
  settlement: 'deferred',
  // A queued run keeps its hold while it waits for a worker; once running, the run extends it to cover its time limit.
  holdTtlSeconds: 6 * 3600,
  status: 202,
  input: z.object({
    id: z.string().min(1).max(64).describe('Task id (`task_…`) or number'),
    agent: z.string().min(1).max(64).optional().describe("Agent id or name (default: the task's agent assignee)"),
  }),
  output: Run,
  cli: { columns, wait: 'runs.events' },
  precheck: (ctx, input) => runnable(ctx, input),
  handler: (ctx, input) => startRun(ctx, input),
});

export const listRunsOp = defineOperation({
  id: 'runs.list',
  method: 'GET',
  path: '/runs',
  summary: "The org's runs, newest first",
  scopes: ['runs:read'],
  input: PageInput.extend({
    task: z.string().min(1).max(64).optional().describe('Runs of this task (id or number)'),
    agent: z.string().min(1).max(64).optional().describe('Runs of this agent (id or name)'),
    status: z.string().max(200).optional().describe(`One or more of ${RUN_STATUSES.join(', ')}, comma-separated`),
  }),
  output: listOf(Run),
  cli: { columns },
  handler: (ctx, input) => listRuns(ctx, { ...input, status: several('status', input.status, RUN_STATUSES) }),
});

export const getRunOp = defineOperation({
  id: 'runs.get',
  method: 'GET',
  path: '/runs/:id',
  summary: 'Get a run: status, timings, usage, credits, result or error',
  scopes: ['runs:read'],
  input: z.object({ id: RunId }),
  output: Run,
  cli: { columns },
  handler: async (ctx, input) => presentRun(await findRun(ctx, input.id)),
});

// Strict: a page of events is addressed by `after` alone, so a list-style `cursor` or `offset` is refused, not ignored.
const EventsInput = z
  .object({
    id: RunId,
    after: z.coerce.number().int().min(0).optional().describe('Only events after this sequence number (resume)'),
    limit: z.coerce.number().int().min(1).max(200).default(200).describe('Events per page (1–200, default 200)'),
    last_event_id: z.string().max(20).optional().describe('Streams: resume after this event (for clients that cannot send Last-Event-ID)'),
    org: z.string().max(64).optional().describe('Streams from a browser: the org (an EventSource cannot send X-Org-Id)'),
  })
  .strict();

export const runEventsOp = defineOperation({
  id: 'runs.events',
  method: 'GET',
  path: '/runs/:id/events',
  summary: "A run's events in order: status changes, log lines, model messages, tool calls and results, usage",
  description:
    'As JSON by default. With `Accept: text/event-stream`, a live stream (Server-Sent Events) that replays what you missed (`Last-Event-ID` or `after`) then follows the run until it ends, from any server instance.',
  scopes: ['runs:read'],
  input: EventsInput,
  output: z.object({
    data: z.array(RunEvent),
    meta: z.object({
      last_seq: z.number().int().describe('The sequence number to pass as `after` next time'),
      has_more: z.boolean(),
      status: z.enum(RUN_STATUSES).describe("The run's status now"),
    }),
  }),
  cli: { columns: ['seq', 'type', 'data'] },
  handler: (ctx, input) => listRunEvents(ctx, input),
  stream: (ctx, input, open) => streamRunEvents(ctx, input, open),
});

export const cancelRunOp = defineOperation({
  id: 'runs.cancel',
  method: 'POST',
  path: '/runs/:id/cancel',
  summary: 'Cancel a run: a queued one ends at once, a running one is stopped; its credit is refunded',
  scopes: ['runs:write'],
  status: 200,
  input: z.object({ id: RunId }),
  output: Run,
  cli: { columns },
  handler: (ctx, input) => cancelRun(ctx, input.id),
});

const OWN_AGENT =
  "Authorised for the run's own agent (its run token is the agent's API key, whatever its scopes) and for callers holding `runs:write`; another agent gets 403.";
/** What runs.report, runs.complete and runs.fail share: an agent's own key may call them on its own runs. */
const agentReport = { method: 'POST' as const, scopes: ['runs:write'], ownAgent: true, status: 200 };

export const reportRunOp = defineOperation({
  id: 'runs.report',
  path: '/runs/:id/report',
  summary: "An external agent reports on its running run: events, usage so far, and a heartbeat that keeps the run's lease",
  description: `Every call renews the run's lease: an http agent silent for longer than its \`lease_sec\` (default 60) times out, refunded. The answer says whether a cancel was asked for. ${OWN_AGENT}`,
  ...agentReport,
  input: z.object({
    id: RunId,
    events: z.array(ReportedEvent).max(100).optional().describe('Appended to the run in order (streamed live)'),
    usage: Usage.optional().describe('Tokens used so far by the whole run (totals, not increments)'),
  }),
  output: z.object({
    id: z.string(),
    status: z.enum(RUN_STATUSES),
    cancel_requested: z.boolean().describe('Someone asked to cancel the run: stop and call runs.fail (or just stop)'),
    lease_expires_at: Timestamp.nullable().describe('Report again before this'),
    last_seq: z.number().int(),
  }),
  cli: { columns: ['id', 'status', 'cancel_requested', 'lease_expires_at'] },
  handler: (ctx, input) => reportRun(ctx, input),
});

export const completeRunOp = defineOperation({
  id: 'runs.complete',
  path: '/runs/:id/complete',
  summary: 'An external agent finishes its run with a result: the run succeeds, its credit is committed, the task moves on',
  ...agentReport,
  description: OWN_AGENT,
  input: z.object({
    id: RunId,
    result: z.string().min(1).max(100_000).describe('What the agent produced (becomes the task\'s resolution)'),
    usage: Usage.optional().describe('Tokens the whole run used, as the agent\'s model reported them'),
    model: z.string().min(1).max(200).optional().describe('The model the agent used'),
  }),
  output: Run,
  cli: { columns },
  handler: (ctx, input) => completeRun(ctx, input),
});

export const failRunOp = defineOperation({
  id: 'runs.fail',
  path: '/runs/:id/fail',
  summary: 'An external agent gives up on its run: the run fails (reason agent_error), its credit is refunded',
  ...agentReport,
  description: OWN_AGENT,
  input: z.object({
    id: RunId,
    error: z.string().min(1).max(10_000).describe('What went wrong, for the people reading the run'),
    usage: Usage.optional(),
  }),
  output: Run,
  cli: { columns },
  handler: (ctx, input) => failRun(ctx, input),
});

export const runOperations = [runTaskOp, listRunsOp, getRunOp, runEventsOp, cancelRunOp, reportRunOp, completeRunOp, failRunOp];
