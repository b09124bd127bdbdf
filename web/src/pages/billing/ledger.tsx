// The ledger of both wallets (wallet.transactions): filtered by wallet, entry type and a range of UTC days.
import { useState } from 'react';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import { SelectInput, TextInput } from '../../ui/field';
import { num, when } from '../../ui/format';
import { PagedTable, usePaged } from '../../ui/table';

type Entry = Schemas['LedgerEntry'];
const TYPES = ['', 'grant', 'purchase', 'bonus', 'signup_bonus', 'admin_grant', 'consume', 'hold', 'release', 'commit', 'refund', 'expire'] as const;
const WALLETS = ['credits', 'tokens', ''] as const;

/** `YYYY-MM-DD` of a date input → the start of that UTC day, `days` later (the "to" day is included: its next day). */
const dayStart = (day: string, days = 0) => (day ? new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString() : undefined);

export function Ledger() {
  const [currency, setCurrency] = useState<(typeof WALLETS)[number]>('credits');
  const [type, setType] = useState<(typeof TYPES)[number]>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query = {
    ...(currency ? { currency } : {}),
    ...(type ? { type } : {}),
    since: dayStart(from),
    until: dayStart(to, 1),
  };
  const ledger = usePaged<Entry>(['wallet', 'ledger', query], (cursor) =>
    ok(api.GET('/api/v1/wallet/transactions', { params: { query: { ...query, cursor, limit: 50 } } })),
  );
  return (
    <section className="mt-6">
      <div className="mb-2 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h2 className="text-lg font-semibold">Ledger</h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Every movement of a wallet, newest first; days are UTC.</p>
        </div>
        <div className="flex flex-wrap gap-3">
          <div className="w-36">
            <SelectInput
              label="Wallet"
              value={currency}
              onChange={(e) => setCurrency(e.target.value as typeof currency)}
              options={WALLETS.map((w) => ({ value: w, label: w || 'both' }))}
            />
          </div>
          <div className="w-40">
            <SelectInput label="Entry type" value={type} onChange={(e) => setType(e.target.value as typeof type)} options={TYPES.map((t) => ({ value: t, label: t || 'all types' }))} />
          </div>
          <div className="w-40">
            <TextInput label="From" type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} />
          </div>
          <div className="w-40">
            <TextInput label="To" type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />
          </div>
        </div>
      </div>
      <PagedTable
        query={ledger}
        caption="Ledger entries"
        columns={[
          { key: 'created_at', label: 'when', render: (e) => when(e.created_at) },
          { key: 'currency', label: 'wallet' },
          { key: 'type' },
          { key: 'amount', render: (e) => <span className={e.amount < 0 ? 'text-red-700 dark:text-red-300' : ''}>{num(e.amount)}</span> },
          { key: 'held_delta', label: 'held Δ' },
          { key: 'balance_after', label: 'balance after' },
          { key: 'reference' },
        ]}
      />
    </section>
  );
}
