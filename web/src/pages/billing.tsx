// Billing: wallet, credit chart, ledger with filters, plans with the downgrade check, top-up, auto top-up, quotas.
import { type UseQueryResult, useQuery } from '@tanstack/react-query';
import { api, ok } from '../api/client';
import { useSession } from '../app/session';
import { LedgerChart } from '../ui/credit-chart';
import { num } from '../ui/format';
import { Card, ErrorNote, Loading, PageHeader, Stat, UsageBar } from '../ui/kit';
import { AutoTopup } from './billing/auto-topup';
import { GrantCredits } from './billing/grant';
import { Ledger } from './billing/ledger';
import { Plans } from './billing/plans';
import { TopUp } from './billing/top-up';

/** One currency's balance, what is free of holds, what is held, and its 30-day chart. */
function WalletCard({ currency, query }: { currency: 'credits' | 'tokens'; query: UseQueryResult<{ balance: number; available: number; holds: number }> }) {
  return (
    <Card title={currency === 'credits' ? 'Credits' : 'Tokens'} className="lg:col-span-2">
      {query.error && <ErrorNote error={query.error} />}
      {query.isPending ? (
        <Loading />
      ) : (
        <div className="mb-4 grid grid-cols-3 gap-4" data-testid={currency}>
          <Stat label="Balance" value={num(query.data?.balance)} />
          <Stat label="Available" value={num(query.data?.available)} />
          <Stat label="Held" value={num(query.data?.holds)} />
        </div>
      )}
      <LedgerChart currency={currency} />
    </Card>
  );
}

export default function Billing() {
  const { me } = useSession();
  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => ok(api.GET('/api/v1/wallet')) });
  const tokens = useQuery({ queryKey: ['wallet', 'tokens'], queryFn: () => ok(api.GET('/api/v1/tokens/balance')) });
  const quotas = useQuery({ queryKey: ['quota'], queryFn: () => ok(api.GET('/api/v1/quota/status')) });
  return (
    <>
      <PageHeader title="Billing" description="Credits pay for paid operations; the plan sets limits and monthly credits." />
      <div className="grid gap-4 lg:grid-cols-3">
        <WalletCard currency="credits" query={wallet} />
        <Card title="Quotas this month">
          {quotas.error && <ErrorNote error={quotas.error} />}
          <div className="space-y-3">
            {Object.entries(quotas.data?.quotas ?? {}).map(([k, q]) => (
              <UsageBar key={k} label={k.replaceAll('_', ' ')} used={q.used} limit={q.limit} />
            ))}
          </div>
        </Card>
        <WalletCard currency="tokens" query={tokens} />
        {me.role === 'admin' && <GrantCredits />}
        <TopUp funding={wallet.data?.funding} />
        <AutoTopup />
      </div>
      <Plans funding={wallet.data?.funding} />
      <Ledger />
    </>
  );
}
