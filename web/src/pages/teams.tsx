// Teams: the org's groups of members. Pick a team to see its members, add an org member, invite by email (someone
// already in the org joins at once; anyone else gets an org invite that brings them into the team), remove people.
// Deleting a team is for owners and admins.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../api/client';
import { type Schemas, isAdmin, useSession } from '../app/session';
import { Confirm, DialogActions, Modal } from '../ui/dialog';
import { SelectInput, TextInput, fieldError } from '../ui/field';
import { when } from '../ui/format';
import { Badge, Button, Card, ErrorNote, Loading, Muted, PageHeader } from '../ui/kit';
import { PagedTable, Table, usePaged } from '../ui/table';

type Team = Schemas['Team'];
type TeamRole = Schemas['TeamMember']['role'];
const TEAM_ROLES: TeamRole[] = ['member', 'admin', 'owner'];
const roleOptions = TEAM_ROLES.map((r) => ({ value: r, label: r }));

function CreateTeam({ open, onOpenChange, onCreated }: { open: boolean; onOpenChange: (o: boolean) => void; onCreated: (t: Team) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/teams', { body: { name, description: description || null } })),
    onSuccess: (team) => {
      qc.invalidateQueries({ queryKey: ['teams'] });
      setName('');
      setDescription('');
      onOpenChange(false);
      onCreated(team);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="New team">
      <form onSubmit={submit} noValidate className="space-y-3">
        <TextInput label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, 'name')} />
        <TextInput label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fieldError(create.error, 'description')} />
        {create.error && !fieldError(create.error, 'name') && <ErrorNote error={create.error} />}
        <DialogActions onCancel={() => onOpenChange(false)} submitLabel="Create team" busy={create.isPending} />
      </form>
    </Modal>
  );
}

