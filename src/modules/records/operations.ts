import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, Timestamp } from '../../core/schemas.ts';
import * as records from './service.ts';

const Content = {
  title: z.string().trim().min(1).max(500),
  subtitle: z.string().max(500).nullable(),
  summary_text: z.string().max(20_000).nullable().describe('The searchable text of the record'),
  app_href: z.string().max(2000).nullable().describe('Where the object lives in its product'),
  meta: z.record(z.string(), z.unknown()).describe('Structured data (stage, amount …)'),
  status: z.string().describe('Default `active`'),
  tags: z.array(z.string()),
};

export const WorkspaceRecord = z
  .object({
    id: z.string(),
    org_id: z.string(),
    source_product: z.string(),
    record_type: z.string(),
    source_ref: z.string(),
    ...Content,
    revision: z.number().int().describe('1 when published; +1 on each change of content'),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'WorkspaceRecord' });

const Key = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\s]+$/, 'no spaces');
const columns = ['id', 'source_product', 'record_type', 'source_ref', 'title', 'status', 'revision'];

export const upsertRecord = defineOperation({
  id: 'records.upsert',
  method: 'POST',
  path: '/records',
  aliases: ['/workspace-records'],
  summary: 'Publish a workspace record: create it, or update it when its content changed (idempotent)',
  description:
    'Keyed by (org, source_product, record_type, source_ref). 201 `{ workspace_record_id, status: "created" }` the first time; then 200 with ' +
    '`status` `updated` (content changed: a new revision) or `unchanged`. Every content field is replaced: one left out is cleared. ' +
    '`status` in the answer is what the upsert did; the record\'s own status is `record.status`. The org is the caller\'s: an `org_id` in the body ' +
    '(BizBasics clients send one) is ignored.',
  scopes: ['records:write'],
  input: z.object({
    source_product: Key.describe('The product that owns the object, e.g. `crm`'),
    record_type: Key.describe('e.g. `deal`, `invoice`'),
    source_ref: Key.describe("The object's id in its product"),
    title: Content.title,
    subtitle: Content.subtitle.optional(),
    summary_text: Content.summary_text.optional(),
    app_href: Content.app_href.optional(),
    meta: Content.meta.optional(),
    status: z.string().trim().min(1).max(50).optional().describe("The record's status (default `active`)"),
    tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
  }),
  output: z
    .object({ workspace_record_id: z.string(), status: z.enum(['created', 'updated', 'unchanged']), record: WorkspaceRecord })
    .meta({ id: 'WorkspaceRecordUpsert' }),
  statusOf: (out) => (out.status === 'created' ? 201 : 200),
  cli: { args: [], columns: ['workspace_record_id', 'status'] },
  handler: (ctx, input) => records.upsertRecord(ctx, input),
});

export const listRecords = defineOperation({
  id: 'records.list',
  method: 'GET',
  path: '/records',
  aliases: ['/workspace-records'],
  summary: 'Workspace records, newest first (filter by record_type, source_product, status)',
  scopes: ['records:read'],
  input: PageInput.extend({ record_type: z.string().max(200).optional(), source_product: z.string().max(200).optional(), status: z.string().max(50).optional() }),
  output: listOf(WorkspaceRecord),
  cli: { columns },
  handler: (ctx, input) => records.listRecords(ctx, input),
});

export const getRecord = defineOperation({
  id: 'records.get',
  method: 'GET',
  path: '/records/:id',
  summary: 'A workspace record',
  scopes: ['records:read'],
  input: z.object({ id: IdParam('Record') }),
  output: WorkspaceRecord,
  handler: (ctx, input) => records.getRecord(ctx, input.id),
});

export const listRecordRevisions = defineOperation({
  id: 'records.revisions.list',
  method: 'GET',
  path: '/records/:id/revisions',
  summary: "A record's revisions, oldest first (one per change of content)",
  scopes: ['records:read'],
  input: z.object({ id: IdParam('Record') }),
  output: z.object({
    data: z.array(
      z.object({
        revision: z.number().int(),
        ...Content,
        created_at: Timestamp,
      }),
    ),
  }),
  cli: { columns: ['revision', 'title', 'status', 'created_at'] },
  handler: (ctx, input) => records.listRevisions(ctx, input.id),
});

export const deleteRecord = defineOperation({
  id: 'records.delete',
  method: 'DELETE',
  path: '/records/:id',
  summary: 'Delete a workspace record and its revisions',
  scopes: ['records:write'],
  input: z.object({ id: IdParam('Record') }),
  output: Deleted,
  handler: (ctx, input) => records.deleteRecord(ctx, input.id),
});

export const recordOperations = [upsertRecord, listRecords, getRecord, listRecordRevisions, deleteRecord];
