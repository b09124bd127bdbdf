// Comments on a task, by users and (with the agents module) agents: the author is whoever the context says acts.
import { eq } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { taskComments } from '../../db/schema/tasks.ts';
import { recordActivity } from '../activity/record.ts';
import { findTask } from './service.ts';

type CommentRow = typeof taskComments.$inferSelect;

export const presentComment = (c: CommentRow) => ({
  id: c.id,
  task_id: c.taskId,
  author: { type: c.authorType, id: c.authorId },
  body: c.body,
  created_at: c.createdAt.toISOString(),
});

export async function listComments(ctx: Ctx, input: PageInput & { id: string }) {
  const task = await findTask(ctx, input.id);
  return listNewestFirst(ctx.db, taskComments, input, [eq(taskComments.taskId, task.id)], presentComment);
}

export async function createComment(ctx: Ctx, input: { id: string; body: string }) {
  const task = await findTask(ctx, input.id);
  const [row] = await ctx.db
    .insert(taskComments)
    .values({ id: newId('taskComment'), orgId: task.orgId, taskId: task.id, authorType: ctx.actorType, authorId: ctx.actorId, body: input.body })
    .returning();
  await recordActivity(ctx, {
    action: 'task.commented',
    entityType: 'task',
    entityId: task.id,
    metadata: { number: task.number, comment_id: row.id },
  });
  return presentComment(row);
}