function InviteForm({ teamId }: { teamId: string }) {
  const qc = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<TeamRole>('member');
  const invite = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/teams/{id}/invites', { params: { path: { id: teamId } }, body: { email, role } })),
    onSuccess: () => {
      setEmail('');
      qc.invalidateQueries({ queryKey: ['team', teamId] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  const done = invite.data;
  return (
    <form onSubmit={submit} noValidate className="grid items-start gap-3 sm:grid-cols-[1fr_9rem_auto]">
      <TextInput label="Invite by email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError(invite.error, 'email')} />
      <SelectInput label="Team role" value={role} onChange={(e) => setRole(e.target.value as TeamRole)} options={roleOptions} />
      <Button type="submit" className="sm:mt-6" disabled={invite.isPending || !email}>
        Invite
      </Button>
      <div className="sm:col-span-3" role="status">
        {invite.error && !fieldError(invite.error, 'email') && <ErrorNote error={invite.error} />}
        {done?.status === 'added' && <Muted>{done.email} was already in the org and is now in the team; they were told by email.</Muted>}
        {done?.status === 'pending' && (
          <Muted>
            {done.email} was invited to the org; accepting puts them in this team.
            {done.token && (
              <>
                {' '}
                Link (shown once): <code className="break-all">{`${window.location.origin}/accept-invite?token=${encodeURIComponent(done.token)}`}</code>
              </>
            )}
          </Muted>
        )}
      </div>
    </form>
  );
}

function TeamDetail({ teamId, admin, onDeleted }: { teamId: string; admin: boolean; onDeleted: () => void }) {
  const qc = useQueryClient();
  const [adding, setAdding] = useState('');
  const [role, setRole] = useState<TeamRole>('member');
  const [deleting, setDeleting] = useState(false);
  const team = useQuery({ queryKey: ['team', teamId], queryFn: () => ok(api.GET('/api/v1/teams/{id}', { params: { path: { id: teamId } } })) });
  const invites = useQuery({
    queryKey: ['team', teamId, 'invites'],
    queryFn: () => ok(api.GET('/api/v1/teams/{id}/invites', { params: { path: { id: teamId }, query: { status: 'pending', limit: 50 } } })),
  });
  const orgMembers = useQuery({ queryKey: ['members', 'all'], queryFn: () => ok(api.GET('/api/v1/org/members', { params: { query: { limit: 200 } } })) });
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['team', teamId] });
    qc.invalidateQueries({ queryKey: ['teams'] });
  };
  const add = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/teams/{id}/members', { params: { path: { id: teamId } }, body: { user_id: adding, role } })),
    onSuccess: () => {
      setAdding('');
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (user_id: string) => ok(api.DELETE('/api/v1/teams/{id}/members/{user_id}', { params: { path: { id: teamId, user_id } } })),
    onSuccess: refresh,
  });
  const del = useMutation({
    mutationFn: () => ok(api.DELETE('/api/v1/teams/{id}', { params: { path: { id: teamId } } })),
    onSuccess: () => {
      setDeleting(false);
      qc.invalidateQueries({ queryKey: ['teams'] });
      onDeleted();
    },
  });
  if (team.isPending) return <Loading />;
  if (team.error) return <ErrorNote error={team.error} />;
  const t = team.data;
  const inTeam = new Set(t.members.map((m) => m.user_id));
  const candidates = (orgMembers.data?.data ?? []).filter((m) => !inTeam.has(m.user_id));
  return (
    <Card
      title={`${t.name} · ${t.member_count ?? t.members.length} member${t.members.length === 1 ? '' : 's'}`}
      actions={
        admin ? (
          <Button variant="ghost" onClick={() => setDeleting(true)}>
            Delete team
          </Button>
        ) : undefined
      }
    >
      {t.description && <Muted>{t.description}</Muted>}
      <div className="mt-3 space-y-4">
        {remove.error && <ErrorNote error={remove.error} />}
        <Table
          caption={`Members of ${t.name}`}
          rows={t.members}
          rowKey={(m) => m.user_id}
          columns={[
            { key: 'username', render: (m) => <span className="font-medium">{m.name ?? m.username}</span> },
            { key: 'email' },
            { key: 'role', label: 'team role', render: (m) => <Badge tone={m.role === 'member' ? 'gray' : 'blue'}>{m.role}</Badge> },
            { key: 'org_role', label: 'org role' },
            { key: 'joined_at', label: 'joined', render: (m) => when(m.joined_at) },
            {
              key: 'actions',
              label: 'actions',
              render: (m) => (
                <Button variant="ghost" aria-label={`Remove ${m.username} from ${t.name}`} onClick={() => remove.mutate(m.user_id)}>
                  Remove
                </Button>
              ),
            },
          ]}
        />
        <form
          noValidate
          className="grid items-start gap-3 sm:grid-cols-[1fr_9rem_auto]"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <SelectInput
            label="Add a member of the org"
            value={adding}
            onChange={(e) => setAdding(e.target.value)}
            options={[{ value: '', label: candidates.length ? 'Choose a member…' : 'Everyone is in this team' }, ...candidates.map((m) => ({ value: m.user_id, label: `${m.username} (${m.email})` }))]}
            error={fieldError(add.error, 'user_id')}
          />
          <SelectInput label="Team role" value={role} onChange={(e) => setRole(e.target.value as TeamRole)} options={roleOptions} />
          <Button type="submit" className="sm:mt-6" disabled={!adding || add.isPending}>
            Add
          </Button>
          {add.error && !fieldError(add.error, 'user_id') && (
            <div className="sm:col-span-3">
              <ErrorNote error={add.error} />
            </div>
          )}
        </form>
        <InviteForm teamId={teamId} />
        {(invites.data?.data.length ?? 0) > 0 && (
          <Table
            caption={`Pending invites to ${t.name}`}
            rows={invites.data?.data ?? []}
            columns={[{ key: 'email', label: 'pending invite' }, { key: 'role' }, { key: 'expires_at', label: 'expires', render: (i) => when(i.expires_at) }]}
          />
        )}
      </div>
      <Confirm
        open={deleting}
        onOpenChange={setDeleting}
        title={`Delete ${t.name}?`}
        description="The team and its pending invites go; its members stay in the org."
        confirmLabel="Delete team"
        danger
        busy={del.isPending}
        onConfirm={() => del.mutate()}
      />
    </Card>
  );
}

export default function Teams() {
  const { org } = useSession();
  const admin = isAdmin(org);
  const canWrite = org?.role !== 'viewer';
  const [creating, setCreating] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const teams = usePaged<Team>(['teams'], (cursor) => ok(api.GET('/api/v1/teams', { params: { query: { cursor, limit: 100 } } })));
  return (
    <>
      <PageHeader
        title="Teams"
        description="Groups of the organization's members."
        actions={canWrite ? <Button onClick={() => setCreating(true)}>New team</Button> : undefined}
      />
      <div className="grid gap-6">
        <PagedTable
          query={teams}
          caption="Teams"
          columns={[
            {
              key: 'name',
              render: (t) => (
                <button type="button" className="font-medium text-indigo-700 hover:underline dark:text-indigo-300" aria-pressed={selected === t.id} onClick={() => setSelected(t.id)}>
                  {t.name}
                </button>
              ),
            },
            { key: 'member_count', label: 'members' },
            { key: 'description' },
            { key: 'created_at', label: 'created', render: (t) => when(t.created_at) },
          ]}
        />
        {selected && <TeamDetail key={selected} teamId={selected} admin={admin} onDeleted={() => setSelected(null)} />}
      </div>
      <CreateTeam open={creating} onOpenChange={setCreating} onCreated={(t) => setSelected(t.id)} />
    </>
  );
}
