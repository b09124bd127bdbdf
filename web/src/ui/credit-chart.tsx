// Added and spent per day over the last 30 days, from a wallet's ledger (wallet.transactions since the first day: one
// page of up to 200 entries, enough for the chart of a typical org; when there are more, the caption says the older
// days are incomplete rather than drawing them short without a word. The ledger table has every entry.)
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, ok } from '../api/client';
import { Chart, lastDays } from './chart';

export function LedgerChart({ currency }: { currency: 'credits' | 'tokens' }) {
  const ledger = useQuery({
    queryKey: ['wallet', 'ledger-30d', currency],
    queryFn: () => ok(api.GET('/api/v1/wallet/transactions', { params: { query: { currency, since: `${lastDays(30).keys[0]}T00:00:00Z`, limit: 200 } } })),
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
  const partial = ledger.data?.meta.has_more;
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
        <span>{currency}, last 30 days{partial ? ' (the latest 200 entries: older days are incomplete)' : ''}</span>
      </figcaption>
    </figure>
  );
}
