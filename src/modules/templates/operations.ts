import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { QueryBool, Timestamp } from '../../core/schemas.ts';
import * as templates from './service.ts';

export const Template = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    icon: z.string().nullable(),
    category: z.string().nullable(),
    model: z.string().nullable(),
    interval_sec: z.number().int().nullable(),
    identity: z.string().nullable().describe("The identity part of an llm agent's system prompt"),
    tools: z.array(z.string()),
    capabilities: z.array(z.string()),
    config: z.record(z.string(), z.unknown()),
    featured: z.boolean(),
    sort_order: z.number().int(),
    archived_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'AgentTemplate' });

const columns = ['id', 'slug', 'name', 'category', 'model', 'featured', 'archived_at'];
const id = z.string().min(1).max(64).describe('Template id or slug');
const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a slug: lowercase letters, digits and -, at most 63');
const Fields = {
  description: z.string().trim().max(5000).nullish(),
  icon: z.string().trim().max(100).nullish(),
  category: z.string().trim().max(100).nullish(),
  model: z.string().trim().max(200).nullish(),
  interval_sec: z.number().int().min(60).max(31 * 86400).nullish(),
  identity: z.string().trim().max(20_000).nullish(),
  tools: z.array(z.string().min(1).max(100)).max(100).optional().describe('Operation ids (and `http_fetch`) agents made from it may call'),
  capabilities: z.array(z.string().trim().min(1).max(100)).max(100).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  featured: z.boolean().optional(),
  sort_order: z.number().int().min(-1_000_000).max(1_000_000).optional(),
};

export const createTemplate = defineOperation({
  id: 'templates.create',
  method: 'POST',
  path: '/templates',
  aliases: ['/public/templates'],
  summary: 'Create an agent template',
  scopes: ['templates:write'],
  input: z.object({ name: z.string().trim().min(1).max(200), slug: Slug.optional().describe('Default: from the name'), ...Fields }),
  output: Template,
  cli: { args: ['name'], columns },
  handler: (ctx, input) => templates.createTemplate(ctx, input),
});

export const listTemplates = defineOperation({
  id: 'templates.list',
  method: 'GET',
  path: '/templates',
  aliases: ['/public/templates'],
  summary: "The org's agent templates, newest first (archived ones with archived=true)",
  scopes: ['templates:read'],
  input: PageInput.extend({
    category: z.string().max(100).optional(),
    featured: QueryBool.optional(),
    archived: QueryBool.optional(),
  }),
  output: listOf(Template),
  cli: { columns },
  handler: (ctx, input) => templates.listTemplates(ctx, input),
});

export const getTemplate = defineOperation({
  id: 'templates.get',
  method: 'GET',
  path: '/templates/:id',
  aliases: ['/public/templates/:id'],
  summary: 'Get an agent template by id or slug',
  scopes: ['templates:read'],
  input: z.object({ id }),
  output: Template,
  cli: { columns },
  handler: (ctx, input) => templates.getTemplate(ctx, input.id),
});

export const updateTemplate = defineOperation({
  id: 'templates.update',
  method: 'PATCH',
  path: '/templates/:id',
  aliases: ['/public/templates/:id'],
  summary: 'Update an agent template',
  scopes: ['templates:write'],
  input: z.object({ id, name: z.string().trim().min(1).max(200).optional(), slug: Slug.optional(), ...Fields }),
  output: Template,
  cli: { columns },
  handler: (ctx, input) => templates.updateTemplate(ctx, input),
});

export const deleteTemplate = defineOperation({
  id: 'templates.delete',
  method: 'DELETE',
  path: '/templates/:id',
  aliases: ['/public/templates/:id'],
  summary: 'Archive an agent template (soft delete; agents made from it are unchanged)',
  scopes: ['templates:write'],
  input: z.object({ id }),
  output: Template,
  cli: { columns },
  handler: (ctx, input) => templates.archiveTemplate(ctx, input.id),
});

export const templateOperations = [createTemplate, listTemplates, getTemplate, updateTemplate, deleteTemplate];
