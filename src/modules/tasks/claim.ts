// Picking up work: `next` shows the most urgent startable task for an assignee, `claim_next` takes it and
// `claim` takes a named one. A claim starts the task (in_progress) under a lease that expires on its own: an
// expired lease makes the task claimable again at the next claim (checked then — no sweeper, no manual unlock),
// and concurrent claimers never get the same task (FOR UPDATE SKIP LOCKED).
import { and, asc, eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { conflict, unprocessable } from '../../core/errors.ts';
import { together } from '../../db/client.ts';
import { tasks } from '../../db/schema/tasks.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { type Assignee, parseAssignee, validateAssignee, writeAssignee } from './assignee.ts';
import { assertUnblocked, findTask, presentTask, type TaskRow } from './service.ts';
import { assertTransition } from './transitions.ts';

export const DEFAULT_LEASE_SECONDS = 300;

export interface PickInput {
  assignee?: string;
  include_unassigned?: boolean;
}

/** No open task this one depends on. */
const unblocked = sql`not exists (
  select 1 from task_dependencies d join tasks b on b.id = d.depends_on_id
  where d.task_id = ${tasks.id} and b.status not in ('done', 'cancelled'))`;

const mine = (a: Assignee) => and(eq(tasks.assigneeType, a.type), eq(tasks.assigneeId, a.id));

/** Todo tasks the assignee may take: their own, and unassigned ones when asked. */
export function todoPool(orgId: string, a: Assignee, includeUnassigned: boolean): SQL | undefined {
  return and(
    eq(tasks.orgId, orgId),
    eq(tasks.status, 'todo'),
    isNull(tasks.archivedAt),
    includeUnassigned ? or(mine(a), isNull(tasks.assigneeId)) : mine(a),
    unblocked,
  );
}

/**
 * In-progress tasks whose lease ran out count as back in the pool they came from: their assignee's, or the
 * unassigned one when the claim had assigned them.
 */
export function expiredPool(orgId: string, a: Assignee, includeUnassigned: boolean): SQL | undefined {
  return and(
    eq(tasks.orgId, orgId),
    eq(tasks.status, 'in_progress'),
    lt(tasks.leaseExpiresAt, sql`now()`),
    isNull(tasks.archivedAt),
    includeUnassigned
      ? or(and(mine(a), eq(tasks.assignedByClaim, false)), eq(tasks.assignedByClaim, true))
      : and(mine(a), eq(tasks.assignedByClaim, false)),
    unblocked,
  );
}

export const urgency = [asc(tasks.priority), asc(tasks.id)];
const before = (x: TaskRow, y: TaskRow) => x.priority < y.priority || (x.priority === y.priority && x.id < y.id);

async function who(ctx: Ctx, assignee: string | undefined): Promise<Assignee> {
  return validateAssignee(ctx, parseAssignee(ctx, assignee ?? 'me'));
}

export async function nextTask(ctx: Ctx, input: PickInput) {
  const orgId = requireOrg(ctx);
  const a = await who(ctx, input.assignee);
  const inc = input.include_unassigned ?? false;
  const first = (where: SQL | undefined) =>
    ctx.db
      .select()
      .from(tasks)
      .where(where)
      .orderBy(...urgency)
      .limit(1);
  const [[todo], [expired]] = await together(
    ctx.db,
    () => first(todoPool(orgId, a, inc)),
    () => first(expiredPool(orgId, a, inc)),
  );
  const best = todo && expired ? (before(expired, todo) ? expired : todo) : (todo ?? expired);
  return { task: best ? presentTask(best) : null };
}

const leaseUntil = (seconds: number) => sql`now() + make_interval(secs => ${seconds})`;

/** Puts every expired lease of the org (that no one else is handling right now) back where it came from. */
async function releaseExpired(ctx: Ctx, orgId: string) {
  const expired = ctx.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.orgId, orgId), eq(tasks.status, 'in_progress'), lt(tasks.leaseExpiresAt, sql`now()`)))
    .limit(100)
    .for('update', { skipLocked: true });
  const released = await ctx.db
    .update(tasks)
    .set({
      status: 'todo',
      assigneeType: sql`case when ${tasks.assignedByClaim} then null else ${tasks.assigneeType} end`,
      assigneeId: sql`case when ${tasks.assignedByClaim} then null else ${tasks.assigneeId} end`,
      assignedByClaim: false,
      leaseExpiresAt: null,
      leaseHolder: null,
      updatedAt: new Date(),
    })
    .where(sql`${tasks.id} in (${expired})`)
    .returning({ id: tasks.id, number: tasks.number });
  for (const r of released) {
    await recordActivity(ctx, { action: 'task.lease_expired', entityType: 'task', entityId: r.id, metadata: { number: r.number } });
  }
}

