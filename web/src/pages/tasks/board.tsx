// The board: a column per status, each its own paged list. A moved card shows in its new column while the server
// decides; a refused transition (422, which names the allowed ones) puts it back and says why.
import { useState } from 'react';
import { ApiError } from '../../api/client';
import { Badge, Button, ErrorNote, Loading } from '../../ui/kit';
import { type Filters, STATUSES, type Status, statusLabel, statusTone, type Task, useTasks, useUpdateTask } from './api';
import { TASK_MIME, TaskCard } from './task-card';

type Moving = Record<string, { task: Task; to: Status }>;

function Column({ status, filters, moving, onMove }: { status: Status; filters: Filters; moving: Moving; onMove: (t: Task, to: Status) => void }) {
  const list = useTasks({ ...filters, status });
  const [over, setOver] = useState(false);
  const staying = list.rows.filter((t) => !moving[t.id]);
  const arriving = Object.values(moving)
    .filter((m) => m.to === status)
    .map((m) => ({ ...m.task, status }));
  const cards = [...arriving, ...staying];
  const heading = `col-${status}`;
  return (
    <section
      aria-labelledby={heading}
      data-status={status}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        // The card carries its task (set on drag start), whichever column it came from.
        const dragged = e.dataTransfer.getData(TASK_MIME);
        if (dragged) onMove(JSON.parse(dragged) as Task, status);
      }}
      className={`flex w-60 shrink-0 flex-col rounded-lg border p-2 ${over ? 'border-indigo-500 bg-indigo-50 dark:bg-indigo-950' : 'border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900/50'}`}
    >
      <h2 id={heading} className="mb-2 flex items-center justify-between px-1 text-sm font-semibold">
        <Badge tone={statusTone(status)}>{statusLabel(status)}</Badge>
        <span className="text-xs font-normal text-zinc-600 dark:text-zinc-400">
          {cards.length}
          {list.hasNextPage ? '+' : ''}
          <span className="sr-only"> tasks</span>
        </span>
      </h2>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : (
        <ul className="min-h-16 space-y-2">
          {cards.map((t) => (
            <TaskCard key={t.id} task={t} onMove={onMove} busy={Boolean(moving[t.id])} />
          ))}
        </ul>
      )}
      {list.hasNextPage && (
        <Button variant="ghost" className="mt-2" disabled={list.isFetchingNextPage} onClick={() => list.fetchNextPage()}>
          Load more
        </Button>
      )}
    </section>
  );
}

export function Board({ filters }: { filters: Filters }) {
  const [moving, setMoving] = useState<Moving>({});
  const [refused, setRefused] = useState<{ task: Task; error: unknown } | null>(null);
  const update = useUpdateTask();
  const move = async (task: Task, to: Status) => {
    if (task.status === to || moving[task.id]) return;
    setRefused(null);
    setMoving((m) => ({ ...m, [task.id]: { task, to } }));
    try {
      await update.mutateAsync({ id: task.id, status: to });
    } catch (error) {
      setRefused({ task, error });
    } finally {
      setMoving(({ [task.id]: _, ...rest }) => rest);
    }
  };
  return (
    <>
      <div aria-live="polite">
        {refused && (
          <div className="mb-3">
            <ErrorNote error={refused.error instanceof ApiError ? new Error(`#${refused.task.number} stays ${statusLabel(refused.task.status).toLowerCase()}: ${refused.error.message}`) : refused.error} />
          </div>
        )}
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the board scrolls sideways; keyboard users must reach that too. */}
      <section tabIndex={0} aria-label="Task board" className="flex gap-3 overflow-x-auto pb-3">
        {STATUSES.map((s) => (
          <Column key={s} status={s} filters={filters} moving={moving} onMove={move} />
        ))}
      </section>
    </>
  );
}
