// The new-document dialog: a title, a kind, tags; it opens the document's page to write it. Created in the folder
// being shown (or the root).
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ok } from '../../api/client';
import { DialogActions, Modal } from '../../ui/dialog';
import { SelectInput, TextInput, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';
import { type Doc, type Folder, kindOptions, splitTags, useDocsMutation } from './api';

const EMPTY = { title: '', kind: 'note' as Doc['kind'], tags: '' };

export function CreateDocument({ folder }: { folder: Folder | null }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState(EMPTY);
  const navigate = useNavigate();
  const create = useDocsMutation(() =>
    ok(api.POST('/api/v1/documents', { body: { title: form.title, kind: form.kind, tags: splitTags(form.tags), folder_id: folder?.id ?? null } })),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(undefined, { onSuccess: (d) => navigate(`/documents/${d.id}`) });
  };
  const named = ['title', 'tags'].some((f) => fieldError(create.error, f));
  return (
    <>
      <Button
        onClick={() => {
          create.reset();
          setForm(EMPTY);
          setOpen(true);
        }}
      >
        New document
      </Button>
      <Modal open={open} onOpenChange={setOpen} title="New document" description={folder ? `In ${folder.path}` : 'Not in a folder'}>
        <form className="space-y-3" onSubmit={submit} noValidate>
          <TextInput
            label="Title"
            value={form.title}
            onChange={(e) => setForm({ ...form, title: e.target.value })}
            error={fieldError(create.error, 'title')}
          />
          <div className="grid gap-3 sm:grid-cols-2">
            <SelectInput
              label="Kind"
              value={form.kind}
              onChange={(e) => setForm({ ...form, kind: e.target.value as Doc['kind'] })}
              options={kindOptions}
            />
            <TextInput
              label="Tags"
              hint="Comma-separated"
              value={form.tags}
              onChange={(e) => setForm({ ...form, tags: e.target.value })}
              error={fieldError(create.error, 'tags')}
            />
          </div>
          {create.error && !named && <ErrorNote error={create.error} />}
          <DialogActions onCancel={() => setOpen(false)} submitLabel="Create and write" busy={create.isPending} />
        </form>
      </Modal>
    </>
  );
}
