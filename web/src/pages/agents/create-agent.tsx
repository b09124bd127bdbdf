// The create dialog: the essentials (name, role, runtime, manager, model, monthly caps); everything else is on the
// agent's page once it exists. An http agent needs its URL, a process agent its command.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ok } from '../../api/client';
import { DialogActions, Modal } from '../../ui/dialog';
import { SelectInput, TextInput, fieldError } from '../../ui/field';
import { Button, ErrorNote } from '../../ui/kit';
import { type Agent, useAgents } from './api';
import { ManagerSelect, capOf } from './fields';

const EMPTY = { name: '', display_name: '', role: '', runtime: 'llm' as Agent['runtime'], endpoint: '', reports_to: '', model: '', credits: '', tokens: '', paused: false };

export function CreateAgent() {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState(EMPTY);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const agents = useAgents();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/v1/agents', {
          body: {
            name: form.name.trim(),
            display_name: form.display_name || null,
            role: form.role || null,
            runtime: form.runtime,
            reports_to: form.reports_to || null,
            model: form.model || null,
            status: form.paused ? 'paused' : 'active',
            budget: { monthly_credits: capOf(form.credits), monthly_tokens: capOf(form.tokens) },
            ...(form.runtime === 'http' ? { runtime_config: { url: form.endpoint } } : form.runtime === 'process' ? { runtime_config: { command: form.endpoint } } : {}),
          },
        }),
      ),
    onSuccess: async (agent) => {
      await qc.invalidateQueries({ queryKey: ['agents'] });
      setOpen(false);
      setForm(EMPTY);
      navigate(`/agents/${agent.name}`);
    },
  });
  const err = (f: string) => fieldError(create.error, f);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <Button onClick={() => setOpen(true)}>New agent</Button>
      <Modal open={open} onOpenChange={setOpen} title="New agent" description="It gets its own identity: an API key with the scopes of its tools, kept by the server.">
        <form className="max-h-[70vh] space-y-3 overflow-y-auto p-0.5" onSubmit={submit} noValidate>
          <div className="grid gap-3 sm:grid-cols-2">
            <TextInput label="Name" hint="a slug: a-z 0-9 - _" value={form.name} onChange={set('name')} error={err('name')} />
            <TextInput label="Display name" value={form.display_name} onChange={set('display_name')} error={err('display_name')} />
            <TextInput label="Role" placeholder="e.g. Content writer" value={form.role} onChange={set('role')} error={err('role')} />
            <ManagerSelect agents={agents.data?.data ?? []} value={form.reports_to} onChange={(reports_to) => setForm({ ...form, reports_to })} error={err('reports_to')} />
            <SelectInput
              label="Runtime"
              value={form.runtime}
              onChange={(e) => setForm({ ...form, runtime: e.target.value as Agent['runtime'] })}
              options={[
                { value: 'llm', label: 'llm: a model loop' },
                { value: 'http', label: 'http: your service' },
                { value: 'process', label: 'process: a local command' },
              ]}
            />
            {form.runtime === 'llm' ? (
              <TextInput label="Model" placeholder="instance default" value={form.model} onChange={set('model')} error={err('model')} />
            ) : (
              <TextInput
                label={form.runtime === 'http' ? 'URL' : 'Command'}
                value={form.endpoint}
                onChange={set('endpoint')}
                error={err(form.runtime === 'http' ? 'runtime_config.url' : 'runtime_config.command')}
              />
            )}
            <TextInput label="Monthly credits" hint="empty: no cap" inputMode="numeric" value={form.credits} onChange={set('credits')} error={err('budget.monthly_credits')} />
            <TextInput label="Monthly tokens" hint="empty: no cap" inputMode="numeric" value={form.tokens} onChange={set('tokens')} error={err('budget.monthly_tokens')} />
          </div>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={form.paused} onChange={(e) => setForm({ ...form, paused: e.target.checked })} />
            Start paused (configure it first)
          </label>
          {create.error && <ErrorNote error={create.error} />}
          <DialogActions onCancel={() => setOpen(false)} submitLabel="Create" busy={create.isPending} />
        </form>
      </Modal>
    </>
  );
}
