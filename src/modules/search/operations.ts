import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { SEARCH_KINDS } from '../../db/schema/search.ts';
import * as search from './service.ts';

const Q = z.string().trim().min(1).max(500).describe('Words (the last may be partial), a "quoted phrase", or part of a URL or code');
const Total = z
  .object({
    value: z.number().int().describe('Exact below the cap; the cap itself past it'),
    capped: z.boolean().describe('More matched than were counted'),
    label: z.string().describe('`12`, or `1,000+` past the cap'),
  })
  .meta({ id: 'SearchTotal' });
const Snippet = z.string().nullable().describe('HTML-escaped text around the match, the matched words in <mark>…</mark>');
const Meta = z.record(z.string(), z.unknown());
const GLOBAL_KINDS = ['task', 'agent', ...SEARCH_KINDS] as const;

export const searchGlobal = defineOperation({
  id: 'search.global',
  method: 'GET',
  path: '/search',
  summary: 'Search everything the org has — tasks, agents, documents, files, records — grouped by type',
  description: 'Each group holds its best hits and how many matched (`1,000+` past the cap). Only the types the caller may read are searched.',
  scopes: ['search:read'],
  input: z.object({
    q: Q,
    types: z
      .string()
      .max(200)
      .optional()
      .transform((v, ctx) => {
        if (!v) return undefined;
        const list = [...new Set(v.split(',').map((s) => s.trim()))];
        const bad = list.filter((t) => !(GLOBAL_KINDS as readonly string[]).includes(t));
        if (bad.length) ctx.addIssue({ code: 'custom', message: `Unknown types: ${bad.join(', ')}. Use: ${GLOBAL_KINDS.join(', ')}.` });
        return list as search.GlobalKind[];
      })
      .describe(`Comma-separated: ${GLOBAL_KINDS.join(', ')} (default all)`),
    limit: z.coerce.number().int().min(1).max(50).default(5).describe('Hits per group (1–50, default 5)'),
  }),
  output: z
    .object({
      q: z.string(),
      groups: z.array(
        z.object({
          kind: z.enum(GLOBAL_KINDS),
          total: Total,
          hits: z.array(
            z
              .object({ id: z.string(), title: z.string(), snippet: Snippet, path: z.string().describe('Its page in the dashboard'), meta: Meta })
              .meta({ id: 'SearchHit' }),
          ),
        }),
      ),
    })
    .meta({ id: 'SearchResults' }),
  cli: { name: 'search', args: ['q'] },
  handler: (ctx, input) => search.searchGlobal(ctx, input),
});

export const searchRetrieve = defineOperation({
  id: 'search.retrieve',
  method: 'GET',
  path: '/org/retrieve',
  summary: "Ranked hits over the org's documents, files and records, each with a highlighted snippet and where it is",
  description: 'As BizBasics `/v1/org/retrieve`. `record_type` or `product` narrow it to workspace records.',
  scopes: ['search:read'],
  input: z.object({
    q: Q,
    record_type: z.string().trim().min(1).max(100).optional(),
    product: z.string().trim().min(1).max(100).optional().describe("A record's source_product"),
    limit: z.coerce.number().int().min(1).max(100).default(20).describe('1–100, default 20'),
    offset: z.coerce.number().int().min(0).max(10_000).optional(),
  }),
  output: z.object({
    data: z.array(
      z.object({
        kind: z.enum(SEARCH_KINDS),
        id: z.string(),
        title: z.string(),
        snippet: Snippet,
        where: Meta.describe("Where the hit is: a document's folder, a file's path, a record's type and product"),
        rank: z.number(),
        matched: z.enum(['text', 'substring']),
        updated_at: z.string(),
      }),
    ),
    total: Total,
    meta: z.object({ limit: z.number().int(), has_more: z.boolean() }),
  }),
  cli: { name: 'retrieve', args: ['q'], columns: ['kind', 'id', 'title', 'rank'] },
  handler: (ctx, input) => search.retrieve(ctx, input),
});

export const searchOperations = [searchGlobal, searchRetrieve];
