// The task list: filters, newest first with cursors; with `q`, full-text ranked (title weighs more than the
// description) over at most RANK_CAP matching rows, so a very common word costs a bounded amount (STACK-NOTES:
// ranking every match of a common term in a big org takes seconds). Each page carries the daily quota.
import { and, arrayContains, desc, eq, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid } from '../../core/errors.ts';
import { decodeCursor, type PageInput, paginate } from '../../core/pagination.ts';
import { TASK_PRIORITIES, TASK_STATUSES, tasks } from '../../db/schema/tasks.ts';
import { parseAssignee } from './assignee.ts';
import { dailyQuota } from './quota.ts';
import { findTask, presentTask } from './service.ts';

export const RANK_CAP = 5000;

export interface ListTasksInput extends PageInput {
  status?: string;
  priority?: string;
  assignee?: string;
  product_id?: string;
  tag?: string;
  parent_id?: string;
  q?: string;
  archived?: boolean;
}

/** `a,b` → [a, b], each checked against `allowed` (400 naming the bad ones). */
function several<T extends string>(field: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined || value === '') return undefined;
  const items = [...new Set(value.split(',').map((s) => s.trim()))];
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length) throw invalid(`Unknown ${field}: ${bad.join(', ')}. Use one or more of: ${allowed.join(', ')} (comma-separated).`, { field, bad });
  return items as T[];
}

async function filters(ctx: Ctx, input: ListTasksInput): Promise<SQL[]> {
  const orgId = requireOrg(ctx);
  const where: (SQL | undefined)[] = [eq(tasks.orgId, orgId), input.archived ? isNotNull(tasks.archivedAt) : isNull(tasks.archivedAt)];
  const statuses = several('status', input.status, TASK_STATUSES);
  if (statuses) where.push(statuses.length === 1 ? eq(tasks.status, statuses[0]) : inArray(tasks.status, statuses));
  const priorities = several('priority', input.priority, TASK_PRIORITIES);
  if (priorities) where.push(inArray(tasks.priority, priorities));
  if (input.assignee === 'none') where.push(isNull(tasks.assigneeId));
  else if (input.assignee) {
    const a = parseAssignee(ctx, input.assignee);
    where.push(eq(tasks.assigneeId, a.id), eq(tasks.assigneeType, a.type));
  }
  if (input.product_id) where.push(eq(tasks.productId, input.product_id));
  if (input.tag) where.push(arrayContains(tasks.tags, [input.tag]));
  if (input.parent_id) {
    // An unknown parent simply has no subtasks: an empty page, not a 404 of the list.
    const parent = await findTask(ctx, input.parent_id).catch(() => null);
    where.push(eq(tasks.parentId, parent?.id ?? ''));
  }
  return where.filter((w): w is SQL => w !== undefined);
}

export async function listTasks(ctx: Ctx, input: ListTasksInput) {
  const quota = dailyQuota(ctx);
  const where = await filters(ctx, input);
  const page = input.q ? await ranked(ctx, input, where) : await paginate(
    input,
    tasks.id,
    (w) => ctx.db.select().from(tasks).where(and(...where, w.after)).orderBy(desc(tasks.id)).limit(w.limit).offset(w.offset),
    (r) => r.id,
    presentTask,
  );
  return { ...page, ...(await quota) };
}

/** Best matches first (rank, then newest); pages by `offset` — a rank is no stable cursor. */
async function ranked(ctx: Ctx, input: ListTasksInput, where: SQL[]) {
  if (input.cursor) decodeCursor(input.cursor);
  if (input.cursor) throw invalid('With `q`, results are ranked: page with `offset`, not `cursor`.', { field: 'cursor' });
  const query = sql`websearch_to_tsquery('english', ${input.q})`;
  const candidates = ctx.db
    .select({ id: tasks.id, rank: sql<number>`ts_rank(tsv, ${query})`.as('rank') })
    .from(tasks)
    .where(and(...where, sql`tsv @@ ${query}`))
    .limit(RANK_CAP)
    .as('c');
  const offset = input.offset ?? 0;
  const rows = await ctx.db
    .select({ task: tasks })
    .from(candidates)
    .innerJoin(tasks, eq(tasks.id, candidates.id))
    .orderBy(desc(candidates.rank), desc(candidates.id))
    .limit(input.limit + 1)
    .offset(offset);
  const has_more = rows.length > input.limit;
  return { data: rows.slice(0, input.limit).map((r) => presentTask(r.task)), meta: { limit: input.limit, next_cursor: null, has_more } };
}
