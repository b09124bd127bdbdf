// Tasks (issue 11): create (numbered, deduplicated, within the daily quota), get, update (through the transitions
// table), archive and delete. Lists, claims, dependencies and comments live in their own files of this module.
import { and, eq, isNull, notInArray, type SQL, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { conflict, notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { iso } from '../../core/schemas.ts';
import { jsonObject, jsonValue } from '../../db/json-sql.ts';
import { type TaskPriority, type TaskStatus, type TaskType, tasks } from '../../db/schema/tasks.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { parseAssignee, validateAssignee } from './assignee.ts';
import { dependencyView, openBlockers } from './dependencies.ts';
import { takeNumber } from './quota.ts';
import { assertTransition, CLOSED } from './transitions.ts';

export type TaskRow = typeof tasks.$inferSelect;

export function presentTask(t: TaskRow) {
  return {
    id: t.id,
    number: t.number,
    org_id: t.orgId,
    title: t.title,
    description: t.description,
    type: t.type,
    status: t.status,
    priority: t.priority,
    assignee: t.assigneeType && t.assigneeId ? { type: t.assigneeType, id: t.assigneeId } : null,
    product_id: t.productId,
    tags: t.tags,
    due_date: t.dueDate,
    estimated_minutes: t.estimatedMinutes,
    max_duration_seconds: t.maxDurationSeconds,
    parent_id: t.parentId,
    resolution: t.resolution,
    completed_at: iso(t.completedAt),
    lease_expires_at: iso(t.leaseExpiresAt),
    run_failures: t.runFailures,
    retry_after: iso(t.retryAfter),
    archived_at: iso(t.archivedAt),
    created_by: { type: t.createdByType, id: t.createdById },
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
  };
}

/** A timestamptz as toISOString writes it (UTC, milliseconds, `Z`), as JSON text; `null` for NULL. */
const isoJson = (col: SQL) => jsonValue(sql`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * presentTask written in SQL, for the row alias `t`: the list page is built as JSON by the database
 * (core/json-text.ts). The two must give the same object; test/tasks.test.ts compares them on every field.
 */
export function taskJsonSql(t: string) {
  const c = (col: string) => sql.raw(`${t}.${col}`);
  const v = (col: string) => jsonValue(c(col));
  return jsonObject([
    ['id', v('id')],
    ['number', v('number')],
    ['org_id', v('org_id')],
    ['title', v('title')],
    ['description', v('description')],
    ['type', v('type')],
    ['status', v('status')],
    ['priority', v('priority')],
    [
      'assignee',
      sql`case when ${c('assignee_type')} is not null and ${c('assignee_id')} is not null
               then ${jsonObject([['type', v('assignee_type')], ['id', v('assignee_id')]])} else 'null' end`,
    ],
    ['product_id', v('product_id')],
    ['tags', v('tags')],
    ['due_date', jsonValue(sql`to_char(${c('due_date')}, 'YYYY-MM-DD')`)],
    ['estimated_minutes', v('estimated_minutes')],
    ['max_duration_seconds', v('max_duration_seconds')],
    ['parent_id', v('parent_id')],
    ['resolution', v('resolution')],
    ['completed_at', isoJson(c('completed_at'))],
    ['lease_expires_at', isoJson(c('lease_expires_at'))],
    ['run_failures', v('run_failures')],
    ['retry_after', isoJson(c('retry_after'))],
    ['archived_at', isoJson(c('archived_at'))],
    ['created_by', jsonObject([['type', v('created_by_type')], ['id', v('created_by_id')]])],
    ['created_at', isoJson(c('created_at'))],
    ['updated_at', isoJson(c('updated_at'))],
  ]);
}

/** Trimmed, spaces collapsed, lowercased: two titles that differ only so are the same task. */
export const normalizeTitle = (title: string) => title.trim().replace(/\s+/g, ' ').toLowerCase();

/** A task of the caller's org by id (`task_…`) or per-org number (`42`); anything else is not found. */
export function refCondition(orgId: string, ref: string): SQL | undefined {
  if (/^\d{1,9}$/.test(ref)) return and(eq(tasks.orgId, orgId), eq(tasks.number, Number(ref)));
  return and(eq(tasks.orgId, orgId), eq(tasks.id, ref));
}

export async function findTask(ctx: Ctx, ref: string, opts: { forUpdate?: boolean } = {}): Promise<TaskRow> {
  const q = ctx.db
    .select()
    .from(tasks)
    .where(refCondition(requireOrg(ctx), ref));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Task');
  return row;
}

export interface TaskFields {
  title?: string;
  description?: string | null;
  type?: TaskType;
  status?: TaskStatus;
  priority?: TaskPriority;
  assignee?: string | null;
  product_id?: string | null;
  tags?: string[];
  due_date?: string | null;
  estimated_minutes?: number | null;
  max_duration_seconds?: number | null;
  parent_id?: string | null;
  resolution?: string | null;
}

/** The columns a create or update sets from the input's optional fields (references checked). */
async function columnsOf(ctx: Ctx, input: TaskFields, self?: TaskRow) {
  const set: Partial<typeof tasks.$inferInsert> = {};
  if (input.title !== undefined) {
    set.title = input.title;
    set.titleKey = normalizeTitle(input.title);
  }
  if (input.description !== undefined) set.description = input.description;
  if (input.type !== undefined) set.type = input.type;
  if (input.priority !== undefined) set.priority = input.priority;
  if (input.product_id !== undefined) set.productId = input.product_id;
  if (input.tags !== undefined) set.tags = [...new Set(input.tags)];
  if (input.due_date !== undefined) set.dueDate = input.due_date;
  if (input.estimated_minutes !== undefined) set.estimatedMinutes = input.estimated_minutes;
  if (input.max_duration_seconds !== undefined) set.maxDurationSeconds = input.max_duration_seconds;
  if (input.resolution !== undefined) set.resolution = input.resolution;
  if (input.assignee !== undefined) {
    const a = input.assignee === null ? null : await validateAssignee(ctx, parseAssignee(ctx, input.assignee));
    set.assigneeType = a?.type ?? null;
    set.assigneeId = a?.id ?? null;
    set.assignedByClaim = false;
  }
  if (input.parent_id !== undefined) {
    if (input.parent_id === null) set.parentId = null;
    else {
      const parent = await findTask(ctx, input.parent_id).catch(() => {
        throw notFound('Parent task');
      });
      if (self && parent.id === self.id) throw unprocessable('A task cannot be its own parent.', { field: 'parent_id' });
      set.parentId = parent.id;
    }
  }
  return set;
}

/** Status side effects: finishing stamps completed_at, leaving in_progress drops the lease. */
function statusColumns(to: TaskStatus): Partial<typeof tasks.$inferInsert> {
  const set: Partial<typeof tasks.$inferInsert> = { status: to, completedAt: to === 'done' ? new Date() : null };
  if (to !== 'in_progress') Object.assign(set, { leaseExpiresAt: null, leaseHolder: null });
  return set;
}

export interface CreateTaskInput extends TaskFields {
  title: string;
  allow_duplicate?: boolean;
}

export async function createTask(ctx: Ctx, input: CreateTaskInput) {
  const orgId = requireOrg(ctx);
  // First: the counter row (quota + number). Its lock also makes the duplicate check below race-free.
  const number = await takeNumber(ctx);
  const titleKey = normalizeTitle(input.title);
  if (!input.allow_duplicate) {
    const [dup] = await ctx.db
      .select({ id: tasks.id, number: tasks.number, status: tasks.status })
      .from(tasks)
      .where(and(eq(tasks.orgId, orgId), eq(tasks.titleKey, titleKey), notInArray(tasks.status, [...CLOSED]), isNull(tasks.archivedAt)))
      .limit(1);
    if (dup) {
      throw conflict(`An open task with this title already exists: #${dup.number} (${dup.id}). Pass allow_duplicate: true to create another.`, {
        existing_id: dup.id,
        existing_number: dup.number,
        existing_status: dup.status,
      });
    }
  }
  const status = input.status ?? 'todo';
  const [row] = await ctx.db
    .insert(tasks)
    .values({
      id: newId('task'),
      orgId,
      number,
      title: input.title,
      titleKey,
      createdByType: ctx.actorType,
      createdById: ctx.actorId,
      ...(await columnsOf(ctx, input)),
      ...statusColumns(status),
    })
    .returning();
  await recordActivity(ctx, { action: 'task.created', entityType: 'task', entityId: row.id, metadata: { number, title: row.title } });
  await recordEvent(ctx.db, { orgId, type: 'task.created', subject: row.id, data: eventData(row) });
  if (status === 'done') await recordEvent(ctx.db, { orgId, type: 'task.completed', subject: row.id, data: eventData(row) });
  return presentTask(row);
}

