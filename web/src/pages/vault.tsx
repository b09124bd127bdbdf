// The credentials vault: names and metadata for everyone; owners and admins add or replace values (never shown again
// after saving), reveal one (credentials.get: the read is written to the activity log) and delete.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../api/client';
import { type Schemas, isAdmin, useSession } from '../app/session';
import { Confirm, DialogActions, Modal } from '../ui/dialog';
import { TextInput, fieldError } from '../ui/field';
import { when } from '../ui/format';
import { Badge, Button, ErrorNote, Muted, PageHeader } from '../ui/kit';
import { PagedTable, usePaged } from '../ui/table';

type Credential = Schemas['Credential'];

function PutCredential({ open, name: fixedName, onOpenChange }: { open: boolean; name: string | null; onOpenChange: (o: boolean) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const put = useMutation({
    mutationFn: () =>
      ok(api.POST('/api/v1/credentials', { body: { name: fixedName ?? name, value, ...(description ? { description } : {}) } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['credentials'] });
      close();
    },
  });
  // The value leaves the page's state as soon as the dialog closes, saved or not.
  const close = () => {
    setName('');
    setValue('');
    setDescription('');
    put.reset();
    onOpenChange(false);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    put.mutate();
  };
  return (
    <Modal
      open={open}
      onOpenChange={(o) => (o ? onOpenChange(true) : close())}
      title={fixedName ? `Replace ${fixedName}` : 'Add a credential'}
      description="The value is encrypted and not shown again after saving."
    >
      <form onSubmit={submit} noValidate className="space-y-3">
        {!fixedName && (
          <TextInput label="Name" placeholder="STRIPE_KEY" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(put.error, 'name')} />
        )}
        <TextInput label="Value" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} error={fieldError(put.error, 'value')} />
        <TextInput
          label="Description"
          hint={fixedName ? 'Leave empty to keep the current one.' : undefined}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          error={fieldError(put.error, 'description')}
        />
        {put.error && !fieldError(put.error, 'name') && !fieldError(put.error, 'value') && <ErrorNote error={put.error} />}
        <DialogActions onCancel={close} submitLabel={fixedName ? 'Replace value' : 'Save'} busy={put.isPending} />
      </form>
    </Modal>
  );
}

function Reveal({ name, onClose }: { name: string | null; onClose: () => void }) {
  const read = useMutation({ mutationFn: (n: string) => ok(api.GET('/api/v1/credentials/{name}', { params: { path: { name: n } } })) });
  const close = () => {
    read.reset();
    onClose();
  };
  return (
    <Modal
      open={name !== null}
      onOpenChange={(o) => !o && close()}
      title={`Reveal ${name ?? ''}`}
      description="Reading a value is recorded in the activity log with your name."
    >
      <div className="space-y-3">
        {read.data ? (
          <input
            readOnly
            aria-label={`Value of ${name}`}
            data-testid="revealed"
            value={read.data.value}
            className="w-full rounded-md border border-zinc-300 bg-zinc-50 px-2 py-1.5 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
            onFocus={(e) => e.target.select()}
          />
        ) : (
          <Muted>The value stays hidden until you ask for it.</Muted>
        )}
        {read.error && <ErrorNote error={read.error} />}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={close}>
            Close
          </Button>
          {!read.data && (
            <Button disabled={read.isPending || !name} onClick={() => name && read.mutate(name)}>
              Reveal value
            </Button>
          )}
        </div>
      </div>
    </Modal>
  );
}

export default function Vault() {
  const { org } = useSession();
  const admin = isAdmin(org);
  const qc = useQueryClient();
  const [putting, setPutting] = useState<{ name: string | null } | null>(null);
  const [revealing, setRevealing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const creds = usePaged<Credential>(['credentials'], (cursor) => ok(api.GET('/api/v1/credentials', { params: { query: { cursor, limit: 100 } } })));
  const del = useMutation({
    mutationFn: (name: string) => ok(api.DELETE('/api/v1/credentials/{name}', { params: { path: { name } } })),
    onSuccess: () => {
      setDeleting(null);
      qc.invalidateQueries({ queryKey: ['credentials'] });
    },
  });
  return (
    <>
      <PageHeader
        title="Vault"
        description="Encrypted credentials that agents and integrations refer to by name. Values are never listed."
        actions={admin ? <Button onClick={() => setPutting({ name: null })}>Add credential</Button> : undefined}
      />
      <PagedTable
        query={creds}
        caption="Credentials"
        columns={[
          { key: 'name', render: (c) => <span className="font-mono font-medium">{c.name}</span> },
          { key: 'description' },
          { key: 'integration', render: (c) => (c.integration ? <Badge tone="blue">{c.integration}</Badge> : '—') },
          { key: 'updated_at', label: 'updated', render: (c) => when(c.updated_at) },
          { key: 'last_read_at', label: 'last read', render: (c) => when(c.last_read_at) },
          {
            key: 'actions',
            label: 'actions',
            render: (c) =>
              admin ? (
                <div className="flex gap-1">
                  <Button variant="ghost" aria-label={`Reveal ${c.name}`} onClick={() => setRevealing(c.name)}>
                    Reveal
                  </Button>
                  <Button variant="ghost" aria-label={`Replace ${c.name}`} onClick={() => setPutting({ name: c.name })}>
                    Replace
                  </Button>
                  <Button variant="ghost" aria-label={`Delete ${c.name}`} onClick={() => setDeleting(c.name)}>
                    Delete
                  </Button>
                </div>
              ) : null,
          },
        ]}
      />
      {!admin && (
        <div className="mt-3">
          <Muted>Owners and admins add, reveal and replace values.</Muted>
        </div>
      )}
      <PutCredential open={putting !== null} name={putting?.name ?? null} onOpenChange={(o) => !o && setPutting(null)} />
      <Reveal name={revealing} onClose={() => setRevealing(null)} />
      <Confirm
        open={deleting !== null}
        onOpenChange={(o) => !o && setDeleting(null)}
        title={`Delete ${deleting ?? ''}?`}
        description="Agents and integrations that refer to it by name stop working until it is put again."
        confirmLabel="Delete"
        danger
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate(deleting)}
      />
    </>
  );
}
