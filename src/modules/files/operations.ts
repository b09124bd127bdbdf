import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, QueryBool, Timestamp } from '../../core/schemas.ts';
import { EXTRACTION_STATES } from '../../db/schema/files.ts';
import * as filesService from './service.ts';

const FileFields = {
  id: z.string(),
  org_id: z.string(),
  name: z.string(),
  path: z.string().describe('Where the file sits in the org; unique: an upload to the same path replaces the file'),
  type: z.string().describe('MIME type'),
  category: z.string().nullable(),
  size: z.number().int().describe('Bytes'),
  content_hash: z.string().describe('SHA-256 of the bytes (hex)'),
  version: z.number().int().describe('1 on upload; +1 each time new bytes replace it'),
  extraction_status: z.enum(EXTRACTION_STATES).describe('Text extraction: pending, done, failed, or skipped (a type with no text)'),
  extraction_error: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const File = z.object(FileFields).meta({ id: 'File' });
export const FileWithText = z
  .object({ ...FileFields, text_content: z.string().nullable().describe('The extracted text (null until extracted, or when there is none)') })
  .meta({ id: 'FileWithText' });

const columns = ['id', 'path', 'type', 'size', 'version', 'extraction_status'];
const MimeType = z
  .string()
  .trim()
  .max(200)
  .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;.*)?$/i, 'a MIME type such as `application/pdf`');

export const createFile = defineOperation({
  id: 'files.create',
  method: 'POST',
  path: '/files',
  summary: 'Upload a file (or replace the file at its path); its text is extracted in the background',
  description:
    'The body is the file itself (`application/octet-stream`, the other fields in the query string) or JSON with the bytes ' +
    'base64-encoded in `content_base64`; at most OPSBASE_FILE_MAX_BYTES (25 MB by default). `path` defaults to `name`; ' +
    'a file already at that path is replaced (same id; `version` +1 when the bytes differ). `result` says whether it was `created`, ' +
    '`replaced` or `unchanged` (201, 200, 200). Text is extracted from PDF, DOCX, HTML, Markdown, CSV, JSON and plain text.',
  scopes: ['files:write'],
  input: z.object({
    name: z.string().trim().min(1).max(255).describe('File name, e.g. contract.pdf'),
    path: z.string().min(1).max(1000).optional().describe('Path in the org, e.g. contracts/acme.pdf (default: the name)'),
    type: MimeType.optional().describe('MIME type (default: from the name)'),
    category: z.string().trim().min(1).max(100).nullish().describe('e.g. contract, invoice, brand'),
    content_base64: z.string().min(1).optional().describe('The bytes, base64-encoded, when the body is JSON (the CLI sends the file `--path` names as the body)'),
  }),
  output: File.extend({ result: z.enum(['created', 'replaced', 'unchanged']) }),
  upload: { field: 'content_base64', limit: (cfg) => cfg.OPSBASE_FILE_MAX_BYTES },
  statusOf: (out) => (out.result === 'created' ? 201 : 200),
  cli: { args: [], columns: [...columns, 'result'], upload: { from: 'path' } },
  handler: (ctx, input) => filesService.createFile(ctx, input),
});

export const listFiles = defineOperation({
  id: 'files.list',
  method: 'GET',
  path: '/files',
  summary: "The org's files, newest first (filter by path prefix, category, type)",
  scopes: ['files:read'],
  input: PageInput.extend({
    path_prefix: z.string().max(1000).optional().describe('e.g. `contracts/`'),
    category: z.string().max(100).optional(),
    type: z.string().max(200).optional().describe('A MIME type, or a prefix ending in `/` (`image/`)'),
  }),
  output: listOf(File),
  cli: { columns },
  handler: (ctx, input) => filesService.listFiles(ctx, input),
});

export const getFile = defineOperation({
  id: 'files.get',
  method: 'GET',
  path: '/files/:id',
  summary: 'A file, with its extracted text',
  scopes: ['files:read'],
  input: z.object({ id: IdParam('File') }),
  output: FileWithText,
  handler: (ctx, input) => filesService.getFile(ctx, input.id),
});

export const downloadFile = defineOperation({
  id: 'files.download',
  method: 'GET',
  path: '/files/:id/download',
  summary: "A file's bytes",
  description:
    'Answers with the bytes themselves (its Content-Type, and Content-Disposition naming the file; `inline=true` lets a browser show it). ' +
    'A client that asks for JSON only (`Accept: application/json`, as MCP does) gets JSON instead: the metadata and the bytes in `content_base64`.',
  scopes: ['files:read'],
  input: z.object({ id: IdParam('File'), inline: QueryBool.optional().describe('Content-Disposition inline instead of attachment') }),
  output: z
    .object({
      id: z.string(),
      name: z.string(),
      path: z.string(),
      type: z.string(),
      size: z.number().int(),
      content_hash: z.string(),
      content_base64: z.string(),
    })
    .meta({ id: 'FileContent' }),
  binary: (ctx, input) => filesService.openFile(ctx, input.id, input.inline ?? false),
  handler: (ctx, input) => filesService.downloadFile(ctx, input.id),
});

export const searchFiles = defineOperation({
  id: 'files.search',
  method: 'GET',
  path: '/files/search',
  summary: 'Files whose name or extracted text matches, best first (ranked: page with `offset`)',
  scopes: ['files:read'],
  input: PageInput.extend({
    q: z.string().trim().min(1).max(500).optional().describe('Words (full-text), or part of a name, URL or code; absent: the newest files'),
  }),
  output: listOf(File.extend({ rank: z.number(), snippet: z.string().nullable().describe('HTML-escaped text around the match, the matched words in <mark>…</mark>') })),
  cli: { columns: ['id', 'path', 'type', 'rank'] },
  handler: (ctx, input) => filesService.searchFiles(ctx, input),
});

export const deleteFile = defineOperation({
  id: 'files.delete',
  method: 'DELETE',
  path: '/files/:id',
  summary: 'Delete a file (its bytes go once no other file holds the same content)',
  scopes: ['files:write'],
  input: z.object({ id: IdParam('File') }),
  output: Deleted,
  handler: (ctx, input) => filesService.deleteFile(ctx, input.id),
});

// search before get: `/files/search` must not be taken for a file id (Fastify prefers the static route anyway).
export const fileOperations = [createFile, listFiles, searchFiles, getFile, downloadFile, deleteFile];
