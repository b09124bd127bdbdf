import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, QueryBool, Timestamp } from '../../core/schemas.ts';
import { DOCUMENT_KINDS } from '../../db/schema/documents.ts';
import * as folders from './folders.ts';
import * as revisions from './revisions.ts';
import * as documents from './service.ts';

const Actor = z.object({ type: z.string(), id: z.string().nullable() });

export const Folder = z
  .object({
    id: z.string(),
    org_id: z.string(),
    parent_id: z.string().nullable(),
    name: z.string(),
    path: z.string().describe('Names from the root, joined by `/`'),
    depth: z.number().int().describe('0 at the root'),
    document_count: z.number().int().describe('Documents directly in it'),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Folder' });

const listItemShape = {
  id: z.string(),
  org_id: z.string(),
  folder_id: z.string().nullable(),
  folder_path: z.string().nullable(),
  title: z.string(),
  kind: z.enum(DOCUMENT_KINDS),
  summary: z.string().nullable(),
  summary_source: z.enum(['author', 'ai']).nullable().describe('`ai`: drafted by the AI layer, redrafted when the content changes'),
  tags: z.array(z.string()),
  revision: z.number().int().describe('Number of the latest revision'),
  created_by: Actor,
  updated_by: Actor,
  created_at: Timestamp,
  updated_at: Timestamp,
};
export const DocumentListItem = z.object(listItemShape).meta({ id: 'DocumentListItem' });
export const Document = z.object({ ...listItemShape, content_md: z.string() }).meta({ id: 'Document' });

const revisionShape = {
  id: z.string(),
  document_id: z.string(),
  number: z.number().int(),
  title: z.string(),
  lines: z.number().int(),
  created_by: Actor,
  created_at: Timestamp,
};
export const DocumentRevision = z.object(revisionShape).meta({ id: 'DocumentRevision' });
const DiffLine = z.object({
  type: z.enum(['same', 'added', 'removed']),
  text: z.string(),
  old_line: z.number().int().nullable(),
  new_line: z.number().int().nullable(),
});
export const DocumentRevisionDetail = z
  .object({
    ...revisionShape,
    content_md: z.string(),
    diff: z
      .object({
        from: z.number().int(),
        to: z.number().int(),
        title_changed: z.boolean(),
        from_title: z.string(),
        added: z.number().int(),
        removed: z.number().int(),
        lines: z.array(DiffLine),
        unified: z.string().describe('The same diff as text: `-`, `+` or a space before each line'),
      })
      .optional()
      .describe('With `compare_to`: the line diff from that revision to this one'),
  })
  .meta({ id: 'DocumentRevisionDetail' });

const FolderRef = z.string().trim().min(1).max(1000).describe('A folder id (`fld_…`) or its path from the root (`Policies/EU`)');
/** In a URL: an id, or a path up to 64 characters (`/` written %2F), like every path id. */
const FolderParam = z.string().trim().min(1).max(64).describe('Folder id (`fld_…`) or path (`Policies%2FEU`)');
const FolderName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^/]+$/, 'a folder name cannot contain `/` (it separates the names of a path)');
const Tags = z.array(z.string().trim().min(1).max(50)).max(50);
const docFields = {
  kind: z.enum(DOCUMENT_KINDS).optional().describe('Default `note`'),
  content_md: z.string().max(500_000).optional().describe('Markdown'),
  summary: z.string().max(2000).nullish().describe('Left out or null: drafted by the AI layer in the background'),
  folder_id: FolderRef.nullish().describe('A folder id (`fld_…`) or path (`Policies/EU`); null or left out: the root'),
  tags: Tags.optional(),
};

const folderColumns = ['id', 'path', 'document_count'];
const docColumns = ['id', 'title', 'kind', 'folder_path', 'revision', 'updated_at'];
const docCli = { flags: { folder_id: 'folder' }, files: { file: 'content_md' } };

export const createFolder = defineOperation({
  id: 'folders.create',
  method: 'POST',
  path: '/folders',
  summary: 'Create a folder (at the root, or under `parent_id`)',
  scopes: ['documents:write'],
  input: z.object({ name: FolderName, parent_id: FolderRef.nullish() }),
  output: Folder,
  cli: { args: ['name'], columns: folderColumns, flags: { parent_id: 'parent' } },
  handler: (ctx, input) => folders.createFolder(ctx, input),
});

export const listFolders = defineOperation({
  id: 'folders.list',
  method: 'GET',
  path: '/folders',
  summary: "The org's folders as a tree: depth first, siblings by name, each with its path and depth",
  scopes: ['documents:read'],
  input: z.object({ parent_id: FolderRef.optional().describe('Only this folder and what is below it') }),
  output: listOf(Folder),
  cli: { columns: folderColumns, flags: { parent_id: 'parent' } },
  handler: (ctx, input) => folders.listFolders(ctx, input),
});

