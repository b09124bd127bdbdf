// Tasks (issue 11): work items for people and agents, with a per-org number, dependencies, comments and leases.
// The full-text column `tsv` (title weight A, description weight B) is a generated column added by hand in the
// migration (drizzle cannot express it); queries reach it through raw SQL.
import { sql } from 'drizzle-orm';
import { boolean, date, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgs } from './orgs.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const TASK_STATUSES = ['backlog', 'todo', 'in_progress', 'in_review', 'blocked', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TASK_PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
export const TASK_TYPES = ['feature', 'bug', 'research', 'ops', 'infra', 'content', 'other'] as const;
export type TaskType = (typeof TASK_TYPES)[number];
export type AssigneeType = 'user' | 'agent';

/**
 * One row per org: the last task number handed out and today's creations. The create transaction upserts it
 * first, so its row lock serializes an org's creates: numbers, the daily quota and the duplicate-title check are
 * all race-free without a table lock.
 */
export const taskCounters = pgTable('task_counters', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => orgs.id, { onDelete: 'cascade' }),
  lastNumber: integer('last_number').notNull().default(0),
  /** The UTC day `createdToday` counts. */
  day: date('day', { mode: 'string' }).notNull(),
  createdToday: integer('created_today').notNull().default(0),
});

export const tasks = pgTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    title: text('title').notNull(),
    /** The title trimmed, spaces collapsed, lowercased: what duplicate detection compares. */
    titleKey: text('title_key').notNull(),
    description: text('description'),
    type: text('type').$type<TaskType>().notNull().default('other'),
    status: text('status').$type<TaskStatus>().notNull().default('todo'),
    /** `P0` (most urgent) … `P3`: sorts correctly as text. */
    priority: text('priority').$type<TaskPriority>().notNull().default('P2'),
    assigneeType: text('assignee_type').$type<AssigneeType>(),
    assigneeId: text('assignee_id'),
    productId: text('product_id'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    dueDate: date('due_date', { mode: 'string' }),
    estimatedMinutes: integer('estimated_minutes'),
    maxDurationSeconds: integer('max_duration_seconds'),
    parentId: text('parent_id'),
    resolution: text('resolution'),
    completedAt: ts('completed_at'),
    /** Set by a claim: while in the future the claimer holds the task; once past, the task is claimable again. */
    leaseExpiresAt: ts('lease_expires_at'),
    /** Who holds the lease (`user:<id>` / `agent:<id>`): a claim by the same holder renews it. */
    leaseHolder: text('lease_holder'),
    /** The claim assigned this task (it was unassigned): when the lease expires it returns to the unassigned pool. */
    assignedByClaim: boolean('assigned_by_claim').notNull().default(false),
    /** Runs of this task that failed (or timed out) in a row; a success, or a person moving or reassigning it, resets it. */
    runFailures: integer('run_failures').notNull().default(0),
    /** After a failed run, heartbeats leave the task alone until then (doubling with each failure in a row). */
    retryAfter: ts('retry_after'),
    createdByType: text('created_by_type').notNull(),
    createdById: text('created_by_id'),
    archivedAt: ts('archived_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('tasks_org_number_key').on(t.orgId, t.number),
    index('tasks_org_idx').on(t.orgId, t.id),
    index('tasks_org_assignee_status_idx').on(t.orgId, t.assigneeId, t.status, t.id),
    index('tasks_org_status_idx').on(t.orgId, t.status, t.id),
    index('tasks_org_title_key_idx').on(t.orgId, t.titleKey),
    index('tasks_parent_idx').on(t.parentId),
    // `next` / `claim_next`: an assignee's todo tasks, most urgent then oldest first.
    index('tasks_next_idx').on(t.orgId, t.assigneeId, t.priority, t.id).where(sql`status = 'todo' and archived_at is null`),
    // Expired leases: in-progress tasks with a lease, found by expiry.
    index('tasks_lease_idx').on(t.orgId, t.leaseExpiresAt).where(sql`status = 'in_progress' and lease_expires_at is not null`),
  ],
);

/** `dependsOnId` blocks `taskId`: the task cannot start while the other is neither done nor cancelled. */
export const taskDependencies = pgTable(
  'task_dependencies',
  {
    orgId: text('org_id').notNull(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    dependsOnId: text('depends_on_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.dependsOnId] }), index('task_dependencies_depends_on_idx').on(t.dependsOnId)],
);

export const taskComments = pgTable(
  'task_comments',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    taskId: text('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    authorType: text('author_type').notNull(),
    authorId: text('author_id'),
    body: text('body').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('task_comments_task_idx').on(t.taskId, t.id)],
);
