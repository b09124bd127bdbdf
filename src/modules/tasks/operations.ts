import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, QueryBool, Timestamp } from '../../core/schemas.ts';
import { TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES } from '../../db/schema/tasks.ts';
import { claimNext, claimTask, nextTask } from './claim.ts';
import { createComment, listComments } from './comments.ts';
import { addDependency, removeDependency } from './dependencies.ts';
import { listTasks } from './list.ts';
import * as tasks from './service.ts';

const Actor = z.object({ type: z.string(), id: z.string().nullable() });

export const Task = z
  .object({
    id: z.string(),
    number: z.number().int().describe('Per-org number (1, 2, 3 …), accepted wherever a task id is'),
    org_id: z.string(),
    title: z.string(),
    description: z.string().nullable().describe('Markdown'),
    type: z.enum(TASK_TYPES),
    status: z.enum(TASK_STATUSES),
    priority: z.enum(TASK_PRIORITIES),
    assignee: z.object({ type: z.enum(['user', 'agent']), id: z.string() }).nullable(),
    product_id: z.string().nullable(),
    tags: z.array(z.string()),
    due_date: z.string().nullable().describe('YYYY-MM-DD'),
    estimated_minutes: z.number().int().nullable(),
    max_duration_seconds: z.number().int().nullable(),
    parent_id: z.string().nullable(),
    resolution: z.string().nullable(),
    completed_at: Timestamp.nullable(),
    lease_expires_at: Timestamp.nullable().describe('While in the future, the claimer holds the task; once past, it is claimable again'),
    run_failures: z.number().int().describe('Its runs that failed or timed out in a row (the fifth blocks it); reset by a success, a status change or a new assignee'),
    retry_after: Timestamp.nullable().describe('After a failed run, heartbeats leave the task alone until then; a run by hand does not wait'),
    archived_at: Timestamp.nullable(),
    created_by: Actor,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Task' });

const TaskLink = z.object({ id: z.string(), number: z.number().int(), title: z.string(), status: z.string() });
const TaskDetail = Task.extend({
  depends_on: z.array(TaskLink).describe('Tasks this one depends on'),
  blocks: z.array(TaskLink).describe('Tasks that depend on this one'),
  blocked: z.boolean().describe('A task it depends on is still open: it cannot start'),
}).meta({ id: 'TaskDetail' });

export const TaskComment = z
  .object({ id: z.string(), task_id: z.string(), author: Actor, body: z.string(), created_at: Timestamp })
  .meta({ id: 'TaskComment' });

const columns = ['number', 'title', 'status', 'priority', 'assignee'];
const id = z.string().min(1).max(64).describe('Task id (`task_…`) or number');
const AssigneeRef = z.string().max(80).describe('`me`, `user:<id>` or `agent:<name-or-id>`');
const PickInput = {
  assignee: AssigneeRef.optional().describe('Whose work: `me` (default), `user:<id>` or `agent:<name-or-id>`'),
  include_unassigned: z.boolean().optional().describe('Also consider unassigned tasks (a claim assigns them)'),
};
const LeaseSeconds = z.number().int().min(10).max(86400).optional().describe('Lease length (default 300 s); claim again to renew');

const Fields = {
  description: z.string().max(100_000).nullish(),
  type: z.enum(TASK_TYPES).optional(),
  status: z.enum(TASK_STATUSES).optional(),
  priority: z.enum(TASK_PRIORITIES).optional().describe('P0 (most urgent) … P3; default P2'),
  assignee: AssigneeRef.nullish(),
  product_id: z.string().max(64).nullish(),
  tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
  due_date: z.iso.date().nullish().describe('YYYY-MM-DD'),
  estimated_minutes: z.number().int().min(0).max(1_000_000).nullish(),
  max_duration_seconds: z.number().int().min(1).max(604_800).nullish(),
  parent_id: z.string().max(64).nullish().describe('Parent task id or number'),
  resolution: z.string().max(10_000).nullish(),
};
const Title = z.string().trim().min(1).max(500);

export const createTask = defineOperation({
  id: 'tasks.create',
  method: 'POST',
  path: '/tasks',
  aliases: ['/public/tasks'],
  summary: 'Create a task (409 if an open task has the same title; 402 past the daily quota)',
  scopes: ['tasks:write'],
  input: z.object({
    title: Title,
    ...Fields,
    allow_duplicate: z.boolean().optional().describe('Create even if an open task has the same title'),
  }),
  output: Task,
  cli: { args: ['title'], columns: ['id', ...columns] },
  handler: (ctx, input) => tasks.createTask(ctx, input),
});

export const listTasksOp = defineOperation({
  id: 'tasks.list',
  method: 'GET',
  path: '/tasks',
  aliases: ['/public/tasks'],
  summary: "The org's tasks, newest first (ranked with `q`), and today's creation quota",
  scopes: ['tasks:read'],
  input: PageInput.extend({
    status: z.string().max(200).optional().describe('One or more statuses, comma-separated'),
    priority: z.string().max(50).optional().describe('One or more of P0–P3, comma-separated'),
    assignee: z.string().max(80).optional().describe('`me`, `user:<id>`, `agent:<name-or-id>` or `none`'),
    product_id: z.string().max(64).optional(),
    tag: z.string().max(50).optional(),
    parent_id: z.string().max(64).optional().describe('Subtasks of this task (id or number)'),
    q: z.string().trim().min(1).max(500).optional().describe('Full-text search over title and description, best matches first'),
    archived: QueryBool.optional().describe('true: only archived tasks'),
  }),
  output: listOf(Task).extend({
    used_today: z.number().int().describe('Tasks created today (UTC)'),
    limit: z.number().int().describe("The plan's tasks_per_day (-1: unlimited)"),
    remaining: z.number().int(),
    reset_at: Timestamp,
  }),
  cli: { columns },
  handler: (ctx, input) => listTasks(ctx, input),
});

export const getTask = defineOperation({
  id: 'tasks.get',
  method: 'GET',
  path: '/tasks/:id',
  aliases: ['/public/tasks/:id'],
  summary: 'Get a task (by id or number) with its dependencies',
  scopes: ['tasks:read'],
  input: z.object({ id }),
  output: TaskDetail,
  cli: { columns: ['id', ...columns] },
  handler: (ctx, input) => tasks.getTask(ctx, input.id),
});

export const updateTask = defineOperation({
  id: 'tasks.update',
  method: 'PATCH',
  path: '/tasks/:id',
  aliases: ['/public/tasks/:id'],
  summary: 'Update a task; a status change must follow the transitions table (422 lists the allowed ones)',
  scopes: ['tasks:write'],
  input: z.object({ id, title: Title.optional(), ...Fields }),
  output: Task,
  cli: { columns: ['id', ...columns] },
  handler: (ctx, input) => tasks.updateTask(ctx, input),
});

export const archiveTask = defineOperation({
  id: 'tasks.archive',
  method: 'POST',
  path: '/tasks/:id/archive',
  // Orkosi's public API archives with DELETE (its tasks are never deleted for good there).
  aliases: ['DELETE /public/tasks/:id'],
  summary: 'Archive a task: hidden from lists and queues; an open task is cancelled',
  scopes: ['tasks:write'],
  status: 200,
  input: z.object({ id }),
  output: Task,
  cli: { columns: ['id', ...columns] },
  handler: (ctx, input) => tasks.archiveTask(ctx, input.id),
});

export const nextTaskOp = defineOperation({
  id: 'tasks.next',
  method: 'GET',
  path: '/tasks/next',
  summary: 'The most urgent startable todo task for an assignee (ties: oldest first), without claiming it',
  scopes: ['tasks:read'],
  input: z.object({
    assignee: PickInput.assignee,
    include_unassigned: QueryBool.optional().describe(PickInput.include_unassigned.description ?? ''),
  }),
  output: z.object({ task: Task.nullable() }),
  handler: (ctx, input) => nextTask(ctx, input),
});

export const claimNextOp = defineOperation({
  id: 'tasks.claim_next',
  method: 'POST',
  path: '/tasks/claim-next',
  summary: 'Atomically take the next task: assigned, in_progress, under a lease that expires on its own',
  scopes: ['tasks:write'],
  status: 200,
  input: z.object({ ...PickInput, lease_seconds: LeaseSeconds }),
  output: z.object({ task: Task.nullable() }),
  handler: (ctx, input) => claimNext(ctx, input),
});

export const claimTaskOp = defineOperation({
  id: 'tasks.claim',
  method: 'POST',
  path: '/tasks/:id/claim',
  summary: 'Claim a named task (or renew your lease on it); 409 if it is blocked or someone else holds it',
  scopes: ['tasks:write'],
  status: 200,
  input: z.object({ id, assignee: PickInput.assignee, lease_seconds: LeaseSeconds }),
  output: Task,
  cli: { columns: ['id', ...columns, 'lease_expires_at'] },
  handler: (ctx, input) => claimTask(ctx, input),
});

const dependsOn = z.string().min(1).max(64).describe('The task it depends on (id or number)');

export const addDependencyOp = defineOperation({
  id: 'tasks.dependencies.add',
  method: 'POST',
  path: '/tasks/:id/dependencies',
  summary: 'Make a task depend on another (that one blocks it); 422 naming the cycle if it would close one',
  scopes: ['tasks:write'],
  status: 200,
  input: z.object({ id, depends_on: dependsOn }),
  output: TaskDetail,
  cli: { args: ['id', 'depends_on'], columns: ['id', ...columns] },
  handler: (ctx, input) => addDependency(ctx, input),
});

export const removeDependencyOp = defineOperation({
  id: 'tasks.dependencies.remove',
  method: 'DELETE',
  path: '/tasks/:id/dependencies/:depends_on',
  summary: 'Remove a dependency',
  scopes: ['tasks:write'],
  input: z.object({ id, depends_on: dependsOn }),
  output: TaskDetail,
  cli: { columns: ['id', ...columns] },
  handler: (ctx, input) => removeDependency(ctx, input),
});

export const listCommentsOp = defineOperation({
  id: 'tasks.comments.list',
  method: 'GET',
  path: '/tasks/:id/comments',
  summary: "A task's comments, newest first",
  scopes: ['tasks:read'],
  input: PageInput.extend({ id }),
  output: listOf(TaskComment),
  cli: { columns: ['id', 'author', 'body', 'created_at'] },
  handler: (ctx, input) => listComments(ctx, input),
});

export const createCommentOp = defineOperation({
  id: 'tasks.comments.create',
  method: 'POST',
  path: '/tasks/:id/comments',
  summary: 'Comment on a task (markdown)',
  scopes: ['tasks:write'],
  input: z.object({ id, body: z.string().trim().min(1).max(20_000) }),
  output: TaskComment,
  cli: { args: ['id', 'body'], columns: ['id', 'author', 'body', 'created_at'] },
  handler: (ctx, input) => createComment(ctx, input),
});

export const deleteTask = defineOperation({
  id: 'tasks.delete',
  method: 'DELETE',
  path: '/tasks/:id',
  summary: 'Delete a task for good (its comments and dependencies go with it; subtasks lose their parent)',
  scopes: ['tasks:write'],
  input: z.object({ id }),
  output: Deleted,
  handler: (ctx, input) => tasks.deleteTask(ctx, input.id),
});

// `next` and `claim-next` before `:id` routes is not needed (static segments win in Fastify), but delete stays
// last: tests that walk the registry in order act on one task.
export const taskOperations = [
  createTask,
  listTasksOp,
  nextTaskOp,
  claimNextOp,
  getTask,
  updateTask,
  claimTaskOp,
  addDependencyOp,
  removeDependencyOp,
  listCommentsOp,
  createCommentOp,
  archiveTask,
  deleteTask,
];
