import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, QueryBool, Timestamp } from '../../core/schemas.ts';
import * as rules from './service.ts';

export const Rule = z
  .object({
    id: z.string(),
    org_id: z.string(),
    scope: z.string().describe('`all`, or the id of the one agent it covers'),
    agent_id: z.string().nullable(),
    category: z.string().nullable(),
    text: z.string(),
    permanent: z.boolean().describe('Cannot be deleted or disabled while true'),
    enabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Rule' });

const columns = ['id', 'scope', 'category', 'permanent', 'enabled', 'text'];
const Scope = z.string().min(1).max(64).describe('`all` (every agent of the org) or an agent id or name');
const Fields = {
  category: z.string().trim().max(100).nullish().describe('e.g. security, workflow, style'),
  permanent: z.boolean().optional(),
  enabled: z.boolean().optional(),
};

export const listRules = defineOperation({
  id: 'rules.list',
  method: 'GET',
  path: '/rules',
  summary: 'Rules, newest first (filter by scope, by the agent they cover, category, permanent, enabled)',
  scopes: ['rules:read'],
  input: PageInput.extend({
    scope: Scope.optional(),
    agent: z.string().min(1).max(64).optional().describe("An agent's own rules and the org-wide ones"),
    category: z.string().max(100).optional(),
    permanent: QueryBool.optional(),
    enabled: QueryBool.optional(),
  }),
  output: listOf(Rule),
  cli: { columns },
  handler: (ctx, input) => rules.listRules(ctx, input),
});

export const createRule = defineOperation({
  id: 'rules.create',
  method: 'POST',
  path: '/rules',
  summary: 'Create a rule every llm run of the agents it covers gets in its system prompt',
  scopes: ['rules:write'],
  input: z.object({ text: z.string().trim().min(1).max(5000), scope: Scope.optional().describe('Default `all`'), ...Fields }),
  output: Rule,
  cli: { args: ['text'], columns },
  handler: (ctx, input) => rules.createRule(ctx, input),
});

export const updateRule = defineOperation({
  id: 'rules.update',
  method: 'PATCH',
  path: '/rules/:id',
  summary: 'Update a rule (a permanent one cannot be disabled: 403)',
  scopes: ['rules:write'],
  input: z.object({ id: IdParam('Rule'), text: z.string().trim().min(1).max(5000).optional(), scope: Scope.optional(), ...Fields }),
  output: Rule,
  cli: { columns },
  handler: (ctx, input) => rules.updateRule(ctx, input),
});

export const deleteRule = defineOperation({
  id: 'rules.delete',
  method: 'DELETE',
  path: '/rules/:id',
  summary: 'Delete a rule (a permanent one: 403)',
  scopes: ['rules:write'],
  input: z.object({ id: IdParam('Rule') }),
  output: Deleted,
  handler: (ctx, input) => rules.deleteRule(ctx, input.id),
});

export const ruleOperations = [listRules, createRule, updateRule, deleteRule];