const eventData = (t: TaskRow) => ({
  number: t.number,
  title: t.title,
  status: t.status,
  priority: t.priority,
  assignee: t.assigneeType ? `${t.assigneeType}:${t.assigneeId}` : null,
});

export async function getTask(ctx: Ctx, ref: string) {
  const row = await findTask(ctx, ref);
  return { ...presentTask(row), ...(await dependencyView(ctx, row.id)) };
}

export interface UpdateTaskInput extends TaskFields {
  id: string;
}

export async function updateTask(ctx: Ctx, input: UpdateTaskInput) {
  const current = await findTask(ctx, input.id, { forUpdate: true });
  const set = await columnsOf(ctx, input, current);
  const to = input.status;
  if (to !== undefined && to !== current.status) {
    assertTransition(current.status, to);
    // Moving a `blocked` task on is how a person says it is unblocked; open dependencies still hold it back.
    if (to === 'in_progress') await assertUnblocked(ctx, current, { byDependenciesOnly: true });
    Object.assign(set, statusColumns(to));
  }
  // A person moving the task or giving it to someone else starts its failed-run count afresh (runs/retry.ts).
  if ((to !== undefined && to !== current.status) || (set.assigneeId !== undefined && set.assigneeId !== current.assigneeId)) Object.assign(set, { runFailures: 0, retryAfter: null });
  const [row] = await ctx.db
    .update(tasks)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(tasks.id, current.id))
    .returning();
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'task.updated', entityType: 'task', entityId: row.id, metadata: { number: row.number, changed } });
  await recordEvent(ctx.db, { orgId: row.orgId, type: 'task.updated', subject: row.id, data: { ...eventData(row), changed } });
  if (row.status === 'done' && current.status !== 'done') {
    await recordEvent(ctx.db, { orgId: row.orgId, type: 'task.completed', subject: row.id, data: eventData(row) });
  }
  return presentTask(row);
}

