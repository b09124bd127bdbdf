// One task on the board: drag it to another column, or — from the keyboard — pick its status in the select.
import { Link } from 'react-router';
import { useSession } from '../../app/session';
import { controlClass } from '../../ui/field';
import { Badge } from '../../ui/kit';
import { assigneeText, useAgentNames, priorityTone, type Status, statusOptions, type Task } from './api';

/** The drag payload's type: the task itself, so a drop needs no look-up. */
export const TASK_MIME = 'application/x-opsbase-task';

export function TaskCard({ task, onMove, busy }: { task: Task; onMove: (task: Task, to: Status) => void; busy: boolean }) {
  const { me } = useSession();
  const who = assigneeText(task.assignee, me.id, useAgentNames());
  return (
    <li
      draggable={!busy}
      onDragStart={(e) => {
        e.dataTransfer.setData(TASK_MIME, JSON.stringify(task));
        e.dataTransfer.setData('text/plain', `#${task.number} ${task.title}`);
        e.dataTransfer.effectAllowed = 'move';
      }}
      data-task={task.number}
      aria-busy={busy || undefined}
      className={`cursor-grab rounded-md border border-zinc-200 bg-white p-2.5 shadow-sm active:cursor-grabbing dark:border-zinc-700 dark:bg-zinc-900 ${busy ? 'opacity-60' : ''}`}
    >
      <Link to={`/tasks/${task.number}`} className="block text-sm font-medium hover:underline">
        <span className="text-zinc-600 dark:text-zinc-400">#{task.number}</span> {task.title}
      </Link>
      <div className="mt-2 flex flex-wrap items-center gap-1">
        <Badge tone={priorityTone(task.priority)}>{task.priority}</Badge>
        {who && <Badge>{who}</Badge>}
        {task.tags.map((t) => (
          <Badge key={t} tone="blue">
            {t}
          </Badge>
        ))}
      </div>
      <select
        aria-label={`Status of #${task.number}`}
        className={`${controlClass} mt-2 py-1 text-xs`}
        value={task.status}
        disabled={busy}
        onChange={(e) => onMove(task, e.target.value as Status)}
      >
        {statusOptions.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </li>
  );
}
