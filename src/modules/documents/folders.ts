// Folders (issue 12): a tree per org. A folder is named by its id (`fld_…`) or by its path from the root
// (`Policies/EU`, names compared without case) wherever one is asked for. Names are unique among siblings and hold
// no `/`; a move that would put a folder under itself is refused (422); a folder is deleted only when empty, or with
// `recursive` (its documents too, each leaving the search index).
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, conflict, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { documents, folders } from '../../db/schema/documents.ts';
import { searchEntries } from '../../db/schema/search.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';

type FolderRow = typeof folders.$inferSelect;

export interface FolderView {
  id: string;
  org_id: string;
  parent_id: string | null;
  name: string;
  path: string;
  depth: number;
  document_count: number;
  created_at: string;
  updated_at: string;
}

const FOLDER_ID = /^fld_[0-9a-z]{26}$/;

/** Every change of an org's tree runs under this lock, so a cycle check or a name check cannot race another change. */
async function lockTree(ctx: Ctx) {
  await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtext(${`folders:${requireOrg(ctx)}`}))`);
}

/**
 * A folder of the caller's org by id or path; `field` names the input in the 404 (another org's folder included).
 * `lock`: for putting a document in it. The row is held (FOR KEY SHARE) until the caller commits, so a recursive
 * delete running at the same time either waits for the document and deletes it too, or has already taken the
 * folder and this answers 404 — never a foreign-key error.
 */
export async function resolveFolder(ctx: Ctx, ref: string, field = 'folder_id', opts: { lock?: boolean } = {}): Promise<FolderRow> {
  const found = await findFolder(ctx, ref, field);
  if (opts.lock) {
    const [held] = await ctx.db.select({ id: folders.id }).from(folders).where(eq(folders.id, found.id)).for('key share');
    if (!held) throw new AppError('not_found', `Folder \`${ref}\` not found.`, { field, folder: ref });
  }
  return found;
}

async function findFolder(ctx: Ctx, ref: string, field: string): Promise<FolderRow> {
  const orgId = requireOrg(ctx);
  const missing = () => new AppError('not_found', `Folder \`${ref}\` not found.`, { field, folder: ref });
  if (FOLDER_ID.test(ref)) {
    const [row] = await ctx.db
      .select()
      .from(folders)
      .where(and(eq(folders.orgId, orgId), eq(folders.id, ref)));
    if (!row) throw missing();
    return row;
  }
  const names = ref.split('/').map((n) => n.trim()).filter(Boolean);
  if (!names.length) throw missing();
  let parent: FolderRow | null = null;
  // Paths are short (a few levels): one indexed lookup per level.
  for (const name of names) {
    const [row]: FolderRow[] = await ctx.db
      .select()
      .from(folders)
      .where(and(eq(folders.orgId, orgId), parent ? eq(folders.parentId, parent.id) : isNull(folders.parentId), sql`lower(${folders.name}) = lower(${name})`));
    if (!row) throw missing();
    parent = row;
  }
  return parent as FolderRow;
}

/** `A/B/C`: the folder's path from the root. */
export async function folderPath(ctx: Ctx, folderId: string | null): Promise<string> {
  if (!folderId) return '';
  const rows = await ctx.db.execute<{ path: string }>(sql`
    with recursive up(id, parent_id, name, depth) as (
      select id, parent_id, name, 0 from folders where id = ${folderId}
      union all
      select f.id, f.parent_id, f.name, up.depth + 1 from folders f join up on f.id = up.parent_id where up.depth < 100
    )
    select string_agg(name, '/' order by depth desc) as path from up`);
  return rows.rows[0]?.path ?? '';
}

