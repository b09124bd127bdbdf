// What a task waits for and what waits for it. Adding an edge that closes a loop is refused (422) with the loop
// named (`#3 → #1 → #2 → #3`), shown as the server says it.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../../api/client';
import { TextInput } from '../../ui/field';
import { Badge, Button, Card, ErrorNote } from '../../ui/kit';
import { statusLabel, statusTone, type Status, type TaskDetail } from './api';

type Linked = TaskDetail['depends_on'][number];

function TaskLinks({ items, onRemove }: { items: Linked[]; onRemove?: (t: Linked) => void }) {
  if (!items.length) return <p className="text-sm text-zinc-600 dark:text-zinc-400">None.</p>;
  return (
    <ul className="space-y-1">
      {items.map((t) => (
        <li key={t.id} className="flex items-center gap-2 text-sm">
          <Link to={`/tasks/${t.number}`} className="min-w-0 flex-1 truncate underline">
            #{t.number} {t.title}
          </Link>
          <Badge tone={statusTone(t.status as Status)}>{statusLabel(t.status)}</Badge>
          {onRemove && (
            <Button variant="ghost" className="px-2 py-0.5" onClick={() => onRemove(t)} aria-label={`Remove dependency on #${t.number}`}>
              ✕
            </Button>
          )}
        </li>
      ))}
    </ul>
  );
}

export function Dependencies({ task }: { task: TaskDetail }) {
  const qc = useQueryClient();
  const [other, setOther] = useState('');
  const path = { id: task.id };
  const done = () => qc.invalidateQueries({ queryKey: ['tasks'] });
  const add = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/tasks/{id}/dependencies', { params: { path }, body: { depends_on: other.replace(/^#/, '').trim() } })),
    onSuccess: async () => {
      await done();
      setOther('');
    },
  });
  const remove = useMutation({
    mutationFn: (t: Linked) => ok(api.DELETE('/api/v1/tasks/{id}/dependencies/{depends_on}', { params: { path: { ...path, depends_on: t.id } } })),
    onSuccess: done,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <Card title="Dependencies">
      {task.blocked && (
        <p className="mb-2 text-sm font-medium text-red-800 dark:text-red-300">Blocked: a task it depends on is still open, so it cannot start.</p>
      )}
      <h3 className="mb-1 text-xs font-medium uppercase tracking-wide text-zinc-600 dark:text-zinc-400">Waits for</h3>
      <TaskLinks items={task.depends_on} onRemove={(t) => remove.mutate(t)} />
      <h3 className="mb-1 mt-3 text-xs font-medium uppercase tracking-wide text-zinc-600 dark:text-zinc-400">Blocks</h3>
      <TaskLinks items={task.blocks} />
      <form onSubmit={submit} className="mt-3 flex items-end gap-2" noValidate>
        <div className="flex-1">
          <TextInput label="Depends on task" placeholder="number or id" value={other} onChange={(e) => setOther(e.target.value)} />
        </div>
        <Button type="submit" variant="secondary" disabled={add.isPending || !other.trim()}>
          Add
        </Button>
      </form>
      {(add.error || remove.error) && (
        <div className="mt-2">
          <ErrorNote error={add.error ?? remove.error} />
        </div>
      )}
    </Card>
  );
}
