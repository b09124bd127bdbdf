// Which status may follow which. A table (not scattered ifs) so the docs, the 422's details and the tests all
// read the same thing.
import { unprocessable } from '../../core/errors.ts';
import type { TaskStatus } from '../../db/schema/tasks.ts';

export const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  backlog: ['todo', 'in_progress', 'cancelled'],
  todo: ['backlog', 'in_progress', 'blocked', 'done', 'cancelled'],
  in_progress: ['todo', 'in_review', 'blocked', 'done', 'cancelled'],
  in_review: ['in_progress', 'blocked', 'done', 'cancelled'],
  blocked: ['todo', 'in_progress', 'cancelled'],
  // Reopening: a finished task goes back to the queue, never straight to work.
  done: ['todo'],
  cancelled: ['backlog', 'todo'],
};

/** Statuses in which a task is finished: it no longer blocks others and no longer counts as a duplicate. */
export const CLOSED: readonly TaskStatus[] = ['done', 'cancelled'];

export function assertTransition(from: TaskStatus, to: TaskStatus) {
  if (from === to) return;
  const allowed = TRANSITIONS[from];
  if (!allowed.includes(to)) {
    throw unprocessable(`A task cannot go from ${from} to ${to}. From ${from} it can go to: ${allowed.join(', ')}.`, {
      field: 'status',
      from,
      to,
      allowed,
    });
  }
}
