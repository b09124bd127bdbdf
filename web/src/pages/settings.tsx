// Settings: the org (name, slug, avatar) and my account (password change or reset, sessions, deleting the account).
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { api, ok } from '../api/client';
import { isAdmin, signOut, useSession } from '../app/session';
import { Modal } from '../ui/dialog';
import { TextInput, fieldError } from '../ui/field';
import { Button, Card, ErrorNote, PageHeader } from '../ui/kit';
import { ChangePassword } from './settings/password';

function OrgSettings() {
  const { org } = useSession();
  const id = org!.id;
  const current = useQuery({ queryKey: ['org', id], queryFn: () => ok(api.GET('/api/v1/orgs/{id}', { params: { path: { id } } })) });
  const [form, setForm] = useState({ name: '', slug: '', avatar_url: '' });
  useEffect(() => {
    if (current.data) setForm({ name: current.data.name, slug: current.data.slug, avatar_url: current.data.avatar_url ?? '' });
  }, [current.data]);
  const save = useMutation({
    mutationFn: () => ok(api.PATCH('/api/v1/orgs/{id}', { params: { path: { id } }, body: { name: form.name, slug: form.slug, avatar_url: form.avatar_url || null } })),
    // The name shows in the org switcher: read the session again.
    onSuccess: () => window.location.reload(),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const canEdit = isAdmin(org);
  return (
    <Card title="Organization">
      <form className="space-y-3" onSubmit={submit} noValidate>
        <TextInput label="Name" disabled={!canEdit} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldError(save.error, 'name')} />
        <TextInput label="Slug" disabled={!canEdit} value={form.slug} onChange={(e) => setForm({ ...form, slug: e.target.value })} error={fieldError(save.error, 'slug')} />
        <TextInput
          label="Avatar URL"
          type="url"
          disabled={!canEdit}
          value={form.avatar_url}
          onChange={(e) => setForm({ ...form, avatar_url: e.target.value })}
          error={fieldError(save.error, 'avatar_url')}
        />
        {form.avatar_url && <img src={form.avatar_url} alt="Organization avatar" className="size-12 rounded" />}
        {save.error && !['name', 'slug', 'avatar_url'].some((f) => fieldError(save.error, f)) && <ErrorNote error={save.error} />}
        {canEdit ? (
          <Button type="submit" disabled={save.isPending}>
            Save
          </Button>
        ) : (
          <p className="text-sm">Only owners and admins change these.</p>
        )}
      </form>
    </Card>
  );
}

/** Everything the org owns as one archive, for `orgs.import` on another instance (owners; a plain download link). */
function ExportOrg() {
  const { org, me } = useSession();
  if (org?.role !== 'owner' && me.role !== 'admin') return null;
  return (
    <Card title="Export">
      <p className="mb-3 text-sm">
        Download everything this organization owns — tasks, agents, keys, members (with their password hashes, so they sign in again with the same
        password) — as one archive, to import into another Opsbase instance.
      </p>
      <a
        href={`/api/v1/orgs/${org!.id}/export`}
        download
        className="inline-block rounded-md border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-600 dark:hover:bg-zinc-800"
      >
        Export org
      </a>
    </Card>
  );
}

function Account() {
  const { me } = useSession();
  const [deleting, setDeleting] = useState(false);
  const [password, setPassword] = useState('');
  const everywhere = useMutation({ mutationFn: () => signOut(true) });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE('/api/v1/users/me', { body: { password } })),
    onSuccess: () => window.location.assign('/sign-in'),
  });
  return (
    <Card title="My account">
      <div className="space-y-5 text-sm">
        <p>
          Signed in as <strong>{me.username}</strong> ({me.email}).
        </p>
        <ChangePassword />
        <div>
          <h3 className="font-medium">Sessions</h3>
          <p className="mb-2 text-zinc-700 dark:text-zinc-300">Sign out of this and every other browser, CLI login and device.</p>
          <Button variant="secondary" onClick={() => everywhere.mutate()}>
            Log out everywhere
          </Button>
        </div>
        <div>
          <h3 className="font-medium">Delete account</h3>
          <p className="mb-2 text-zinc-700 dark:text-zinc-300">Removes your account and your memberships. Orgs you solely own must be handed over first.</p>
          <Button variant="danger" onClick={() => setDeleting(true)}>
            Delete my account
          </Button>
        </div>
      </div>
      <Modal open={deleting} onOpenChange={setDeleting} title="Delete your account?" description="This cannot be undone. Confirm with your password.">
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            remove.mutate();
          }}
        >
          <TextInput label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={fieldError(remove.error, 'password')} />
          {remove.error && !fieldError(remove.error, 'password') && <ErrorNote error={remove.error} />}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setDeleting(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={!password || remove.isPending}>
              Delete account
            </Button>
          </div>
        </form>
      </Modal>
    </Card>
  );
}

export default function Settings() {
  return (
    <>
      <PageHeader title="Settings" />
      <div className="grid gap-4 lg:grid-cols-2">
        <OrgSettings />
        <Account />
        <ExportOrg />
      </div>
    </>
  );
}
