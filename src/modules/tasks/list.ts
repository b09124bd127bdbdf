// The task list: filters, newest first with cursors; with `q`, full-text ranked (title weighs more than the
// description) over at most RANK_CAP matching rows, so a very common word costs a bounded amount (STACK-NOTES:
// ranking every match of a common term in a big org takes seconds), the words parsed as search parses them (the last
// one also a prefix). Each page carries the daily quota.
import { and, arrayContains, desc, eq, inArray, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { type AnyPgColumn, unionAll } from 'drizzle-orm/pg-core';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid } from '../../core/errors.ts';
import { decodeCursor, type PageInput, toPage } from '../../core/pagination.ts';
import type { DbOrTx } from '../../db/client.ts';
import { agents } from '../../db/schema/agents.ts';
import { TASK_PRIORITIES, TASK_STATUSES, tasks } from '../../db/schema/tasks.ts';
import { parseAssignee } from './assignee.ts';
import { dailyQuota } from './quota.ts';
import { findTask, presentTask } from './service.ts';
import { COMMON_SHARE, COMMON_WINDOW, RANK_CAP } from '../search/postgres-fts.ts';
import { parseSearch } from '../search/query.ts';

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
export function several<T extends string>(field: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined || value === '') return undefined;
  const items = [...new Set(value.split(',').map((s) => s.trim()))];
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length) throw invalid(`Unknown ${field}: ${bad.join(', ')}. Use one or more of: ${allowed.join(', ')} (comma-separated).`, { field, bad });
  return items as T[];
}

/** The conditions of the filters, status apart (the newest-first list queries each status on its own). */
async function filters(ctx: Ctx, input: ListTasksInput) {
  const orgId = requireOrg(ctx);
  const where: (SQL | undefined)[] = [eq(tasks.orgId, orgId), input.archived ? isNotNull(tasks.archivedAt) : isNull(tasks.archivedAt)];
  const statuses = several('status', input.status, TASK_STATUSES);
  const priorities = several('priority', input.priority, TASK_PRIORITIES);
  if (priorities) where.push(inArray(tasks.priority, priorities));
  if (input.assignee === 'none') where.push(isNull(tasks.assigneeId));
  else if (input.assignee) {
    const a = parseAssignee(ctx, input.assignee);
    // Agents are stored by id and named by id or name: resolved inside the list's own query (an unknown agent has no
    // tasks: an empty page, not a 404 of the list).
    const id =
      a.type === 'agent' ? sql`(select ${agents.id} from ${agents} where ${agents.orgId} = ${orgId} and (${agents.id} = ${a.id} or ${agents.name} = ${a.id}))` : a.id;
    where.push(eq(tasks.assigneeId, id), eq(tasks.assigneeType, a.type));
  }
  if (input.product_id) where.push(eq(tasks.productId, input.product_id));
  if (input.tag) where.push(arrayContains(tasks.tags, [input.tag]));
  if (input.parent_id) {
    // An unknown parent simply has no subtasks: an empty page, not a 404 of the list.
    const parent = await findTask(ctx, input.parent_id).catch(() => null);
    where.push(eq(tasks.parentId, parent?.id ?? ''));
  }
  return { where: where.filter((w): w is SQL => w !== undefined), statuses };
}

export async function listTasks(ctx: Ctx, input: ListTasksInput) {
  const quota = dailyQuota(ctx);
  const { where, statuses } = await filters(ctx, input);
  const page = input.q
    ? await ranked(ctx, input, statuses ? [...where, inArray(tasks.status, statuses)] : where)
    : await newestFirst(ctx, input, where, statuses);
  return { ...page, ...(await quota) };
}

/** The page query of a newest-first list (exported so the benchmark runs the very same SQL on PostgreSQL). */
export function newestFirstQuery(db: DbOrTx, where: SQL[], statuses: string[] | undefined, limit: number, offset: number) {
  const scan = (status: string | undefined, n: number) =>
    db
      .select()
      .from(tasks)
      .where(and(...where, status ? eq(tasks.status, status as never) : undefined))
      .orderBy(desc(tasks.id))
      .limit(n);
  if (!statuses || statuses.length === 1) return scan(statuses?.[0], limit).offset(offset);
  const [first, second, ...rest] = statuses.map((s) => scan(s, offset + limit));
  return unionAll(first, second, ...rest)
    .orderBy(desc(tasks.id))
    .limit(limit)
    .offset(offset);
}