/** The org's folders (or those under `rootId`, itself included) depth first, siblings by name, each with its path. */
async function treeRows(ctx: Ctx, rootId?: string) {
  const orgId = requireOrg(ctx);
  const start = rootId ? sql`f.id = ${rootId}` : sql`f.parent_id is null`;
  const prefix = rootId ? sql`(${await folderPath(ctx, rootId)})::text` : sql`f.name`;
  const rows = await ctx.db.execute<{
    id: string;
    parent_id: string | null;
    name: string;
    path: string;
    depth: number;
    sort_key: string;
    document_count: number;
    created_at: Date;
    updated_at: Date;
  }>(sql`
    with recursive tree(id, parent_id, name, path, depth, sort_key) as (
      select f.id, f.parent_id, f.name, ${prefix}, 0, lower(f.name)
        from folders f where f.org_id = ${orgId} and ${start}
      union all
      select c.id, c.parent_id, c.name, tree.path || '/' || c.name, tree.depth + 1, tree.sort_key || chr(1) || lower(c.name)
        from folders c join tree on c.parent_id = tree.id
       where c.org_id = ${orgId} and tree.depth < 100
    )
    select tree.*, f.created_at, f.updated_at,
           (select count(*)::int from documents d where d.folder_id = tree.id) as document_count
      from tree join folders f on f.id = tree.id
     order by tree.sort_key collate "C"`);
  return rows.rows.map(
    (r): FolderView => ({
      id: r.id,
      org_id: orgId,
      parent_id: r.parent_id,
      name: r.name,
      path: r.path,
      depth: Number(r.depth),
      document_count: Number(r.document_count),
      created_at: new Date(r.created_at).toISOString(),
      updated_at: new Date(r.updated_at).toISOString(),
    }),
  );
}

export async function listFolders(ctx: Ctx, input: { parent_id?: string }) {
  const root = input.parent_id ? await resolveFolder(ctx, input.parent_id, 'parent_id') : undefined;
  const data = await treeRows(ctx, root?.id);
  return { data, meta: { limit: data.length, next_cursor: null, has_more: false } };
}

async function viewOf(ctx: Ctx, id: string): Promise<FolderView> {
  const [view] = (await treeRows(ctx, id)).filter((f) => f.id === id);
  return view;
}

async function assertNameFree(ctx: Ctx, parentId: string | null, name: string, self?: string) {
  const [taken] = await ctx.db
    .select({ id: folders.id })
    .from(folders)
    .where(
      and(
        eq(folders.orgId, requireOrg(ctx)),
        parentId ? eq(folders.parentId, parentId) : isNull(folders.parentId),
        sql`lower(${folders.name}) = lower(${name})`,
        self ? sql`${folders.id} <> ${self}` : undefined,
      ),
    );
  if (taken) throw conflict(`A folder named \`${name}\` already exists there (${taken.id}).`, { field: 'name', existing_id: taken.id });
}

export async function createFolder(ctx: Ctx, input: { name: string; parent_id?: string | null }) {
  await lockTree(ctx);
  const parent = input.parent_id ? await resolveFolder(ctx, input.parent_id, 'parent_id') : null;
  await assertNameFree(ctx, parent?.id ?? null, input.name);
  const [row] = await ctx.db
    .insert(folders)
    .values({ id: newId('folder'), orgId: requireOrg(ctx), parentId: parent?.id ?? null, name: input.name, createdByType: ctx.actorType, createdById: ctx.actorId })
    .returning();
  await recordActivity(ctx, { action: 'folder.created', entityType: 'folder', entityId: row.id, metadata: { name: row.name, parent_id: row.parentId } });
  return viewOf(ctx, row.id);
}

/**
 * The search entries of every document at or below `folderId` get their folder's new path: one statement, however
 * many documents (a rename of a top folder touches them all).
 */
async function reindexPaths(ctx: Ctx, folderId: string) {
  const orgId = requireOrg(ctx);
  const base = await folderPath(ctx, folderId);
  await ctx.db.execute(sql`
    with recursive tree(id, path, depth) as (
      select id, ${base}::text, 0 from folders where id = ${folderId}
      union all
      select c.id, tree.path || '/' || c.name, tree.depth + 1 from folders c join tree on c.parent_id = tree.id where tree.depth < 100
    )
    update ${searchEntries} se set meta = jsonb_set(se.meta, '{folder}', to_jsonb(tree.path)), updated_at = now()
      from documents d join tree on d.folder_id = tree.id
     where se.kind = 'document' and se.object_id = d.id and se.org_id = ${orgId} and d.org_id = ${orgId}`);
}

