// `blocks` edges between tasks of one org: a task depends on others and cannot start while any is open.
// Adding an edge that would close a loop is refused with the loop spelled out.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { together } from '../../db/client.ts';
import { taskDependencies, tasks } from '../../db/schema/tasks.ts';
import { recordActivity } from '../activity/record.ts';
import { findTask, getTask } from './service.ts';
import { CLOSED } from './transitions.ts';

export interface TaskLink {
  id: string;
  number: number;
  title: string;
  status: string;
}

const link = { id: tasks.id, number: tasks.number, title: tasks.title, status: tasks.status };

/** The tasks `taskId` depends on that are neither done nor cancelled. */
export async function openBlockers(ctx: Ctx, taskId: string): Promise<TaskLink[]> {
  return ctx.db
    .select(link)
    .from(taskDependencies)
    .innerJoin(tasks, eq(tasks.id, taskDependencies.dependsOnId))
    .where(and(eq(taskDependencies.taskId, taskId), sql`${tasks.status} not in ('done', 'cancelled')`))
    .orderBy(tasks.number);
}

/** What `get` embeds: what the task depends on, what it blocks, and whether it may start. */
export async function dependencyView(ctx: Ctx, taskId: string) {
  // The tasks at the other end of the task's edges: `from` is the task's side of the edge, `to` the side shown.
  type Side = typeof taskDependencies.taskId | typeof taskDependencies.dependsOnId;
  const across = (from: Side, to: Side) => () =>
    ctx.db.select(link).from(taskDependencies).innerJoin(tasks, eq(tasks.id, to)).where(eq(from, taskId)).orderBy(tasks.number);
  const [dependsOn, blocks] = await together(
    ctx.db,
    across(taskDependencies.taskId, taskDependencies.dependsOnId),
    across(taskDependencies.dependsOnId, taskDependencies.taskId),
  );
  return { depends_on: dependsOn, blocks, blocked: dependsOn.some((d) => !CLOSED.includes(d.status as never)) };
}

/** Ids from `fromId` back to `toId` following depends-on edges, or null when `toId` is not reachable. */
async function pathBetween(ctx: Ctx, fromId: string, toId: string): Promise<string[] | null> {
  const res = await ctx.db.execute<{ path: string[] }>(sql`
    with recursive walk(id, path) as (
      select ${fromId}::text, array[${fromId}::text]
      union all
      select d.depends_on_id, w.path || d.depends_on_id
      from walk w join task_dependencies d on d.task_id = w.id
      where not d.depends_on_id = any(w.path) and cardinality(w.path) < 10000
    )
    select path from walk where id = ${toId} limit 1`);
  return res.rows[0]?.path ?? null;
}

/** The two ends of an edge: the task (404 `Task`) and the one it depends on (404 `missing`). */
async function ends(ctx: Ctx, input: { id: string; depends_on: string }, missing: string) {
  const task = await findTask(ctx, input.id);
  const other = await findTask(ctx, input.depends_on).catch(() => {
    throw notFound(missing);
  });
  return { task, other };
}

/** The edge's audit row, then the task as `get` shows it. */
async function changed(ctx: Ctx, action: string, task: { id: string; number: number }, other: { id: string; number: number }) {
  await recordActivity(ctx, {
    action,
    entityType: 'task',
    entityId: task.id,
    metadata: { number: task.number, depends_on: other.id, depends_on_number: other.number },
  });
  return getTask(ctx, task.id);
}

export async function addDependency(ctx: Ctx, input: { id: string; depends_on: string }) {
  const orgId = requireOrg(ctx);
  const { task, other } = await ends(ctx, input, 'Task named by depends_on');
  if (task.id === other.id) throw unprocessable('A task cannot depend on itself.', { field: 'depends_on', cycle: [task.number, task.number] });
  // One writer of an org's graph at a time: two concurrent additions could each pass the check and close a loop.
  await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`tasks.deps:${orgId}`}, 0))`);
  const back = await pathBetween(ctx, other.id, task.id);
  if (back) {
    const rows = await ctx.db.select({ id: tasks.id, number: tasks.number }).from(tasks).where(inArray(tasks.id, back));
    const numberOf = new Map(rows.map((r) => [r.id, r.number]));
    const cycle = [task.number, ...back.map((id) => numberOf.get(id) ?? id)];
    throw unprocessable(`That would make a dependency cycle: ${cycle.map((n) => `#${n}`).join(' → ')}.`, { field: 'depends_on', cycle });
  }
  await ctx.db.insert(taskDependencies).values({ orgId, taskId: task.id, dependsOnId: other.id }).onConflictDoNothing();
  return changed(ctx, 'task.dependency_added', task, other);
}

export async function removeDependency(ctx: Ctx, input: { id: string; depends_on: string }) {
  const { task, other } = await ends(ctx, input, 'Dependency');
  const gone = await ctx.db
    .delete(taskDependencies)
    .where(and(eq(taskDependencies.taskId, task.id), eq(taskDependencies.dependsOnId, other.id)))
    .returning({ id: taskDependencies.dependsOnId });
  if (!gone.length) throw notFound('Dependency');
  return changed(ctx, 'task.dependency_removed', task, other);
}