export const updateFolder = defineOperation({
  id: 'folders.update',
  method: 'PATCH',
  path: '/folders/:id',
  summary: 'Rename a folder or move it (`parent_id`; null: to the root). A move under itself is refused (422)',
  scopes: ['documents:write'],
  input: z.object({ id: FolderParam, name: FolderName.optional(), parent_id: FolderRef.nullish() }),
  output: Folder,
  cli: { columns: folderColumns, flags: { parent_id: 'parent' } },
  handler: (ctx, input) => folders.updateFolder(ctx, input),
});

export const deleteFolder = defineOperation({
  id: 'folders.delete',
  method: 'DELETE',
  path: '/folders/:id',
  summary: 'Delete a folder: only when empty (409 otherwise), or with `recursive` everything in it',
  scopes: ['documents:write'],
  input: z.object({ id: FolderParam, recursive: z.boolean().optional().describe('Also delete the folders and documents inside') }),
  output: Deleted.extend({ documents_deleted: z.number().int(), folders_deleted: z.number().int() }),
  handler: (ctx, input) => folders.deleteFolder(ctx, input),
});

export const createDocument = defineOperation({
  id: 'documents.create',
  method: 'POST',
  path: '/documents',
  summary: 'Create a document (revision 1); without a summary one is drafted in the background',
  scopes: ['documents:write'],
  input: z.object({ title: z.string().trim().min(1).max(500), ...docFields }),
  output: Document,
  cli: { columns: docColumns, ...docCli },
  handler: (ctx, input) => documents.createDocument(ctx, input),
});

export const listDocuments = defineOperation({
  id: 'documents.list',
  method: 'GET',
  path: '/documents',
  summary: 'Documents, newest first: of one folder (`folder_id`), of the root when none is given, or all (`all=1`)',
  scopes: ['documents:read'],
  input: PageInput.extend({
    folder_id: FolderRef.optional(),
    all: QueryBool.optional().describe('Every document of the org, whatever its folder'),
    tag: z.string().max(50).optional().describe('Only documents with this tag'),
    kind: z.enum(DOCUMENT_KINDS).optional(),
  }),
  output: listOf(DocumentListItem),
  cli: { columns: docColumns, flags: { folder_id: 'folder' } },
  handler: (ctx, input) => documents.listDocuments(ctx, input),
});

export const getDocument = defineOperation({
  id: 'documents.get',
  method: 'GET',
  path: '/documents/:id',
  summary: 'A document with its content',
  scopes: ['documents:read'],
  input: z.object({ id: IdParam('Document') }),
  output: Document,
  handler: (ctx, input) => documents.getDocument(ctx, input.id),
});

export const updateDocument = defineOperation({
  id: 'documents.update',
  method: 'PATCH',
  path: '/documents/:id',
  summary: 'Update a document; a change of title or content makes a new revision',
  scopes: ['documents:write'],
  input: z.object({ id: IdParam('Document'), title: z.string().trim().min(1).max(500).optional(), ...docFields }),
  output: Document,
  cli: { columns: docColumns, ...docCli },
  handler: (ctx, input) => documents.updateDocument(ctx, input),
});

export const deleteDocument = defineOperation({
  id: 'documents.delete',
  method: 'DELETE',
  path: '/documents/:id',
  summary: 'Delete a document and its revisions',
  scopes: ['documents:write'],
  input: z.object({ id: IdParam('Document') }),
  output: Deleted,
  handler: (ctx, input) => documents.deleteDocument(ctx, input.id),
});

export const listRevisions = defineOperation({
  id: 'documents.revisions.list',
  method: 'GET',
  path: '/documents/:id/revisions',
  summary: "A document's revisions, newest first (without their content)",
  scopes: ['documents:read'],
  input: PageInput.extend({ id: IdParam('Document') }),
  output: listOf(DocumentRevision),
  cli: { columns: ['number', 'title', 'lines', 'created_at'], default: true },
  handler: (ctx, input) => revisions.listRevisions(ctx, input),
});

export const getRevision = defineOperation({
  id: 'documents.revisions.get',
  method: 'GET',
  path: '/documents/:id/revisions/:number',
  summary: 'One revision with its content; `compare_to` another revision number adds the line diff from it',
  scopes: ['documents:read'],
  input: z.object({
    id: IdParam('Document'),
    // Text like every path id: anything that is not a revision's number simply names none (404).
    number: z.string().min(1).max(64).describe('Revision number (1 is the first)'),
    compare_to: z.coerce.number().int().min(1).max(1_000_000).optional().describe('Another revision number: the diff goes from it to this one'),
  }),
  output: DocumentRevisionDetail,
  handler: (ctx, input) => revisions.getRevision(ctx, input),
});

export const documentOperations = [
  createFolder,
  listFolders,
  updateFolder,
  createDocument,
  listDocuments,
  getDocument,
  updateDocument,
  listRevisions,
  getRevision,
  deleteDocument,
  deleteFolder,
];