async function claimed(ctx: Ctx, row: TaskRow, a: Assignee, action: string) {
  await recordActivity(ctx, {
    action,
    entityType: 'task',
    entityId: row.id,
    metadata: { number: row.number, holder: writeAssignee(a), lease_expires_at: row.leaseExpiresAt?.toISOString() },
  });
  await recordEvent(ctx.db, {
    orgId: row.orgId,
    type: 'task.updated',
    subject: row.id,
    data: { number: row.number, title: row.title, status: row.status, assignee: writeAssignee(a), changed: ['status', 'assignee'] },
  });
}

export async function claimNext(ctx: Ctx, input: PickInput & { lease_seconds?: number }) {
  const orgId = requireOrg(ctx);
  const a = await who(ctx, input.assignee);
  await releaseExpired(ctx, orgId);
  const pick = ctx.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(todoPool(orgId, a, input.include_unassigned ?? false))
    .orderBy(...urgency)
    .limit(1)
    .for('update', { skipLocked: true });
  const [row] = await ctx.db
    .update(tasks)
    .set({
      status: 'in_progress',
      assignedByClaim: sql`${tasks.assigneeId} is null`,
      assigneeType: a.type,
      assigneeId: a.id,
      leaseHolder: writeAssignee(a),
      leaseExpiresAt: leaseUntil(input.lease_seconds ?? DEFAULT_LEASE_SECONDS),
      completedAt: null,
      updatedAt: new Date(),
    })
    .where(sql`${tasks.id} = (${pick})`)
    .returning();
  if (!row) return { task: null };
  await claimed(ctx, row, a, 'task.claimed');
  return { task: presentTask(row) };
}

/** Claims one named task; its current lease holder claiming again renews the lease. */
export async function claimTask(ctx: Ctx, input: { id: string; assignee?: string; lease_seconds?: number }) {
  // The task first: an unknown one is a 404 whatever else is wrong with the request.
  const t = await findTask(ctx, input.id, { forUpdate: true });
  const a = await who(ctx, input.assignee);
  const holder = writeAssignee(a);
  if (t.archivedAt) throw unprocessable(`Task #${t.number} is archived.`, { archived_at: t.archivedAt.toISOString() });
  const live = t.status === 'in_progress' && t.leaseExpiresAt !== null && t.leaseExpiresAt > new Date();
  const renewal = live && t.leaseHolder === holder;
  if (live && !renewal) {
    throw conflict(`Task #${t.number} is claimed by ${t.leaseHolder} until ${t.leaseExpiresAt?.toISOString()}.`, {
      lease_holder: t.leaseHolder,
      lease_expires_at: t.leaseExpiresAt?.toISOString(),
    });
  }
  const expired = t.status === 'in_progress' && t.leaseExpiresAt !== null && !live;
  if (t.status === 'in_progress' && t.leaseExpiresAt === null) {
    throw conflict(`Task #${t.number} is already in progress (started without a lease): move it back to todo to claim it.`, { status: t.status });
  }
  if (!renewal) {
    if (!expired) assertTransition(t.status, 'in_progress');
    await assertUnblocked(ctx, t);
  }
  const [row] = await ctx.db
    .update(tasks)
    .set({
      status: 'in_progress',
      assigneeType: a.type,
      assigneeId: a.id,
      // Keeps where the task returns on expiry: unassigned if nobody had been assigned before a claim.
      assignedByClaim: renewal || expired ? t.assignedByClaim : t.assigneeId === null,
      leaseHolder: holder,
      leaseExpiresAt: leaseUntil(input.lease_seconds ?? DEFAULT_LEASE_SECONDS),
      completedAt: null,
      updatedAt: new Date(),
    })
    .where(eq(tasks.id, t.id))
    .returning();
  await claimed(ctx, row, a, renewal ? 'task.lease_renewed' : 'task.claimed');
  return presentTask(row);
}
