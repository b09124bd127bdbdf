// Change password (auth.change_password): the current one confirms it is you; every other session is logged out,
// this one stays. Forgotten passwords go by the emailed reset link instead.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { TextInput, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';

const EMPTY = { current: '', next: '', again: '' };

export function ChangePassword() {
  const { me } = useSession();
  const [form, setForm] = useState(EMPTY);
  const [typo, setTypo] = useState(false);
  const change = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/auth/change-password', { body: { current_password: form.current, new_password: form.next } })),
    onSuccess: () => setForm(EMPTY),
  });
  const reset = useMutation({ mutationFn: () => ok(api.POST('/api/v1/auth/forgot-password', { body: { email: me.email } })) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // A mistyped new password would lock the user out: both must match before anything is sent.
    setTypo(form.next !== form.again);
    if (form.next === form.again) change.mutate();
  };
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const named = ['current_password', 'new_password'].some((f) => fieldError(change.error, f));
  return (
    <div>
      <h3 className="font-medium">Change password</h3>
      <p className="mb-2 text-zinc-700 dark:text-zinc-300">Your other sessions (browsers, CLI logins) are logged out; this one stays.</p>
      <form className="space-y-3" onSubmit={submit} noValidate>
        <TextInput label="Current password" type="password" autoComplete="current-password" value={form.current} onChange={set('current')} error={fieldError(change.error, 'current_password')} />
        <TextInput
          label="New password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters"
          value={form.next}
          onChange={set('next')}
          error={fieldError(change.error, 'new_password')}
        />
        <TextInput label="New password again" type="password" autoComplete="new-password" value={form.again} onChange={set('again')} error={typo ? 'does not match the new password' : undefined} />
        {change.error && !named && <ErrorNote error={change.error} />}
        {change.isSuccess && (
          <p role="status" className="text-green-800 dark:text-green-300">
            {change.data.message} ({change.data.revoked_sessions} logged out)
          </p>
        )}
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" disabled={change.isPending || !form.current || !form.next}>
            Change password
          </Button>
          <Button variant="secondary" onClick={() => reset.mutate()} disabled={reset.isPending}>
            Forgot it? Email me a reset link
          </Button>
        </div>
        {reset.isSuccess && <p role="status">{reset.data.message}</p>}
        {reset.error && <ErrorNote error={reset.error} />}
      </form>
    </div>
  );
}