/** 409 when a task may not start: its status is `blocked`, or a task it depends on is still open. */
export async function assertUnblocked(ctx: Ctx, t: TaskRow, opts: { byDependenciesOnly?: boolean } = {}) {
  const blockers = await openBlockers(ctx, t.id);
  if ((t.status === 'blocked' && !opts.byDependenciesOnly) || blockers.length) {
    const list = blockers.map((b) => `#${b.number}`).join(', ');
    throw conflict(
      blockers.length
        ? `Task #${t.number} is blocked by open task(s) ${list}: finish or cancel them first.`
        : `Task #${t.number} is blocked: move it to todo first.`,
      { status: t.status, blocked_by: blockers },
    );
  }
}

/** Hides the task from lists and queues; an open task is cancelled (the public API's DELETE semantics). */
export async function archiveTask(ctx: Ctx, ref: string) {
  const current = await findTask(ctx, ref, { forUpdate: true });
  const set: Partial<typeof tasks.$inferInsert> = { archivedAt: current.archivedAt ?? new Date(), updatedAt: new Date() };
  if (!CLOSED.includes(current.status)) Object.assign(set, statusColumns('cancelled'));
  const [row] = await ctx.db.update(tasks).set(set).where(eq(tasks.id, current.id)).returning();
  await recordActivity(ctx, { action: 'task.archived', entityType: 'task', entityId: row.id, metadata: { number: row.number } });
  await recordEvent(ctx.db, { orgId: row.orgId, type: 'task.updated', subject: row.id, data: { ...eventData(row), changed: ['archived_at'] } });
  return presentTask(row);
}

export async function deleteTask(ctx: Ctx, ref: string) {
  const current = await findTask(ctx, ref, { forUpdate: true });
  // Subtasks outlive their parent: they lose the link rather than vanish with it.
  await ctx.db
    .update(tasks)
    .set({ parentId: null })
    .where(and(eq(tasks.orgId, current.orgId), eq(tasks.parentId, current.id)));
  await ctx.db.delete(tasks).where(eq(tasks.id, current.id));
  await recordActivity(ctx, {
    action: 'task.deleted',
    entityType: 'task',
    entityId: current.id,
    metadata: { number: current.number, title: current.title },
  });
  return { id: current.id, deleted: true as const };
}
