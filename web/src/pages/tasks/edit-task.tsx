// Edit a task's fields in one dialog (status has its own control on the page: it follows the transitions table).
import { type FormEvent, useState } from 'react';
import { useSession } from '../../app/session';
import { DialogActions, Modal } from '../../ui/dialog';
import { Field, SelectInput, TextInput, controlClass, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';
import { assigneeText, PRIORITIES, useAgentNames, type Priority, type TaskDetail, TYPES, useUpdateTask } from './api';
import { AssigneeSelect } from './assignee-select';
import { splitTags } from './create-task';

const formOf = (t: TaskDetail, meId: string, names: Map<string, string>) => ({
  title: t.title,
  description: t.description ?? '',
  type: t.type,
  priority: t.priority,
  assignee: assigneeText(t.assignee, meId, names),
  tags: t.tags.join(', '),
  due_date: t.due_date ?? '',
  estimated_minutes: t.estimated_minutes == null ? '' : String(t.estimated_minutes),
  resolution: t.resolution ?? '',
});

export function EditTask({ task }: { task: TaskDetail }) {
  const { me } = useSession();
  const names = useAgentNames();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState(() => formOf(task, me.id, names));
  const update = useUpdateTask();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const show = (o: boolean) => {
    if (o) setForm(formOf(task, me.id, names));
    update.reset();
    setOpen(o);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate(
      {
        id: task.id,
        title: form.title,
        description: form.description || null,
        type: form.type,
        priority: form.priority,
        assignee: form.assignee || null,
        tags: splitTags(form.tags),
        due_date: form.due_date || null,
        estimated_minutes: form.estimated_minutes === '' ? null : Number(form.estimated_minutes),
        resolution: form.resolution || null,
      },
      { onSuccess: () => setOpen(false) },
    );
  };
  const err = (f: string) => fieldError(update.error, f);
  const named = ['title', 'description', 'assignee', 'tags', 'due_date', 'estimated_minutes', 'resolution'].some((f) => err(f));
  return (
    <>
      <Button variant="secondary" onClick={() => show(true)}>
        Edit
      </Button>
      <Modal open={open} onOpenChange={show} title={`Edit #${task.number}`}>
        <form className="max-h-[70vh] space-y-3 overflow-y-auto p-0.5" onSubmit={submit} noValidate>
          <TextInput label="Title" value={form.title} onChange={set('title')} error={err('title')} />
          <Field label="Description" hint="Markdown" error={err('description')}>
            {(a) => <textarea rows={6} className={controlClass} value={form.description} onChange={set('description')} {...a} />}
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <SelectInput label="Type" value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value as TaskDetail['type'] })} options={TYPES.map((t) => ({ value: t, label: t }))} />
            <SelectInput label="Priority" value={form.priority} onChange={(e) => setForm({ ...form, priority: e.target.value as Priority })} options={PRIORITIES.map((p) => ({ value: p, label: p }))} />
            <AssigneeSelect value={form.assignee} onChange={(assignee) => setForm({ ...form, assignee })} error={err('assignee')} />
            <TextInput label="Tags" hint="Comma-separated" value={form.tags} onChange={set('tags')} error={err('tags')} />
            <TextInput label="Due date" type="date" value={form.due_date} onChange={set('due_date')} error={err('due_date')} />
            <TextInput label="Estimate (minutes)" inputMode="numeric" value={form.estimated_minutes} onChange={set('estimated_minutes')} error={err('estimated_minutes')} />
          </div>
          <TextInput label="Resolution" value={form.resolution} onChange={set('resolution')} error={err('resolution')} />
          {update.error && !named && <ErrorNote error={update.error} />}
          <DialogActions onCancel={() => show(false)} submitLabel="Save" busy={update.isPending} />
        </form>
      </Modal>
    </>
  );
}
