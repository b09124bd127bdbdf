// Added and spent per day over the last 30 days, from a wallet's ledger (one page of up to 200 entries: enough for
// the chart of a typical org; the ledger table has every entry). Only the tokens ledger has a list operation
// (tokens.transactions); the credits ledger has none yet, so its chart says so instead of guessing.
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, ok } from '../api/client';
import { Chart, lastDays } from './chart';

export function LedgerChart({ currency }: { currency: 'credits' | 'tokens' }) {
  const ledger = useQuery({
    queryKey: ['wallet', 'ledger-30d', currency],
    enabled: currency === 'tokens',
    queryFn: () => ok(api.GET('/api/v1/tokens/transactions', { params: { query: { limit: 200 } } })),
  });
  const { x, series, totals } = useMemo(() => {
    const { x, keys } = lastDays(30);
    const added = new Array(30).fill(0);
    const spent = new Array(30).fill(0);
    for (const e of ledger.data?.data ?? []) {
      const i = keys.indexOf(e.created_at.slice(0, 10));
      if (i < 0) continue;
      if (e.amount > 0) added[i] += e.amount;
      else spent[i] -= e.amount;
    }
    const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
    return {
      x,
      series: [
        { label: 'Added', values: added, color: '#16a34a' },
        { label: 'Spent', values: spent, color: '#4f46e5' },
      ],
      totals: { added: sum(added), spent: sum(spent) },
    };
  }, [ledger.data]);
  if (currency === 'credits') {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">A daily chart of credits needs the credits ledger, which the API does not list yet.</p>;
  }
  const summary = `Last 30 days: ${totals.added.toLocaleString()} ${currency} added, ${totals.spent.toLocaleString()} spent`;
  return (
    <figure>
      <Chart x={x} series={series} label={summary} bars height={150} />
      <figcaption className="mt-1 flex gap-4 text-xs text-zinc-600 dark:text-zinc-400" data-testid={`${currency}-summary`}>
        <span>
          <span aria-hidden="true" className="mr-1 inline-block size-2 rounded-sm bg-green-600" />
          {totals.added.toLocaleString()} added
        </span>
        <span>
          <span aria-hidden="true" className="mr-1 inline-block size-2 rounded-sm bg-indigo-600" />
          {totals.spent.toLocaleString()} spent
        </span>
        <span>{currency}, last 30 days</span>
      </figcaption>
    </figure>
  );
}
