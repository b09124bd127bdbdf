// Plans: each tier with its limits; switching checks the downgrade first (what would exceed the new limits) and
// goes through Stripe checkout when payments are configured.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import { Modal } from '../../ui/dialog';
import { money, num } from '../../ui/format';
import { Badge, Button, ErrorNote } from '../../ui/kit';

type Tier = Schemas['Tier'];

export function Plans({ funding }: { funding?: 'manual' | 'stripe' }) {
  const qc = useQueryClient();
  const billing = useQuery({ queryKey: ['billing'], queryFn: () => ok(api.GET('/api/v1/billing')) });
  const [target, setTarget] = useState<Tier | null>(null);
  const check = useQuery({
    queryKey: ['billing', 'downgrade', target?.id],
    enabled: target !== null,
    queryFn: () => ok(api.POST('/api/v1/billing/validate-downgrade', { body: { tier: target!.id } })),
  });
  const change = useMutation({
    mutationFn: async () => {
      if (funding === 'stripe' && target!.price_cents > 0) {
        const session = await ok(
          api.POST('/api/v1/billing/checkout', {
            body: { tier: target!.id, success_url: `${window.location.origin}/billing`, cancel_url: `${window.location.origin}/billing` },
          }),
        );
        window.location.assign(session.url);
        return;
      }
      await ok(api.POST('/api/v1/billing/change-plan', { body: { tier: target!.id } }));
    },
    onSuccess: () => {
      setTarget(null);
      qc.invalidateQueries();
    },
  });
  const current = billing.data?.plan;
  return (
    <section className="mt-6">
      <h2 className="mb-2 text-lg font-semibold">Plans</h2>
      {billing.error && <ErrorNote error={billing.error} />}
      <div className="grid gap-3 md:grid-cols-3">
        {(billing.data?.tiers ?? []).map((t) => (
          <div key={t.id} className={`rounded-lg border p-4 ${t.id === current ? 'border-indigo-600 ring-1 ring-indigo-600' : 'border-zinc-200 dark:border-zinc-800'}`}>
            <div className="flex items-center justify-between">
              <h3 className="font-semibold">{t.name}</h3>
              {t.id === current && <Badge tone="blue">current</Badge>}
            </div>
            <p className="text-xl font-semibold">{t.price_cents ? `${money(t.price_cents)}/mo` : 'Free'}</p>
            <ul className="mt-2 space-y-0.5 text-sm text-zinc-700 dark:text-zinc-300">
              <li>{num(t.limits.credits_per_month)} credits / month</li>
              <li>{num(t.limits.seats)} seats</li>
              <li>{num(t.limits.api_calls)} API calls / month</li>
              <li>{num(t.limits.tasks_per_day)} tasks / day</li>
            </ul>
            {t.id !== current && (
              <Button variant="secondary" className="mt-3" onClick={() => setTarget(t)}>
                Switch to {t.name}
              </Button>
            )}
          </div>
        ))}
      </div>
      <Modal open={target !== null} onOpenChange={(o) => !o && setTarget(null)} title={`Switch to ${target?.name ?? ''}?`}>
        {check.isPending ? (
          <p role="status">Checking what the new limits would mean…</p>
        ) : check.error ? (
          <ErrorNote error={check.error} />
        ) : check.data?.allowed ? (
          <p className="text-sm">Everything this organization uses fits the {target?.name} plan.</p>
        ) : (
          <div className="text-sm">
            <p>This organization uses more than the {target?.name} plan allows:</p>
            <ul className="mt-2 list-disc pl-5">
              {check.data?.violations.map((v) => (
                <li key={v.limit}>
                  {v.limit.replaceAll('_', ' ')}: {num(v.current)} in use, {num(v.allowed)} allowed
                </li>
              ))}
            </ul>
          </div>
        )}
        {change.error && <ErrorNote error={change.error} />}
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setTarget(null)}>
            Cancel
          </Button>
          <Button disabled={!check.data?.allowed || change.isPending} onClick={() => change.mutate()}>
            {funding === 'stripe' && (target?.price_cents ?? 0) > 0 ? 'Continue to checkout' : 'Switch plan'}
          </Button>
        </div>
      </Modal>
    </section>
  );
}
