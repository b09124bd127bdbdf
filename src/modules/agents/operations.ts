import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { idleCheck } from './idle.ts';
import { agentSigningSecret } from './identity.ts';
import * as lifecycle from './lifecycle.ts';
import { Agent, AGENT_STATUSES, CreateAgentInput, IdleCheck, RUNTIMES, UpdateAgentInput } from './schemas.ts';
import * as agents from './service.ts';

const columns = ['id', 'name', 'role', 'runtime', 'status', 'model', 'runs_this_month', 'last_heartbeat_at'];
const id = z.string().min(1).max(64).describe('Agent id or name');
const Note = z.object({ id, note: z.string().trim().max(500).optional().describe('Why (kept in the activity log)') });

export const createAgent = defineOperation({
  id: 'agents.create',
  method: 'POST',
  path: '/agents',
  aliases: ['/public/agents'],
  summary: 'Create an agent (it gets its own identity: an API key with its scopes, kept by the server)',
  scopes: ['agents:write'],
  input: CreateAgentInput,
  output: Agent,
  cli: { args: ['name'], columns },
  handler: (ctx, input) => agents.createAgent(ctx, input),
});

export const listAgents = defineOperation({
  id: 'agents.list',
  method: 'GET',
  path: '/agents',
  aliases: ['/public/agents'],
  summary: "The org's agents, newest first, with their runs, spend and completion rate this month and their last heartbeat",
  scopes: ['agents:read'],
  input: PageInput.extend({
    status: z.enum(AGENT_STATUSES).optional(),
    role: z.string().max(200).optional(),
    runtime: z.enum(RUNTIMES).optional(),
  }),
  output: listOf(Agent),
  cli: { columns },
  handler: (ctx, input) => agents.listAgents(ctx, input),
});

export const getAgent = defineOperation({
  id: 'agents.get',
  method: 'GET',
  path: '/agents/:id',
  aliases: ['/public/agents/:id'],
  summary: 'Get an agent by id or name',
  scopes: ['agents:read'],
  input: z.object({ id }),
  output: Agent,
  cli: { columns },
  handler: (ctx, input) => agents.getAgent(ctx, input.id),
});

export const updateAgent = defineOperation({
  id: 'agents.update',
  method: 'PATCH',
  path: '/agents/:id',
  aliases: ['/public/agents/:id'],
  summary: 'Update an agent (status changes go through start / stop / restart)',
  scopes: ['agents:write'],
  input: UpdateAgentInput,
  output: Agent,
  cli: { columns },
  handler: (ctx, input) => agents.updateAgent(ctx, input),
});

/** start / stop / restart: the same shape, a different transition. */
function lifecycleOperation(verb: 'start' | 'stop' | 'restart', summary: string, run: typeof lifecycle.startAgent) {
  return defineOperation({
    id: `agents.${verb}`,
    method: 'POST',
    path: `/agents/:id/${verb}`,
    summary,
    scopes: ['agents:write'],
    status: 200,
    input: Note,
    output: Agent,
    cli: { columns },
    handler: (ctx, input) => run(ctx, input.id, input.note),
  });
}

export const startAgent = lifecycleOperation('start', 'Start an agent (active; an offline agent comes back, its identity working again)', lifecycle.startAgent);
export const stopAgent = lifecycleOperation('stop', 'Stop an agent (paused: it takes no new work)', lifecycle.stopAgent);
export const restartAgent = lifecycleOperation('restart', 'Restart an agent (active again, its error cleared)', lifecycle.restartAgent);

export const deleteAgent = defineOperation({
  id: 'agents.delete',
  method: 'DELETE',
  path: '/agents/:id',
  aliases: ['/public/agents/:id'],
  summary: 'Take an agent offline (soft delete: its identity stops working, its history stays; `start` brings it back)',
  scopes: ['agents:write'],
  input: z.object({ id }),
  output: Agent,
  cli: { columns },
  handler: (ctx, input) => lifecycle.deleteAgent(ctx, input.id),
});

export const agentSigningSecretOp = defineOperation({
  id: 'agents.signing_secret',
  method: 'GET',
  path: '/agents/:id/signing-secret',
  summary: "The secret an http agent's runs are signed with (Standard Webhooks `whsec_…`): give it to the agent to verify them",
  scopes: ['agents:write'],
  input: z.object({ id }),
  output: z.object({
    agent_id: z.string(),
    secret: z.string().describe('`whsec_…`: verify `webhook-signature` with any Standard Webhooks library'),
  }),
  cli: { columns: ['agent_id', 'secret'] },
  handler: async (ctx, input) => {
    const agent = await agents.findAgent(ctx, input.id);
    return { agent_id: agent.id, secret: agentSigningSecret(ctx.services.masterKey, agent.id) };
  },
});

export const idleCheckAgent = defineOperation({
  id: 'agents.idle_check',
  method: 'GET',
  path: '/agent-runs/idle-check',
  summary: "What the agent's next heartbeat would do, decided without a model call: is there a task it could start now?",
  description:
    '`idle` is true when no task is startable (its own todo tasks nothing blocks, or its own whose claim lapsed, without an open run). `reason` says what a wake would do: `ready` (start `next_task_id`), `no_work`, `at_capacity` (max_concurrent_runs open), `over_budget`, or the agent\'s status (`paused`, `offline`, `error`).',
  scopes: ['agents:read'],
  input: z.object({ agent: id.optional().describe('Agent id or name (default: the calling agent, for an agent asking about itself)') }),
  output: IdleCheck,
  cli: { columns: ['agent_id', 'idle', 'reason', 'next_task_number', 'open_runs', 'max_concurrent_runs'] },
  handler: async (ctx, input) => {
    const ref = input.agent ?? (ctx.actorType === 'agent' ? ctx.actorId : null);
    if (!ref) throw new AppError('not_found', 'No agent named: give `agent` (only an agent may leave it out, to ask about itself).');
    return idleCheck(ctx.db, await agents.findAgent(ctx, ref));
  },
});

// Delete last: tests that walk the registry in order act on one agent.
export const agentOperations = [
  createAgent,
  listAgents,
  getAgent,
  updateAgent,
  idleCheckAgent,
  startAgent,
  stopAgent,
  restartAgent,
  agentSigningSecretOp,
  deleteAgent,
];
