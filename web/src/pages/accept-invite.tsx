// The invite link's page (/accept-invite?token=…): signed in as the invited email, one click joins the org.
// Signed out, the sign-in page comes first (where the invitee can also create their account) and brings them back.
import { useMutation } from '@tanstack/react-query';
import { api, ok, setCurrentOrg } from '../api/client';
import { useSession } from '../app/session';
import { Button, ErrorNote } from '../ui/kit';

export default function AcceptInvite() {
  const { me } = useSession();
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const accept = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/invites/accept', { body: { token } })),
    onSuccess: (org) => {
      setCurrentOrg(org.id);
      window.location.assign('/');
    },
  });
  return (
    <main className="flex min-h-screen items-center justify-center bg-zinc-50 p-4 dark:bg-zinc-950">
      <div className="w-full max-w-sm rounded-xl border border-zinc-200 bg-white p-6 dark:border-zinc-800 dark:bg-zinc-900">
        <h1 className="text-xl font-semibold">Join an organization</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          You are signed in as <strong>{me.email}</strong>. The invite must have been sent to this address.
        </p>
        <div className="mt-5 space-y-3">
          {accept.error && <ErrorNote error={accept.error} />}
          <Button className="w-full" disabled={!token || accept.isPending} onClick={() => accept.mutate()}>
            Accept invite
          </Button>
        </div>
      </div>
    </main>
  );
}