export async function updateFolder(ctx: Ctx, input: { id: string; name?: string; parent_id?: string | null }) {
  await lockTree(ctx);
  const current = await resolveFolder(ctx, input.id, 'id');
  let parentId = current.parentId;
  if (input.parent_id !== undefined) {
    const parent = input.parent_id === null ? null : await resolveFolder(ctx, input.parent_id, 'parent_id');
    if (parent) {
      // Walk up from the new parent: meeting the folder itself means the move would close a loop.
      const up = await ctx.db.execute<{ id: string }>(sql`
        with recursive up(id, parent_id, depth) as (
          select id, parent_id, 0 from folders where id = ${parent.id}
          union all
          select f.id, f.parent_id, up.depth + 1 from folders f join up on f.id = up.parent_id where up.depth < 100
        )
        select id from up where id = ${current.id}`);
      if (up.rows.length) {
        throw unprocessable(`\`${parent.name}\` is ${parent.id === current.id ? 'the folder itself' : 'inside the folder'}: a folder cannot move under itself.`, {
          field: 'parent_id',
        });
      }
    }
    parentId = parent?.id ?? null;
  }
  const name = input.name ?? current.name;
  if (name !== current.name || parentId !== current.parentId) await assertNameFree(ctx, parentId, name, current.id);
  await ctx.db.update(folders).set({ name, parentId, updatedAt: new Date() }).where(eq(folders.id, current.id));
  if (name !== current.name || parentId !== current.parentId) await reindexPaths(ctx, current.id);
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, {
    action: parentId !== current.parentId ? 'folder.moved' : 'folder.updated',
    entityType: 'folder',
    entityId: current.id,
    metadata: { changed, name, from_parent_id: current.parentId, parent_id: parentId },
  });
  return viewOf(ctx, current.id);
}

export async function deleteFolder(ctx: Ctx, input: { id: string; recursive?: boolean }) {
  await lockTree(ctx);
  const orgId = requireOrg(ctx);
  const current = await resolveFolder(ctx, input.id, 'id');
  const subtree = await ctx.db.execute<{ id: string }>(sql`
    with recursive tree(id, depth) as (
      select id, 0 from folders where id = ${current.id}
      union all
      select c.id, tree.depth + 1 from folders c join tree on c.parent_id = tree.id where tree.depth < 100
    )
    select id from tree`);
  const ids = subtree.rows.map((r) => r.id);
  // Taken first: a document being put in one of them meanwhile (which holds its folder FOR KEY SHARE) is waited for.
  await ctx.db.select({ id: folders.id }).from(folders).where(inArray(folders.id, ids)).for('update');
  const docs = await ctx.db
    .select({ id: documents.id, title: documents.title, folderId: documents.folderId })
    .from(documents)
    .where(and(eq(documents.orgId, orgId), inArray(documents.folderId, ids)));
  if (!input.recursive && (ids.length > 1 || docs.length)) {
    throw conflict(
      `Folder \`${current.name}\` is not empty (${docs.length} document(s), ${ids.length - 1} folder(s) inside): empty it first, or pass recursive: true to delete everything in it.`,
      { documents: docs.length, folders: ids.length - 1 },
    );
  }
  const docIds = docs.map((d) => d.id);
  if (docIds.length) {
    await ctx.db.delete(searchEntries).where(and(eq(searchEntries.kind, 'document'), inArray(searchEntries.objectId, docIds)));
    await ctx.db.delete(documents).where(inArray(documents.id, docIds));
    for (const d of docs) {
      await recordEvent(ctx.db, { orgId, type: 'document.deleted', subject: d.id, data: { title: d.title, folder_id: d.folderId, with_folder: current.id } });
    }
  }
  // One statement: the parent link is checked at its end, when the whole subtree is gone.
  await ctx.db.delete(folders).where(inArray(folders.id, ids));
  await recordActivity(ctx, {
    action: 'folder.deleted',
    entityType: 'folder',
    entityId: current.id,
    metadata: { name: current.name, recursive: !!input.recursive, documents_deleted: docIds.length, folders_deleted: ids.length - 1, document_ids: docIds.slice(0, 100) },
  });
  return { id: current.id, deleted: true as const, documents_deleted: docIds.length, folders_deleted: ids.length - 1 };
}
