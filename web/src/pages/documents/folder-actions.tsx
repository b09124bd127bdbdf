// Folder actions: create (under the folder shown), rename, and delete — refused by the server while the folder holds
// anything (409), which the dialog turns into the offer to delete everything in it.
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, api, ok } from '../../api/client';
import { Confirm, DialogActions, Modal } from '../../ui/dialog';
import { TextInput, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';
import { type Folder, useDocsMutation } from './api';

export function NewFolder({ parent }: { parent: Folder | null }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const navigate = useNavigate();
  const create = useDocsMutation(() => ok(api.POST('/api/v1/folders', { body: { name, parent_id: parent?.id ?? null } })));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(undefined, {
      onSuccess: (f) => {
        setOpen(false);
        setName('');
        navigate(`/documents?folder=${f.id}`);
      },
    });
  };
  return (
    <>
      <Button
        variant="secondary"
        onClick={() => {
          create.reset();
          setOpen(true);
        }}
      >
        New folder
      </Button>
      <Modal open={open} onOpenChange={setOpen} title="New folder" description={parent ? `Inside ${parent.path}` : 'At the top level'}>
        <form className="space-y-3" onSubmit={submit} noValidate>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, 'name')} />
          {create.error && !fieldError(create.error, 'name') && <ErrorNote error={create.error} />}
          <DialogActions onCancel={() => setOpen(false)} submitLabel="Create" busy={create.isPending} />
        </form>
      </Modal>
    </>
  );
}

export function RenameFolder({ folder }: { folder: Folder }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(folder.name);
  const rename = useDocsMutation(() => ok(api.PATCH('/api/v1/folders/{id}', { params: { path: { id: folder.id } }, body: { name } })));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    rename.mutate(undefined, { onSuccess: () => setOpen(false) });
  };
  return (
    <>
      <Button
        variant="secondary"
        onClick={() => {
          rename.reset();
          setName(folder.name);
          setOpen(true);
        }}
      >
        Rename
      </Button>
      <Modal open={open} onOpenChange={setOpen} title={`Rename ${folder.name}`}>
        <form className="space-y-3" onSubmit={submit} noValidate>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(rename.error, 'name')} />
          {rename.error && !fieldError(rename.error, 'name') && <ErrorNote error={rename.error} />}
          <DialogActions onCancel={() => setOpen(false)} submitLabel="Rename" busy={rename.isPending} />
        </form>
      </Modal>
    </>
  );
}

export function DeleteFolder({ folder }: { folder: Folder }) {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const remove = useDocsMutation(
    (recursive: boolean) => ok(api.DELETE('/api/v1/folders/{id}', { params: { path: { id: folder.id } }, body: { recursive } })),
    () => {
      setOpen(false);
      navigate('/documents?folder=all');
    },
  );
  const notEmpty = remove.error instanceof ApiError && remove.error.status === 409;
  return (
    <>
      <Button
        variant="ghost"
        onClick={() => {
          remove.reset();
          setOpen(true);
        }}
      >
        Delete folder
      </Button>
      <Confirm
        open={open}
        onOpenChange={setOpen}
        title={notEmpty ? `${folder.name} is not empty` : `Delete ${folder.name}?`}
        description={
          notEmpty ? (
            <>{remove.error?.message} Deleting it removes every folder and document inside, with their history.</>
          ) : (
            'An empty folder is deleted at once.'
          )
        }
        confirmLabel={notEmpty ? 'Delete everything in it' : 'Delete'}
        danger
        busy={remove.isPending}
        onConfirm={() => remove.mutate(notEmpty)}
      />
      {remove.error && !notEmpty && <ErrorNote error={remove.error} />}
    </>
  );
}
