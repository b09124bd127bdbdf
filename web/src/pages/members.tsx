// Members and invites: roles, invite by email (the invite link is shown too, for instances without SMTP),
// transfer ownership (make someone owner, then step down to admin), remove.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../api/client';
import { type Schemas, isAdmin, useSession } from '../app/session';
import { useSetup } from '../app/setup';
import { Confirm, Modal } from '../ui/dialog';
import { SelectInput, TextInput, controlClass, fieldError } from '../ui/field';
import { when } from '../ui/format';
import { Button, Card, ErrorNote, PageHeader } from '../ui/kit';
import { SecretReveal } from '../ui/secret';
import { PagedTable, usePaged } from '../ui/table';

type Member = Schemas['Member'];
type Role = Member['role'];
const ROLES: Role[] = ['owner', 'admin', 'member', 'viewer'];

function InviteForm({ onInvited }: { onInvited: (link: string) => void }) {
  const qc = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const invite = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/org/invites', { body: { email, role } })),
    onSuccess: (inv) => {
      qc.invalidateQueries({ queryKey: ['invites'] });
      setEmail('');
      onInvited(`${window.location.origin}/accept-invite?token=${encodeURIComponent(inv.token)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  return (
    <form onSubmit={submit} noValidate className="grid items-start gap-3 sm:grid-cols-[1fr_10rem_auto]">
      <TextInput label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError(invite.error, 'email')} />
      <SelectInput label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} options={ROLES.map((r) => ({ value: r, label: r }))} />
      <Button type="submit" className="sm:mt-6" disabled={invite.isPending}>
        Invite
      </Button>
      {invite.error && !fieldError(invite.error, 'email') && (
        <div className="sm:col-span-3">
          <ErrorNote error={invite.error} />
        </div>
      )}
    </form>
  );
}

export default function Members() {
  const { me, org } = useSession();
  const qc = useQueryClient();
  const admin = isAdmin(org);
  const [link, setLink] = useState<string | null>(null);
  const setup = useSetup();
  const [removing, setRemoving] = useState<Member | null>(null);
  const [transferOpen, setTransferOpen] = useState(false);
  const [heir, setHeir] = useState('');
  const members = usePaged<Member>(['members'], (cursor) => ok(api.GET('/api/v1/org/members', { params: { query: { cursor, limit: 100 } } })));
  const invites = usePaged<Schemas['Invite']>(['invites'], (cursor) => ok(api.GET('/api/v1/org/invites', { params: { query: { cursor, limit: 50 } } })), {
    enabled: admin,
  });
  const setRole = useMutation({
    mutationFn: ({ user_id, role }: { user_id: string; role: Role }) => ok(api.PATCH('/api/v1/org/members/{user_id}', { params: { path: { user_id } }, body: { role } })),
    onSettled: () => qc.invalidateQueries({ queryKey: ['members'] }),
  });
  const remove = useMutation({
    mutationFn: (user_id: string) => ok(api.DELETE('/api/v1/org/members/{user_id}', { params: { path: { user_id } } })),
    onSuccess: () => {
      setRemoving(null);
      qc.invalidateQueries({ queryKey: ['members'] });
    },
  });
  const transfer = useMutation({
    mutationFn: async () => {
      await ok(api.PATCH('/api/v1/org/members/{user_id}', { params: { path: { user_id: heir } }, body: { role: 'owner' } }));
      await ok(api.PATCH('/api/v1/org/members/{user_id}', { params: { path: { user_id: me.id } }, body: { role: 'admin' } }));
    },
    // Roles changed: the whole session (org list, what this user may do) is read again.
    onSuccess: () => window.location.reload(),
  });
  const others = members.rows.filter((m) => m.user_id !== me.id);

  return (
    <>
      <PageHeader
        title="Members"
        description="Who belongs to this organization and what each may do."
        actions={
          org?.role === 'owner' && others.length > 0 ? (
            <Button variant="secondary" onClick={() => setTransferOpen(true)}>
              Transfer ownership
            </Button>
          ) : undefined
        }
      />
      {setRole.error && <ErrorNote error={setRole.error} />}
      <PagedTable
        query={members}
        caption="Members"
        columns={[
          { key: 'username', render: (m) => <span className="font-medium">{m.name ?? m.username}</span> },
          { key: 'email' },
          {
            key: 'role',
            render: (m) =>
              admin ? (
                <select
                  aria-label={`Role of ${m.username}`}
                  className={`${controlClass} w-32`}
                  value={m.role}
                  onChange={(e) => setRole.mutate({ user_id: m.user_id, role: e.target.value as Role })}
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              ) : (
                m.role
              ),
          },
          { key: 'joined_at', label: 'joined', render: (m) => when(m.joined_at) },
          {
            key: 'actions',
            label: 'actions',
            render: (m) =>
              admin && m.user_id !== me.id ? (
                <Button variant="ghost" onClick={() => setRemoving(m)} aria-label={`Remove ${m.username}`}>
                  Remove
                </Button>
              ) : null,
          },
        ]}
      />
      {admin && (
        <div className="mt-6 grid gap-4">
          <Card title="Invite someone">
            <InviteForm onInvited={setLink} />
          </Card>
          <Card title="Pending invites">
            <PagedTable
              query={invites}
              caption="Pending invites"
              columns={[{ key: 'email' }, { key: 'role' }, { key: 'expires_at', label: 'expires', render: (i) => when(i.expires_at) }]}
            />
          </Card>
        </div>
      )}
      <SecretReveal
        secret={link}
        title="Invite created"
        note={
          setup.data?.email
            ? 'An email with this link is on its way. The link works once, for 7 days, for that email address.'
            : 'This server sends no email (OPSBASE_SMTP_URL is not set): send this link yourself. It works once, for 7 days, for that email address.'
        }
        onClose={() => setLink(null)}
      />
      <Confirm
        open={removing !== null}
        onOpenChange={(o) => !o && setRemoving(null)}
        title={`Remove ${removing?.username ?? ''}?`}
        description="They lose access to this organization at once."
        confirmLabel="Remove"
        danger
        busy={remove.isPending}
        onConfirm={() => removing && remove.mutate(removing.user_id)}
      />
      <Modal open={transferOpen} onOpenChange={setTransferOpen} title="Transfer ownership" description="The member you choose becomes an owner; you stay on as an admin.">
        <div className="space-y-3">
          <SelectInput
            label="New owner"
            value={heir}
            onChange={(e) => setHeir(e.target.value)}
            options={[{ value: '', label: 'Choose a member…' }, ...others.map((m) => ({ value: m.user_id, label: `${m.username} (${m.email})` }))]}
          />
          {transfer.error && <ErrorNote error={transfer.error} />}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setTransferOpen(false)}>
              Cancel
            </Button>
            <Button variant="danger" disabled={!heir || transfer.isPending} onClick={() => transfer.mutate()}>
              Transfer
            </Button>
          </div>
        </div>
      </Modal>
    </>
  );
}
