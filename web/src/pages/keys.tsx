// API keys: create (the secret shown once), list (masked), rotate with a grace period, roll, revoke.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import type { Schemas } from '../app/session';
import { Confirm, Modal } from '../ui/dialog';
import { TextInput, fieldError } from '../ui/field';
import { when } from '../ui/format';
import { Badge, Button, ErrorNote, PageHeader, toneOf } from '../ui/kit';
import { SecretReveal } from '../ui/secret';
import { PagedTable, usePaged } from '../ui/table';

type Key = Schemas['ApiKey'];
type Pending = { kind: 'revoke' | 'roll'; key: Key } | { kind: 'rotate'; key: Key } | null;

function CreateKey({ onCreated }: { onCreated: (secret: string) => void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: '', scopes: '*', description: '' });
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/v1/keys', {
          body: {
            name: form.name,
            description: form.description || null,
            scopes: form.scopes
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
          },
        }),
      ),
    onSuccess: (key) => {
      qc.invalidateQueries({ queryKey: ['keys'] });
      setOpen(false);
      setForm({ name: '', scopes: '*', description: '' });
      onCreated(key.secret);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <Button onClick={() => setOpen(true)}>Create key</Button>
      <Modal open={open} onOpenChange={setOpen} title="Create an API key" description="A key acts for this organization with the scopes you give it.">
        <form className="space-y-3" onSubmit={submit} noValidate>
          <TextInput label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(create.error, 'name')} />
          <TextInput
            label="Scopes"
            hint="Comma-separated, e.g. tasks:read, tasks:write — or * for everything you may do."
            value={form.scopes}
            onChange={(e) => setForm({ ...form, scopes: e.target.value })}
            error={fieldError(create.error, 'scopes')}
          />
          <TextInput label="Description (optional)" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
          {create.error && !fieldError(create.error, 'name') && !fieldError(create.error, 'scopes') && <ErrorNote error={create.error} />}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending}>
              Create
            </Button>
          </div>
        </form>
      </Modal>
    </>
  );
}

export default function Keys() {
  const qc = useQueryClient();
  const [secret, setSecret] = useState<{ value: string; note?: string } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [grace, setGrace] = useState('24');
  const keys = usePaged<Key>(['keys', 'list'], (cursor) => ok(api.GET('/api/v1/keys', { params: { query: { cursor, limit: 50 } } })));
  const act = useMutation({
    mutationFn: async (p: NonNullable<Pending>) => {
      const path = { id: p.key.id };
      if (p.kind === 'revoke') return { ...(await ok(api.POST('/api/v1/keys/{id}/revoke', { params: { path } }))), secret: undefined };
      if (p.kind === 'roll') return ok(api.POST('/api/v1/keys/{id}/roll', { params: { path } }));
      return ok(api.POST('/api/v1/keys/{id}/rotate', { params: { path }, body: { grace_hours: Number(grace) } }));
    },
    onSuccess: (res) => {
      qc.invalidateQueries({ queryKey: ['keys'] });
      setPending(null);
      if (res.secret) {
        const until = 'previous_secret_expires_at' in res ? res.previous_secret_expires_at : null;
        setSecret({ value: res.secret, note: until ? `The previous secret keeps working until ${new Date(until).toLocaleString()}.` : undefined });
      }
    },
  });
  return (
    <>
      <PageHeader title="API keys" description="Keys let programs, the CLI and agents act for this organization." actions={<CreateKey onCreated={(s) => setSecret({ value: s })} />} />
      {act.error && <ErrorNote error={act.error} />}
      <PagedTable
        query={keys}
        caption="API keys"
        columns={[
          {
            key: 'name',
            render: (k) => (
              <Link to={`/keys/${k.id}`} className="font-medium text-indigo-700 underline dark:text-indigo-300">
                {k.name}
              </Link>
            ),
          },
          { key: 'masked', label: 'key', render: (k) => <code className="text-xs">{k.masked}</code> },
          { key: 'scopes', render: (k) => k.scopes.join(', ') },
          { key: 'status', render: (k) => <Badge tone={toneOf(k.status)}>{k.status}</Badge> },
          { key: 'last_used_at', label: 'last used', render: (k) => when(k.last_used_at) },
          {
            key: 'actions',
            label: 'actions',
            render: (k) =>
              k.status === 'revoked' ? null : (
                <span className="flex gap-1">
                  <Button variant="ghost" onClick={() => setPending({ kind: 'rotate', key: k })} aria-label={`Rotate ${k.name}`}>
                    Rotate
                  </Button>
                  <Button variant="ghost" onClick={() => setPending({ kind: 'roll', key: k })} aria-label={`Roll ${k.name}`}>
                    Roll
                  </Button>
                  <Button variant="ghost" onClick={() => setPending({ kind: 'revoke', key: k })} aria-label={`Revoke ${k.name}`}>
                    Revoke
                  </Button>
                </span>
              ),
          },
        ]}
      />
      <Modal open={pending?.kind === 'rotate'} onOpenChange={(o) => !o && setPending(null)} title={`Rotate ${pending?.key.name ?? ''}`} description="A new secret now; the old one keeps working for the grace period, so deployments can switch without downtime.">
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (pending) act.mutate(pending);
          }}
        >
          <TextInput label="Grace period (hours)" inputMode="numeric" value={grace} onChange={(e) => setGrace(e.target.value)} error={fieldError(act.error, 'grace_hours')} />
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setPending(null)}>
              Cancel
            </Button>
            <Button type="submit" disabled={act.isPending}>
              Rotate
            </Button>
          </div>
        </form>
      </Modal>
      <Confirm
        open={pending?.kind === 'roll' || pending?.kind === 'revoke'}
        onOpenChange={(o) => !o && setPending(null)}
        title={pending?.kind === 'roll' ? `Roll ${pending.key.name}?` : `Revoke ${pending?.key.name ?? ''}?`}
        description={
          pending?.kind === 'roll'
            ? 'A new secret replaces the current one at once: anything still using the old secret stops working now.'
            : 'The key stops working on every server within a second. This cannot be undone.'
        }
        confirmLabel={pending?.kind === 'roll' ? 'Roll now' : 'Revoke'}
        danger
        busy={act.isPending}
        onConfirm={() => pending && act.mutate(pending)}
      />
      <SecretReveal secret={secret?.value ?? null} note={secret?.note} title="Your new API key" onClose={() => setSecret(null)} />
    </>
  );
}
