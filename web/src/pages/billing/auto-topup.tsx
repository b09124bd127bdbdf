// Automatic top-up: buy a pack when the balance falls below a threshold (needs Stripe and a saved card).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { api, ok } from '../../api/client';
import { SelectInput, TextInput, fieldError } from '../../ui/field';
import { Button, Card, ErrorNote, Loading } from '../../ui/kit';

export function AutoTopup() {
  const qc = useQueryClient();
  const current = useQuery({ queryKey: ['wallet', 'auto-topup'], queryFn: () => ok(api.GET('/api/v1/billing/auto-topup')) });
  const [form, setForm] = useState({ enabled: false, threshold: '', pack_id: '', max_per_month: '' });
  useEffect(() => {
    const c = current.data;
    if (c) setForm({ enabled: c.enabled, threshold: c.threshold?.toString() ?? '', pack_id: c.pack_id ?? c.packs[0]?.id ?? '', max_per_month: c.max_per_month?.toString() ?? '' });
  }, [current.data]);
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/v1/billing/auto-topup', {
          body: {
            enabled: form.enabled,
            threshold: Number(form.threshold),
            pack_id: form.pack_id,
            ...(form.max_per_month ? { max_per_month: Number(form.max_per_month) } : {}),
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['wallet'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  if (current.isPending) return <Loading />;
  return (
    <Card title="Auto top-up">
      <form className="space-y-3" onSubmit={submit} noValidate>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} /> Buy credits automatically
        </label>
        <TextInput label="When available credits fall below" inputMode="numeric" value={form.threshold} onChange={(e) => setForm({ ...form, threshold: e.target.value })} error={fieldError(save.error, 'threshold')} />
        <SelectInput
          label="Buy this pack"
          value={form.pack_id}
          onChange={(e) => setForm({ ...form, pack_id: e.target.value })}
          options={(current.data?.packs ?? []).map((p) => ({ value: p.id, label: `${p.name} — ${p.amount.toLocaleString()} ${p.currency} for $${(p.price_cents / 100).toFixed(2)}` }))}
          error={fieldError(save.error, 'pack_id')}
        />
        <TextInput label="At most per month (optional)" inputMode="numeric" value={form.max_per_month} onChange={(e) => setForm({ ...form, max_per_month: e.target.value })} error={fieldError(save.error, 'max_per_month')} />
        {save.error && !['threshold', 'pack_id', 'max_per_month'].some((f) => fieldError(save.error, f)) && <ErrorNote error={save.error} />}
        {save.isSuccess && <p role="status" className="text-sm text-green-800 dark:text-green-300">Saved.</p>}
        <Button type="submit" disabled={save.isPending}>
          Save
        </Button>
      </form>
    </Card>
  );
}
