// A task's comments, newest first (as the API gives them), and a box to add one. Bodies are markdown.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import { type Schemas, useSession } from '../../app/session';
import { Field, controlClass, fieldError } from '../../ui/field';
import { when } from '../../ui/format';
import { Button, Card, ErrorNote, Loading } from '../../ui/kit';
import { Markdown } from '../../ui/markdown';
import { usePaged } from '../../ui/table';

type Comment = Schemas['TaskComment'];

export function Comments({ taskId }: { taskId: string }) {
  const qc = useQueryClient();
  const { me } = useSession();
  const [body, setBody] = useState('');
  const list = usePaged<Comment>(['tasks', taskId, 'comments'], (cursor) =>
    ok(api.GET('/api/v1/tasks/{id}/comments', { params: { path: { id: taskId }, query: { cursor, limit: 50 } } })),
  );
  const add = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/tasks/{id}/comments', { params: { path: { id: taskId } }, body: { body } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['tasks', taskId, 'comments'] });
      setBody('');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <Card title="Comments">
      <form onSubmit={submit} className="mb-4 space-y-2" noValidate>
        <Field label="Add a comment" hint="Markdown" error={fieldError(add.error, 'body')}>
          {(a) => <textarea rows={3} className={controlClass} value={body} onChange={(e) => setBody(e.target.value)} {...a} />}
        </Field>
        {add.error && !fieldError(add.error, 'body') && <ErrorNote error={add.error} />}
        <div className="flex justify-end">
          <Button type="submit" disabled={add.isPending || !body.trim()}>
            Comment
          </Button>
        </div>
      </form>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorNote error={list.error} />
      ) : list.rows.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No comments yet.</p>
      ) : (
        <ol className="space-y-3" aria-label="Comments, newest first">
          {list.rows.map((c) => (
            <li key={c.id} className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
              <p className="mb-1 text-xs text-zinc-600 dark:text-zinc-400">
                {c.author.type === 'user' && c.author.id === me.id ? 'you' : `${c.author.type}${c.author.id ? `:${c.author.id}` : ''}`} · {when(c.created_at)}
              </p>
              <Markdown text={c.body} />
            </li>
          ))}
        </ol>
      )}
      {list.hasNextPage && (
        <Button variant="ghost" className="mt-2" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Older comments
        </Button>
      )}
    </Card>
  );
}