/**
 * Newest first, by cursor or offset. Several statuses are one ordered index scan each (org, [assignee,] status, id)
 * merged by a UNION ALL: `status IN (…)` in one scan cannot come out in id order, and the planner then either sorts
 * every match or walks the whole org backwards (measured: 235 ms for 50 rows at 50k tasks).
 */
async function newestFirst(ctx: Ctx, input: ListTasksInput, where: SQL[], statuses: string[] | undefined) {
  const cursor = decodeCursor(input.cursor);
  const conds = cursor ? [...where, lt(tasks.id, cursor)] : where;
  const rows = await newestFirstQuery(ctx.db, conds, statuses, input.limit + 1, cursor ? 0 : (input.offset ?? 0));
  const page = toPage(rows, input.limit, (r) => r.id);
  return { data: page.data.map(presentTask), meta: page.meta };
}

/** Is `q` common in the tasks (by the tsv column's statistics)? Then its candidates are read newest first. */
export async function isCommonText(db: DbOrTx, table: 'tasks' | 'search_entries', q: string): Promise<boolean> {
  const { rows } = await db.execute<{ common: boolean }>(sql`select opsbase_text_share(${table}, ${parseSearch(q).tsquery}) >= ${COMMON_SHARE} as common`);
  return rows[0]?.common ?? false;
}

/**
 * The ranked page: at most RANK_CAP matches ranked, the page cut on (id, rank) alone, then only the page's rows
 * read — not every candidate's whole row. A common word's candidates are its matches among the newest COMMON_WINDOW
 * tasks the filters keep, read newest first from (org_id, id); a rare word's come from the GIN index (the reasons are
 * in search/postgres-fts.ts).
 */
export function rankedQuery(db: DbOrTx, where: SQL[], q: string, limit: number, offset: number, common: boolean) {
  const query = parseSearch(q).tsquery;
  const rank = (tsv: SQL | AnyPgColumn) => sql<number>`ts_rank(${tsv}, ${query})`.as('rank');
  let candidates: ReturnType<typeof rareCandidates>;
  function rareCandidates() {
    return db
      .select({ id: tasks.id, rank: rank(sql`tsv`) })
      .from(tasks)
      .where(and(...where, sql`tsv @@ ${query}`))
      .limit(RANK_CAP)
      .as('c');
  }
  if (common) {
    const recent = db
      .select({ id: tasks.id, tsv: sql<string>`tsv`.as('tsv') })
      .from(tasks)
      .where(and(...where))
      .orderBy(desc(tasks.id))
      .limit(COMMON_WINDOW)
      .as('w');
    candidates = db
      .select({ id: recent.id, rank: rank(sql`${recent.tsv}`) })
      .from(recent)
      .where(sql`${recent.tsv} @@ ${query}`)
      .limit(RANK_CAP)
      .as('c') as unknown as ReturnType<typeof rareCandidates>;
  } else candidates = rareCandidates();
  const top = db
    .select({ id: candidates.id, rank: candidates.rank, n: sql<number>`count(*) over ()`.as('n') })
    .from(candidates)
    .orderBy(desc(candidates.rank), desc(candidates.id))
    .limit(limit)
    .offset(offset)
    .as('top');
  return db
    .select({ task: tasks, n: top.n })
    .from(top)
    .innerJoin(tasks, eq(tasks.id, top.id))
    .orderBy(desc(top.rank), desc(top.id));
}

/** Best matches first (rank, then newest); pages by `offset` — a rank is no stable cursor. */
async function ranked(ctx: Ctx, input: ListTasksInput, where: SQL[]) {
  if (input.cursor) throw invalid('With `q`, results are ranked: page with `offset`, not `cursor`.', { field: 'cursor' });
  const q = input.q ?? '';
  const rows = await rankedQuery(ctx.db, where, q, input.limit + 1, input.offset ?? 0, await isCommonText(ctx.db, 'tasks', q));
  const has_more = rows.length > input.limit;
  return { data: rows.slice(0, input.limit).map((r) => presentTask(r.task)), meta: { limit: input.limit, next_cursor: null, has_more } };
}
