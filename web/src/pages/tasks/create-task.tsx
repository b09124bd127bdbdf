// The create dialog. A 409 means an open task has the same title: the dialog links to it and offers to create the
// task anyway; a 402 says when the daily quota resets.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api, ok } from '../../api/client';
import { DialogActions, Modal } from '../../ui/dialog';
import { Field, SelectInput, TextInput, controlClass, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';
import { PRIORITIES, type Priority } from './api';
import { AssigneeSelect } from './assignee-select';

const EMPTY = { title: '', description: '', priority: 'P2' as Priority, assignee: '', tags: '' };
export const splitTags = (s: string) =>
  s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

export function CreateTask() {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState(EMPTY);
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (allow_duplicate: boolean) =>
      ok(
        api.POST('/api/v1/tasks', {
          body: {
            title: form.title,
            description: form.description || null,
            priority: form.priority,
            assignee: form.assignee || null,
            tags: splitTags(form.tags),
            ...(allow_duplicate ? { allow_duplicate } : {}),
          },
        }),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['tasks'] });
      setOpen(false);
      setForm(EMPTY);
      create.reset();
    },
  });
  const dup = create.error instanceof ApiError && create.error.status === 409 ? (create.error.details as { existing_number?: number } | undefined) : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(false);
  };
  return (
    <>
      <Button onClick={() => setOpen(true)}>New task</Button>
      <Modal open={open} onOpenChange={setOpen} title="New task" description="People and agents pick it up from the board or the queue.">
        <form className="space-y-3" onSubmit={submit} noValidate>
          <TextInput label="Title" value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} error={fieldError(create.error, 'title')} />
          <Field label="Description" hint="Markdown" error={fieldError(create.error, 'description')}>
            {(a) => <textarea rows={4} className={controlClass} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} {...a} />}
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <SelectInput label="Priority" value={form.priority} onChange={(e) => setForm({ ...form, priority: e.target.value as Priority })} options={PRIORITIES.map((p) => ({ value: p, label: p }))} />
            <AssigneeSelect value={form.assignee} onChange={(assignee) => setForm({ ...form, assignee })} error={fieldError(create.error, 'assignee')} />
          </div>
          <TextInput label="Tags" hint="Comma-separated" value={form.tags} onChange={(e) => setForm({ ...form, tags: e.target.value })} error={fieldError(create.error, 'tags')} />
          {dup?.existing_number ? (
            <div role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
              {create.error?.message}{' '}
              <Link to={`/tasks/${dup.existing_number}`} className="font-medium underline" onClick={() => setOpen(false)}>
                Open #{dup.existing_number}
              </Link>
              <Button variant="secondary" className="ml-2" onClick={() => create.mutate(true)}>
                Create anyway
              </Button>
            </div>
          ) : (
            create.error && !fieldError(create.error, 'title') && <ErrorNote error={create.error} />
          )}
          <DialogActions onCancel={() => setOpen(false)} submitLabel="Create" busy={create.isPending} />
        </form>
      </Modal>
    </>
  );
}
