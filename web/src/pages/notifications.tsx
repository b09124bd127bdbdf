// Notifications: unread first, filters, mark read (one or all), more as you scroll; new ones arrive live.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok } from '../api/client';
import type { Schemas } from '../app/session';
import { useStream } from '../app/stream';
import { SelectInput, TextInput } from '../ui/field';
import { when } from '../ui/format';
import { Button, ErrorNote, Loading, PageHeader } from '../ui/kit';
import { useDebounced } from '../ui/debounce';
import { usePaged } from '../ui/table';
import { useInfiniteScroll } from '../ui/scroll';

type Note = Schemas['Notification'];

export default function Notifications() {
  const qc = useQueryClient();
  const [read, setRead] = useState('');
  const [type, setType] = useState('');
  useStream('notifications', ['notifications'], [['notifications']]);
  const typeQ = useDebounced(type);
  const list = usePaged<Note>(['notifications', 'list', read, typeQ], (cursor) =>
    ok(api.GET('/api/v1/notifications', { params: { query: { cursor, limit: 30, ...(read ? { read } : {}), ...(typeQ ? { type: typeQ } : {}) } } })),
  );
  const end = useInfiniteScroll(list);
  const done = () => qc.invalidateQueries({ queryKey: ['notifications'] });
  const markOne = useMutation({ mutationFn: (id: string) => ok(api.POST('/api/v1/notifications/{id}/read', { params: { path: { id } } })), onSuccess: done });
  const markAll = useMutation({ mutationFn: () => ok(api.PATCH('/api/v1/notifications/read-all', {})), onSuccess: done });
  return (
    <>
      <PageHeader
        title="Notifications"
        description="What happened that needs a look: failures, changes, messages."
        actions={
          <Button variant="secondary" onClick={() => markAll.mutate()} disabled={markAll.isPending}>
            Mark all read
          </Button>
        }
      />
      <div className="mb-4 grid gap-3 sm:grid-cols-3">
        <SelectInput
          label="Show"
          value={read}
          onChange={(e) => setRead(e.target.value)}
          options={[
            { value: '', label: 'all' },
            { value: 'false', label: 'unread' },
            { value: 'true', label: 'read' },
          ]}
        />
        <TextInput label="Type" placeholder="e.g. job.failed" value={type} onChange={(e) => setType(e.target.value)} />
      </div>
      {(markOne.error || markAll.error) && <ErrorNote error={markOne.error ?? markAll.error} />}
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : (
        <ul className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
          {list.rows.map((n) => (
            <li key={n.id} className="flex items-start gap-3 p-3">
              <span aria-hidden="true" className={`mt-1.5 size-2 shrink-0 rounded-full ${n.read ? 'bg-transparent' : 'bg-indigo-600'}`} />
              <div className="min-w-0 flex-1">
                <p className={n.read ? '' : 'font-semibold'}>
                  {n.title}
                  {!n.read && <span className="sr-only"> (unread)</span>}
                </p>
                {n.body && <p className="text-sm text-zinc-700 dark:text-zinc-300">{n.body}</p>}
                <p className="text-xs text-zinc-600 dark:text-zinc-400">
                  {n.type} · {when(n.created_at)}
                </p>
              </div>
              {!n.read && (
                <Button variant="ghost" onClick={() => markOne.mutate(n.id)} aria-label={`Mark "${n.title}" read`}>
                  Mark read
                </Button>
              )}
            </li>
          ))}
          {list.rows.length === 0 && <li className="p-6 text-center text-sm">No notifications.</li>}
        </ul>
      )}
      <div ref={end} className="h-8" />
    </>
  );
}
