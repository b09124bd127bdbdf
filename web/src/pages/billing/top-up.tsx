// Top-up: with Stripe, the hosted billing portal; without it, credits come from the instance admin.
import { useMutation } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { Button, Card, ErrorNote, Pre } from '../../ui/kit';

export function TopUp({ funding }: { funding?: 'manual' | 'stripe' }) {
  const { org } = useSession();
  const portal = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/billing/portal', { body: { return_url: `${window.location.origin}/billing` } })),
    onSuccess: (r) => window.location.assign(r.url),
  });
  return (
    <Card title="Top up">
      {funding === 'stripe' ? (
        <div className="space-y-3 text-sm">
          <p>Payments run through Stripe. Buy credit packs and manage cards in the billing portal.</p>
          {portal.error && <ErrorNote error={portal.error} />}
          <Button onClick={() => portal.mutate()} disabled={portal.isPending}>
            Open billing portal
          </Button>
        </div>
      ) : (
        <div className="space-y-2 text-sm">
          <p>This server takes no card payments (Stripe is not configured). Credits are granted by an instance admin:</p>
          <Pre className="text-xs">opsbase billing grant --org {org?.id} --credits 1000</Pre>
          <p>To take payments, set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET on the server.</p>
        </div>
      )}
    </Card>
  );
}
