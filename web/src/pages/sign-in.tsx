// Sign in, or create an account — "create the first account" on an empty instance (it becomes the instance admin).
// Afterwards the user goes back where a 401 took them from (`?next=`).
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../api/client';
import { useSetup } from '../app/setup';
import { TextInput, fieldError } from '../ui/field';
import { Button, ErrorNote } from '../ui/kit';

function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get('next');
  if (!next) return '/';
  // Only this site: an open redirect would let a crafted link send a freshly signed-in user elsewhere. Resolving
  // it as a URL catches `//host` and `/\\host` (which browsers read as another host) as well as absolute URLs.
  const url = new URL(next, window.location.origin);
  return url.origin === window.location.origin ? url.pathname + url.search + url.hash : '/';
}

export function SignIn() {
  const setup = useSetup();
  const [mode, setMode] = useState<'sign-in' | 'sign-up' | null>(null);
  const first = setup.data?.first_account ?? false;
  const shown = mode ?? (first ? 'sign-up' : 'sign-in');
  const [form, setForm] = useState({ username: '', email: '', password: '', name: '', accept: false });
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  const submit = useMutation({
    mutationFn: () =>
      shown === 'sign-in'
        ? ok(api.POST('/api/v1/auth/login', { body: { email: form.email, password: form.password } }))
        : ok(
            api.POST('/api/v1/auth/register', {
              body: {
                username: form.username,
                email: form.email,
                password: form.password,
                name: form.name || null,
                terms_accepted: form.accept as true,
                privacy_accepted: form.accept as true,
              },
            }),
          ),
    // A full load: nothing of a previous session stays in memory.
    onSuccess: () => window.location.assign(nextPath()),
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit.mutate();
  };
  const err = submit.error;
  if (setup.isPending) return null;
  return (
    <main className="flex min-h-screen items-center justify-center bg-zinc-50 p-4 dark:bg-zinc-950">
      <div className="w-full max-w-sm rounded-xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <div className="mb-1 text-sm font-bold tracking-tight text-indigo-700 dark:text-indigo-300">Opsbase</div>
        <h1 className="text-xl font-semibold">{shown === 'sign-in' ? 'Sign in' : first ? 'Create the first account' : 'Create an account'}</h1>
        {first && shown === 'sign-up' && (
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">This instance is empty: the first account becomes its administrator.</p>
        )}
        <form className="mt-5 space-y-4" onSubmit={onSubmit} noValidate>
          {shown === 'sign-up' && (
            <>
              <TextInput label="Username" autoComplete="username" value={form.username} onChange={set('username')} error={fieldError(err, 'username')} />
              <TextInput label="Name (optional)" autoComplete="name" value={form.name} onChange={set('name')} error={fieldError(err, 'name')} />
            </>
          )}
          <TextInput label="Email" type="email" autoComplete="email" value={form.email} onChange={set('email')} error={fieldError(err, 'email')} />
          <TextInput
            label="Password"
            type="password"
            autoComplete={shown === 'sign-in' ? 'current-password' : 'new-password'}
            value={form.password}
            onChange={set('password')}
            error={fieldError(err, 'password')}
          />
          {shown === 'sign-up' && (
            <label className="flex items-start gap-2 text-sm">
              <input type="checkbox" className="mt-1" checked={form.accept} onChange={set('accept')} />
              <span>I accept the terms of service and the privacy policy.</span>
            </label>
          )}
          {err && !(fieldError(err, 'email') || fieldError(err, 'password') || fieldError(err, 'username')) && <ErrorNote error={err} />}
          <Button type="submit" className="w-full" disabled={submit.isPending}>
            {shown === 'sign-in' ? 'Sign in' : 'Create account'}
          </Button>
        </form>
        <p className="mt-4 text-center text-sm text-zinc-600 dark:text-zinc-400">
          {shown === 'sign-in' ? 'No account yet? ' : 'Already have an account? '}
          <button
            type="button"
            className="font-medium text-indigo-700 underline dark:text-indigo-300"
            onClick={() => {
              submit.reset();
              setMode(shown === 'sign-in' ? 'sign-up' : 'sign-in');
            }}
          >
            {shown === 'sign-in' ? 'Create one' : 'Sign in'}
          </button>
        </p>
      </div>
    </main>
  );
}
