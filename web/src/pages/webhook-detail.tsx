// One endpoint: its deliveries (status, response, latency) with replay, a test send, secret rotation, enable/disable.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api, ok } from '../api/client';
import type { Schemas } from '../app/session';
import { useStream } from '../app/stream';
import { Confirm, Modal } from '../ui/dialog';
import { SelectInput } from '../ui/field';
import { when } from '../ui/format';
import { BackLink, Badge, Button, ErrorNote, Loading, PageHeader, Pre, toneOf } from '../ui/kit';
import { SecretReveal } from '../ui/secret';
import { PagedTable, usePaged } from '../ui/table';

type Delivery = Schemas['WebhookDelivery'];

export default function WebhookDetail() {
  const id = useParams().id!;
  const qc = useQueryClient();
  const [status, setStatus] = useState<'' | Delivery['status']>('');
  const [shown, setShown] = useState<Delivery | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [rotating, setRotating] = useState(false);
  const hook = useQuery({ queryKey: ['webhooks', id], queryFn: () => ok(api.GET('/api/v1/webhooks/{id}', { params: { path: { id } } })) });
  const deliveries = usePaged<Delivery>(['webhooks', id, 'deliveries', status], (cursor) =>
    ok(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: { cursor, limit: 50, ...(status ? { status } : {}) } } })),
  );
  // Deliveries are written by the worker: the events stream says when to look again.
  useStream('queue', ['events'], [['webhooks', id]]);
  const refresh = () => qc.invalidateQueries({ queryKey: ['webhooks', id] });
  const test = useMutation({ mutationFn: () => ok(api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id } } })), onSuccess: refresh });
  const replay = useMutation({
    mutationFn: (d: string) => ok(api.POST('/api/v1/webhook-deliveries/{id}/replay', { params: { path: { id: d } } })),
    onSuccess: refresh,
  });
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => ok(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id } }, body: { enabled } })),
    onSuccess: refresh,
  });
  const rotate = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/webhooks/{id}/rotate-secret', { params: { path: { id } } })),
    onSuccess: (h) => {
      setRotating(false);
      setSecret(h.secret);
    },
  });
  if (hook.isPending) return <Loading />;
  if (hook.error) return <ErrorNote error={hook.error} />;
  const h = hook.data;
  const error = test.error ?? replay.error ?? toggle.error ?? rotate.error;
  return (
    <>
      <PageHeader
        title={h.url}
        description={
          <span className="flex flex-wrap items-center gap-2">
            {h.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone="red">disabled{h.disabled_reason ? `: ${h.disabled_reason}` : ''}</Badge>}
            {h.event_types.join(', ')}
          </span>
        }
        actions={
          <>
            <Button variant="secondary" onClick={() => test.mutate()} disabled={test.isPending}>
              Send test event
            </Button>
            <Button variant="secondary" onClick={() => setRotating(true)}>
              Rotate secret
            </Button>
            <Button variant="secondary" onClick={() => toggle.mutate(!h.enabled)}>
              {h.enabled ? 'Disable' : 'Enable'}
            </Button>
          </>
        }
      />
      {error && <ErrorNote error={error} />}
      <div className="mb-2 flex flex-wrap items-end justify-between gap-3">
        <h2 className="text-lg font-semibold">Deliveries</h2>
        <div className="w-44">
          <SelectInput
            label="Status"
            value={status}
            onChange={(e) => setStatus(e.target.value as typeof status)}
            options={['', 'pending', 'succeeded', 'failed'].map((s) => ({ value: s, label: s || 'all' }))}
          />
        </div>
      </div>
      <PagedTable
        query={deliveries}
        caption="Deliveries"
        columns={[
          { key: 'created_at', label: 'when', render: (d) => when(d.created_at) },
          { key: 'event_type', label: 'event' },
          { key: 'status', render: (d) => <Badge tone={toneOf(d.status)}>{d.status}</Badge> },
          { key: 'last_status_code', label: 'response', render: (d) => d.last_status_code ?? '—' },
          { key: 'last_latency_ms', label: 'latency', render: (d) => (d.last_latency_ms == null ? '—' : `${d.last_latency_ms} ms`) },
          { key: 'attempts' },
          {
            key: 'actions',
            label: 'actions',
            render: (d) => (
              <span className="flex gap-1">
                <Button variant="ghost" onClick={() => setShown(d)} aria-label={`Details of delivery ${d.id}`}>
                  Details
                </Button>
                <Button variant="ghost" onClick={() => replay.mutate(d.id)} aria-label={`Replay delivery ${d.id}`}>
                  Replay
                </Button>
              </span>
            ),
          },
        ]}
      />
      <Modal open={shown !== null} onOpenChange={(o) => !o && setShown(null)} title={`Delivery ${shown?.id ?? ''}`}>
        <div className="space-y-2 text-sm">
          <p>
            {shown?.event_type} · {shown?.status} · {shown?.attempts} attempt(s) · next {when(shown?.next_attempt_at)}
          </p>
          <h3 className="font-medium">Payload</h3>
          <Pre className="max-h-48 text-xs">{JSON.stringify(shown?.payload, null, 2)}</Pre>
          <h3 className="font-medium">Last response ({shown?.last_status_code ?? 'none'})</h3>
          <Pre className="max-h-48 text-xs">{shown?.last_response ?? '—'}</Pre>
        </div>
      </Modal>
      <Confirm
        open={rotating}
        onOpenChange={setRotating}
        title="Rotate the signing secret?"
        description="A new secret signs deliveries from now on; update your receiver to verify with it."
        confirmLabel="Rotate"
        busy={rotate.isPending}
        onConfirm={() => rotate.mutate()}
      />
      <SecretReveal secret={secret} title="New signing secret" onClose={() => setSecret(null)} />
      <BackLink to="/webhooks">All endpoints</BackLink>
    </>
  );
}
