// Webhook endpoints: create (signing secret shown once), list with health, enable/disable, and the event catalog.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import type { Schemas } from '../app/session';
import { Modal } from '../ui/dialog';
import { TextInput, fieldError } from '../ui/field';
import { when } from '../ui/format';
import { Badge, Button, Card, ErrorNote, PageHeader } from '../ui/kit';
import { SecretReveal } from '../ui/secret';
import { PagedTable, usePaged } from '../ui/table';

type Hook = Schemas['Webhook'];

function CreateWebhook({ onCreated }: { onCreated: (secret: string) => void }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [url, setUrl] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const types = useQuery({ queryKey: ['events', 'types'], queryFn: () => ok(api.GET('/api/v1/events/types')), enabled: open });
  const create = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/webhooks', { body: { url, event_types: chosen } })),
    onSuccess: (hook) => {
      qc.invalidateQueries({ queryKey: ['webhooks'] });
      setOpen(false);
      setUrl('');
      setChosen([]);
      onCreated(hook.secret);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <Button onClick={() => setOpen(true)}>Add endpoint</Button>
      <Modal open={open} onOpenChange={setOpen} title="Add a webhook endpoint" description="Events are POSTed to it, signed per Standard Webhooks.">
        <form className="space-y-3" onSubmit={submit} noValidate>
          <TextInput label="URL" type="url" placeholder="https://example.com/hooks/opsbase" value={url} onChange={(e) => setUrl(e.target.value)} error={fieldError(create.error, 'url')} />
          <fieldset>
            <legend className="text-sm font-medium">Events</legend>
            {fieldError(create.error, 'event_types') && <p className="text-xs font-medium text-red-700 dark:text-red-300">{fieldError(create.error, 'event_types')}</p>}
            <div className="mt-1 grid max-h-48 grid-cols-1 gap-1 overflow-y-auto sm:grid-cols-2">
              {(types.data?.data ?? []).map((t) => (
                <label key={t.type} className="flex items-center gap-2 text-sm" title={t.description}>
                  <input
                    type="checkbox"
                    checked={chosen.includes(t.type)}
                    onChange={(e) => setChosen(e.target.checked ? [...chosen, t.type] : chosen.filter((x) => x !== t.type))}
                  />
                  <code className="text-xs">{t.type}</code>
                </label>
              ))}
            </div>
          </fieldset>
          {create.error && !fieldError(create.error, 'url') && !fieldError(create.error, 'event_types') && <ErrorNote error={create.error} />}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending}>
              Add
            </Button>
          </div>
        </form>
      </Modal>
    </>
  );
}

export default function Webhooks() {
  const [secret, setSecret] = useState<string | null>(null);
  const hooks = usePaged<Hook>(['webhooks', 'paged'], (cursor) => ok(api.GET('/api/v1/webhooks', { params: { query: { cursor, limit: 50 } } })));
  const types = useQuery({ queryKey: ['events', 'types'], queryFn: () => ok(api.GET('/api/v1/events/types')) });
  return (
    <>
      <PageHeader title="Webhooks" description="Endpoints that receive this organization's events." actions={<CreateWebhook onCreated={setSecret} />} />
      <PagedTable
        query={hooks}
        caption="Webhook endpoints"
        columns={[
          {
            key: 'url',
            render: (h) => (
              <Link to={`/webhooks/${h.id}`} className="font-medium text-indigo-700 underline dark:text-indigo-300">
                {h.url}
              </Link>
            ),
          },
          { key: 'event_types', label: 'events', render: (h) => h.event_types.join(', ') },
          {
            key: 'enabled',
            label: 'status',
            render: (h) =>
              !h.enabled ? <Badge tone="red">disabled</Badge> : h.failing_since ? <Badge tone="amber">failing since {when(h.failing_since)}</Badge> : <Badge tone="green">healthy</Badge>,
          },
          { key: 'created_at', label: 'created', render: (h) => when(h.created_at) },
        ]}
      />
      <Card title="Event types" className="mt-6">
        <ul className="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-2">
          {(types.data?.data ?? []).map((t) => (
            <li key={t.type}>
              <code className="text-xs">{t.type}</code> — <span className="text-zinc-700 dark:text-zinc-300">{t.description}</span>
            </li>
          ))}
        </ul>
      </Card>
      <SecretReveal secret={secret} title="Signing secret" note="Verify each delivery's webhook-signature with it (any Standard Webhooks library)." onClose={() => setSecret(null)} />
    </>
  );
}
