// Instance admins grant credits to the current org (the `manual` provider's top-up).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { SelectInput, TextInput, fieldError } from '../../ui/field';
import { Button, Card, ErrorNote } from '../../ui/kit';

export function GrantCredits() {
  const { org } = useSession();
  const qc = useQueryClient();
  const [credits, setCredits] = useState('');
  const [reason, setReason] = useState('');
  const [currency, setCurrency] = useState<'credits' | 'tokens'>('credits');
  const grant = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/billing/grants', { body: { org: org!.id, [currency]: Number(credits), reason: reason || null } })),
    onSuccess: () => {
      setCredits('');
      setReason('');
      qc.invalidateQueries({ queryKey: ['wallet'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    grant.mutate();
  };
  return (
    <Card title="Grant (instance admin)">
      <form className="space-y-3" onSubmit={submit} noValidate>
        <SelectInput
          label="Currency"
          value={currency}
          onChange={(e) => setCurrency(e.target.value as typeof currency)}
          options={[
            { value: 'credits', label: 'credits' },
            { value: 'tokens', label: 'tokens' },
          ]}
        />
        <TextInput label="Amount" inputMode="numeric" value={credits} onChange={(e) => setCredits(e.target.value)} error={fieldError(grant.error, currency)} />
        <TextInput label="Reason (optional)" value={reason} onChange={(e) => setReason(e.target.value)} />
        {grant.error && !fieldError(grant.error, currency) && <ErrorNote error={grant.error} />}
        {grant.isSuccess && <p role="status" className="text-sm text-green-800 dark:text-green-300">Granted. New balance: {grant.data.balance.toLocaleString()}</p>}
        <Button type="submit" disabled={grant.isPending || !credits}>
          Grant
        </Button>
      </form>
    </Card>
  );
}
