// Top-up: with Stripe, each pack bought on Stripe's hosted checkout page (billing.checkout with pack_id) and the
// billing portal for cards and invoices; without it, credits come from the instance admin. Back from Stripe, the
// wallets refresh on the org's event stream: the webhook records `payment.succeeded` when it credits the pack.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { useStream } from '../../app/stream';
import { money, num } from '../../ui/format';
import { Button, Card, ErrorNote, Loading, Pre } from '../../ui/kit';

/** Shown back from a paid checkout until dismissed; while it shows, every event of the org refreshes the wallets. */
function AwaitingPayment({ onDismiss }: { onDismiss: () => void }) {
  useStream('queue', ['events'], [['wallet']]);
  return (
    <div role="status" className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-100">
      <p>Thank you: Stripe has your payment. The credits arrive as soon as Stripe confirms it, usually within seconds; the balances here update by themselves.</p>
      <button type="button" className="mt-1 underline" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

function Packs() {
  const pricing = useQuery({ queryKey: ['billing', 'pricing'], queryFn: () => ok(api.GET('/api/v1/billing/pricing')) });
  const back = `${window.location.origin}/billing`;
  const buy = useMutation({
    mutationFn: (packId: string) =>
      ok(api.POST('/api/v1/billing/checkout', { body: { pack_id: packId, success_url: `${back}?checkout=success`, cancel_url: `${back}?checkout=cancelled` } })),
    onSuccess: (session) => window.location.assign(session.url),
  });
  if (pricing.error) return <ErrorNote error={pricing.error} />;
  if (pricing.isPending) return <Loading />;
  const packs = pricing.data.packs.filter((p) => p.price_cents > 0);
  if (!packs.length) return <p>No packs are for sale on this server.</p>;
  return (
    <>
      <table className="w-full text-left">
        <caption className="sr-only">Packs for sale</caption>
        <thead className="text-xs text-zinc-600 dark:text-zinc-400">
          <tr>
            <th scope="col" className="py-1 font-medium">
              Pack
            </th>
            <th scope="col" className="py-1 text-right font-medium">
              Price
            </th>
            <th scope="col" className="py-1">
              <span className="sr-only">Buy</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {packs.map((p) => {
            const adds = `${num(p.amount)} ${p.currency}`;
            return (
              <tr key={p.id} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-1.5 pr-2">
                  {p.name}
                  {/* The catalog's default name is what it adds; a name of its own gets the amount beside it. */}
                  {p.name !== adds && <div className="text-xs text-zinc-600 dark:text-zinc-400">adds {adds}</div>}
                </td>
                <td className="py-1.5 pr-2 text-right tabular-nums">{money(p.price_cents, pricing.data.currency)}</td>
                <td className="py-1.5 text-right">
                  <Button aria-label={`Buy ${p.name}`} disabled={buy.isPending} onClick={() => buy.mutate(p.id)}>
                    {buy.isPending && buy.variables === p.id ? 'Opening…' : 'Buy'}
                  </Button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {buy.error && <ErrorNote error={buy.error} />}
    </>
  );
}

export function TopUp({ funding }: { funding?: 'manual' | 'stripe' }) {
  const { org } = useSession();
  const [params, setParams] = useSearchParams();
  const returned = params.get('checkout');
  const dismiss = () =>
    setParams(
      (p) => {
        p.delete('checkout');
        p.delete('session_id');
        return p;
      },
      { replace: true },
    );
  const portal = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/billing/portal', { body: { return_url: `${window.location.origin}/billing` } })),
    onSuccess: (r) => window.location.assign(r.url),
  });
  return (
    <Card title="Top up">
      <div className="space-y-3 text-sm">
        {returned === 'success' && <AwaitingPayment onDismiss={dismiss} />}
        {returned === 'cancelled' && <p role="status">Checkout cancelled: nothing was charged.</p>}
        {funding === undefined ? (
          <Loading />
        ) : funding === 'stripe' ? (
          <>
            <p>Buy a pack: you pay on Stripe's checkout page and come back here.</p>
            <Packs />
            <p>Cards, invoices and receipts are in Stripe's billing portal.</p>
            {portal.error && <ErrorNote error={portal.error} />}
            <Button variant="secondary" onClick={() => portal.mutate()} disabled={portal.isPending}>
              Open billing portal
            </Button>
          </>
        ) : (
          <>
            <p>This server takes no card payments (Stripe is not configured). Credits are granted by an instance admin:</p>
            <Pre className="text-xs">opsbase billing grant --org {org?.id} --credits 1000</Pre>
            <p>To take payments, set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET on the server.</p>
          </>
        )}
      </div>
    </Card>
  );
}
