// Integrations: the catalogue as cards with their status and last check. Owners and admins configure one (secret
// fields go to the vault and are never shown again: an empty secret field keeps the saved value) and test the
// connection, which really calls the service and shows what it answered.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../api/client';
import { type Schemas, isAdmin, useSession } from '../app/session';
import { DialogActions, Modal } from '../ui/dialog';
import { Field, TextInput, fieldError } from '../ui/field';
import { when } from '../ui/format';
import { Badge, Button, ErrorNote, Loading, PageHeader, type Tone } from '../ui/kit';

type Integration = Schemas['Integration'];
type TestResult = Schemas['IntegrationTest'];

const STATUS: Record<Integration['status'], { label: string; tone: Tone }> = {
  not_configured: { label: 'Not configured', tone: 'gray' },
  configured: { label: 'Configured, untested', tone: 'amber' },
  ok: { label: 'Connected', tone: 'green' },
  failing: { label: 'Failing', tone: 'red' },
};

function Configure({ integration, onClose }: { integration: Integration | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const save = useMutation({
    mutationFn: (fields: Record<string, unknown>) =>
      ok(api.POST('/api/v1/integrations/{kind}/configure', { params: { path: { kind: integration?.kind ?? '' } }, body: { fields } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['integrations'] });
      close();
    },
  });
  const close = () => {
    setValues({});
    save.reset();
    onClose();
  };
  if (!integration) return null;
  const current = (name: string) => integration.settings[name];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Only what was touched is sent: an untouched secret keeps its saved value; a cleared setting returns to its default.
    const fields: Record<string, unknown> = {};
    for (const f of integration.fields) {
      if (!(f.name in values)) continue;
      const v = values[f.name];
      if (f.type === 'boolean') fields[f.name] = v;
      else if (v === '') {
        if (!f.secret && current(f.name) !== undefined) fields[f.name] = null;
      } else fields[f.name] = f.type === 'integer' ? Number(v) : v;
    }
    save.mutate(fields);
  };
  return (
    <Modal open onOpenChange={(o) => !o && close()} title={`Configure ${integration.name}`} description={integration.description}>
      <form onSubmit={submit} noValidate className="max-h-[70vh] space-y-3 overflow-y-auto pr-1">
        {integration.fields.map((f) => {
          const error = fieldError(save.error, `fields.${f.name}`);
          const label = `${f.label}${f.required ? ' (required)' : ''}`;
          if (f.type === 'boolean') {
            const checked = (values[f.name] ?? current(f.name) ?? f.default ?? false) as boolean;
            return (
              <Field key={f.name} label={label} error={error}>
                {(a) => <input type="checkbox" className="h-4 w-4" {...a} checked={checked} onChange={(e) => setValues({ ...values, [f.name]: e.target.checked })} />}
              </Field>
            );
          }
          const saved = f.secret ? integration.secrets_set.includes(f.name) : current(f.name) !== undefined;
          const shown = f.secret ? '' : String(current(f.name) ?? '');
          return (
            <TextInput
              key={f.name}
              label={label}
              type={f.secret ? 'password' : f.type === 'integer' ? 'number' : 'text'}
              autoComplete="off"
              hint={f.secret && saved ? 'Saved in the vault. Leave empty to keep it.' : (f.description ?? undefined)}
              placeholder={f.secret && saved ? '••••••••' : f.default !== null ? String(f.default) : undefined}
              value={String(values[f.name] ?? shown)}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              error={error}
            />
          );
        })}
        {save.error && !integration.fields.some((f) => fieldError(save.error, `fields.${f.name}`)) && <ErrorNote error={save.error} />}
        <DialogActions onCancel={close} submitLabel="Save" busy={save.isPending} />
      </form>
    </Modal>
  );
}

function IntegrationCard({ integration, admin, onConfigure }: { integration: Integration; admin: boolean; onConfigure: () => void }) {
  const qc = useQueryClient();
  const [result, setResult] = useState<TestResult | null>(null);
  const test = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/integrations/{kind}/test', { params: { path: { kind: integration.kind } } })),
    onSuccess: (r) => {
      setResult(r);
      qc.invalidateQueries({ queryKey: ['integrations'] });
    },
  });
  const status = STATUS[integration.status];
  const headingId = `integration-${integration.kind}`;
  return (
    <section aria-labelledby={headingId} className="flex flex-col gap-3 rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
      <div className="flex items-start justify-between gap-2">
        <div>
          <h2 id={headingId} className="font-semibold">
            {integration.name}
          </h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">{integration.description}</p>
        </div>
        <span className="shrink-0 whitespace-nowrap">
          <Badge tone={status.tone}>{status.label}</Badge>
        </span>
      </div>
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        {integration.last_checked_at ? `Last checked ${when(integration.last_checked_at)}` : 'Never tested'}
      </p>
      {integration.last_error && !result && (
        <p className="rounded-md bg-red-50 px-2 py-1 text-xs text-red-900 dark:bg-red-950 dark:text-red-200">{integration.last_error}</p>
      )}
      <div role="status" aria-live="polite">
        {result && (
          <p className={`rounded-md px-2 py-1 text-xs ${result.ok ? 'bg-green-50 text-green-900 dark:bg-green-950 dark:text-green-200' : 'bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-200'}`}>
            {result.ok ? 'Connected: ' : 'Failed: '}
            {result.message} ({result.latency_ms} ms)
          </p>
        )}
      </div>
      {test.error && <ErrorNote error={test.error} />}
      {admin && (
        <div className="mt-auto flex gap-2">
          <Button variant="secondary" onClick={onConfigure} aria-label={`Configure ${integration.name}`}>
            Configure
          </Button>
          <Button
            disabled={integration.status === 'not_configured' || test.isPending}
            onClick={() => test.mutate()}
            aria-label={`Test connection to ${integration.name}`}
          >
            {test.isPending ? 'Testing…' : 'Test connection'}
          </Button>
        </div>
      )}
    </section>
  );
}

export default function Integrations() {
  const { org } = useSession();
  const admin = isAdmin(org);
  const [configuring, setConfiguring] = useState<string | null>(null);
  const list = useQuery({ queryKey: ['integrations'], queryFn: () => ok(api.GET('/api/v1/integrations')) });
  const integrations = list.data?.data ?? [];
  return (
    <>
      <PageHeader title="Integrations" description="Connections to outside services. Secrets are kept in the vault." />
      {list.isPending && <Loading />}
      {list.error && <ErrorNote error={list.error} />}
      <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
        {integrations.map((i) => (
          <IntegrationCard key={i.kind} integration={i} admin={admin} onConfigure={() => setConfiguring(i.kind)} />
        ))}
      </div>
      <Configure integration={integrations.find((i) => i.kind === configuring) ?? null} onClose={() => setConfiguring(null)} />
    </>
  );
}
