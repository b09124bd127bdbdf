// The task list: filters, newest first with cursors; with `q`, full-text ranked (title weighs more than the
// description) over at most RANK_CAP matching rows, so a very common word costs a bounded amount (STACK-NOTES:
// ranking every match of a common term in a big org takes seconds), the words parsed as search parses them (the last
// one also a prefix). Each page carries the daily quota.
import { and, arrayContains, desc, eq, inArray, isNotNull, isNull, lt, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { type AnyPgColumn, unionAll } from 'drizzle-orm/pg-core';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid } from '../../core/errors.ts';
import { objectWithJson } from '../../core/json-text.ts';
import { decodeCursor, encodeCursor, type PageInput } from '../../core/pagination.ts';
import { type DbOrTx, together } from '../../db/client.ts';
import { jsonArray } from '../../db/json-sql.ts';
import { Bindings, preparedFor, preparedSql } from '../../db/prepared.ts';
import { agents } from '../../db/schema/agents.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { TASK_PRIORITIES, TASK_STATUSES, taskCounters, tasks } from '../../db/schema/tasks.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { COMMON_SHARE, COMMON_WINDOW, RANK_CAP } from '../search/postgres-fts.ts';
import { parseSearch } from '../search/query.ts';
import { parseAssignee } from './assignee.ts';
import { counterView, dailyQuota } from './quota.ts';
import { findTask, presentTask, taskJsonSql } from './service.ts';

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

/**
 * The conditions of the filters, status apart (the newest-first list queries each status on its own), their values
 * bound by name in `b` and their structure in its shape key (db/prepared.ts).
 */
export async function listFilters(ctx: Ctx, input: ListTasksInput, b: Bindings) {
  const orgId = requireOrg(ctx);
  const org = b.bind('org', orgId);
  b.shape(input.archived ? 'archived' : 'live');
  const where: SQL[] = [eq(tasks.orgId, org), input.archived ? isNotNull(tasks.archivedAt) : isNull(tasks.archivedAt)];
  const statuses = several('status', input.status, TASK_STATUSES);
  const priorities = several('priority', input.priority, TASK_PRIORITIES);
  if (priorities) where.push(sql`${tasks.priority} = any(${b.bind('priorities', priorities)})`);
  if (input.assignee === 'none') {
    b.shape('unassigned');
    where.push(isNull(tasks.assigneeId));
  } else if (input.assignee) {
    const a = parseAssignee(ctx, input.assignee);
    const ref = b.bind('assignee', a.id);
    // Agents are stored by id and named by id or name: resolved inside the list's own query (an unknown agent has no
    // tasks: an empty page, not a 404 of the list).
    const id =
      a.type === 'agent'
        ? sql`(select ${agents.id} from ${agents} where ${agents.orgId} = ${org} and (${agents.id} = ${ref} or ${agents.name} = ${ref}))`
        : ref;
    where.push(eq(tasks.assigneeId, id), eq(tasks.assigneeType, b.bind('assignee_type', a.type)));
    b.shape(a.type);
  }
  if (input.product_id) where.push(eq(tasks.productId, b.bind('product', input.product_id)));
  if (input.tag) where.push(arrayContains(tasks.tags, b.bind('tag', [input.tag])));
  if (input.parent_id) {
    // An unknown parent simply has no subtasks: an empty page, not a 404 of the list.
    const parent = await findTask(ctx, input.parent_id).catch(() => null);
    where.push(eq(tasks.parentId, b.bind('parent', parent?.id ?? '')));
  }
  return { where, statuses };
}

export async function listTasks(ctx: Ctx, input: ListTasksInput) {
  const b = new Bindings();
  const { where, statuses } = await listFilters(ctx, input, b);
  if (!input.q) return newestFirst(ctx, input, where, statuses, b);
  const quota = dailyQuota(ctx);
  const page = await ranked(ctx, input, statuses ? [...where, inArray(tasks.status, statuses)] : where, b);
  return { ...page, ...(await quota) };
}

/**
 * Binds what a newest-first page needs beyond the filters: each status, the cursor, limit and offset. Several
 * statuses are one ordered index scan each (org, [assignee,] status, id) merged by a UNION ALL: `status IN (…)` in
 * one scan cannot come out in id order, and the planner then either sorts every match or walks the whole org
 * backwards (measured: 235 ms for 50 rows at 50k tasks).
 */
export function bindNewestFirst(b: Bindings, where: SQL[], statuses: string[] | undefined, page: { limit: number; offset: number; cursor?: string }) {
  const conds = page.cursor ? [...where, lt(tasks.id, b.bind('cursor', page.cursor))] : where;
  const statusConds = (statuses ?? []).map((s, i) => eq(tasks.status, b.bind(`status${i}`, s) as never));
  b.bind('limit', page.limit);
  b.bind('offset', page.offset);
  b.bind('reach', page.limit + page.offset);
  b.shape(`statuses:${statusConds.length}`);
  return { conds, statusConds };
}

