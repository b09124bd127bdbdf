// Create an org: the first step after a first sign-up, and "New organization…" in the org switcher.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok, setCurrentOrg } from '../api/client';
import { useSession } from '../app/session';
import { TextInput, fieldError } from '../ui/field';
import { Button, ErrorNote } from '../ui/kit';

export default function Welcome() {
  const { me } = useSession();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/orgs', { body: { name } })),
    onSuccess: (org) => {
      setCurrentOrg(org.id);
      window.location.assign('/');
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <main className="flex min-h-screen items-center justify-center bg-zinc-50 p-4 dark:bg-zinc-950">
      <div className="w-full max-w-sm rounded-xl border border-zinc-200 bg-white p-6 dark:border-zinc-800 dark:bg-zinc-900">
        <h1 className="text-xl font-semibold">{me.orgs.length ? 'New organization' : `Welcome, ${me.name ?? me.username}`}</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          An organization holds your keys, members, credits and everything else. You will be its owner.
        </p>
        <form className="mt-5 space-y-4" onSubmit={onSubmit} noValidate>
          <TextInput label="Organization name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, 'name')} />
          {create.error && !fieldError(create.error, 'name') && <ErrorNote error={create.error} />}
          <Button type="submit" className="w-full" disabled={create.isPending}>
            Create organization
          </Button>
        </form>
      </div>
    </main>
  );
}