/** The page query of a newest-first list for what bindNewestFirst bound, its values still placeholders. */
export function newestFirstBuilder(db: DbOrTx, bound: ReturnType<typeof bindNewestFirst>) {
  const { conds, statusConds } = bound;
  const scan = (status: SQL | undefined) =>
    db
      .select()
      .from(tasks)
      .where(and(...conds, status))
      .orderBy(desc(tasks.id));
  if (statusConds.length <= 1) return scan(statusConds[0]).limit(sql.placeholder('limit')).offset(sql.placeholder('offset'));
  // Each branch needs its first offset + limit rows (`reach`): the merged page is cut from them.
  const [first, second, ...rest] = statusConds.map((s) => scan(s).limit(sql.placeholder('reach')));
  return unionAll(first, second, ...rest)
    .orderBy(desc(tasks.id))
    .limit(sql.placeholder('limit'))
    .offset(sql.placeholder('offset'));
}

/** The same rows, prepared once per shape (db/prepared.ts): what the page statement reads (bench/tasks.ts measures it alone). */
export const newestFirstQuery = (db: DbOrTx, b: Bindings, bound: ReturnType<typeof bindNewestFirst>) =>
  preparedFor(db, 'tasks_list', b, () => newestFirstBuilder(db, bound));

/**
 * Newest first, by cursor or offset: the page written as JSON by the database (presentTask in SQL: taskJsonSql),
 * and the daily quota's counter read by the same statement — one round trip, and no row turned into objects and
 * back into JSON here (core/json-text.ts; the figures are in docs/tasks.md).
 */
async function newestFirst(ctx: Ctx, input: ListTasksInput, where: SQL[], statuses: string[] | undefined, b: Bindings) {
  const cursor = decodeCursor(input.cursor);
  const bound = bindNewestFirst(b, where, statuses, {
    limit: input.limit + 1,
    offset: cursor ? 0 : (input.offset ?? 0),
    cursor: cursor ?? undefined,
  });
  const size = b.bind('page_size', input.limit);
  const statement = preparedSql<PageJsonRow>(ctx.db, 'tasks_page', b, () => pageJsonSql(ctx.db, bound, size));
  const [{ rows }, catalog] = await together(
    ctx.db,
    () => statement.execute(b.values),
    () => effectiveCatalog(ctx.services, ctx.db),
  );
  const row = rows[0];
  const meta = { limit: input.limit, next_cursor: row.has_more && row.last_id ? encodeCursor(row.last_id) : null, has_more: row.has_more };
  return objectWithJson({ data: row.data }, { meta, ...counterView({ plan: row.plan, day: row.day, createdToday: row.created_today }, catalog) });
}

interface PageJsonRow {
  data: string;
  has_more: boolean;
  last_id: string | null;
  plan: string | null;
  day: string | null;
  created_today: number | null;
}

/** One row: the page (the first `size` of the limit + 1 rows read) as a JSON array, whether more follow, and the org's counter. */
export function pageJsonSql(db: DbOrTx, bound: ReturnType<typeof bindNewestFirst>, size: Placeholder) {
  return sql`select pg.data, pg.has_more, pg.last_id, o.plan, to_char(c.day, 'YYYY-MM-DD') as day, c.created_today
    from (select ${jsonArray(taskJsonSql('p'), sql`p.id desc`, sql`p.n <= ${size}`)} as data,
                 count(*) > ${size} as has_more, min(p.id) filter (where p.n <= ${size}) as last_id
            from (select q.*, row_number() over (order by q.id desc) as n from (${newestFirstBuilder(db, bound)}) q) p) pg
    left join ${orgs} o on o.id = ${sql.placeholder('org')}
    left join ${taskCounters} c on c.org_id = o.id`;
}

/** Is `q` common in the tasks (by the tsv column's statistics)? Then its candidates are read newest first. */
export async function isCommonText(db: DbOrTx, table: 'tasks' | 'search_entries', q: string): Promise<boolean> {
  const { rows } = await db.execute<{ common: boolean }>(
    sql`select opsbase_text_share(${table}, ${parseSearch(q).tsquery}) >= ${COMMON_SHARE} as common`,
  );
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
  return db.select({ task: tasks, n: top.n }).from(top).innerJoin(tasks, eq(tasks.id, top.id)).orderBy(desc(top.rank), desc(top.id));
}

/** Best matches first (rank, then newest); pages by `offset` — a rank is no stable cursor. */
async function ranked(ctx: Ctx, input: ListTasksInput, where: SQL[], b: Bindings) {
  if (input.cursor) throw invalid('With `q`, results are ranked: page with `offset`, not `cursor`.', { field: 'cursor' });
  const q = input.q ?? '';
  // Not prepared: a rank query's best plan depends on the word (search/postgres-fts.ts); its filters' values are bound by name.
  const rows = await rankedQuery(ctx.db, where, q, input.limit + 1, input.offset ?? 0, await isCommonText(ctx.db, 'tasks', q)).execute(b.values);
  const has_more = rows.length > input.limit;
  return { data: rows.slice(0, input.limit).map((r) => presentTask(r.task)), meta: { limit: input.limit, next_cursor: null, has_more } };
}
