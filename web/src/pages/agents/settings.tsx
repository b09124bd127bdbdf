// An agent's settings as one form. Only what changed is sent, so saving a new name does not also re-issue its
// tools (which re-derives its key's scopes).
import { type FormEvent, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, ok } from '../../api/client';
import { Field, SelectInput, TextInput, controlClass, fieldError } from '../../ui/field';
import { Button, Card, ErrorNote } from '../../ui/kit';
import { type Agent, useAgents } from './api';
import { capOf, ManagerSelect } from './fields';

const formOf = (a: Agent) => ({
  display_name: a.display_name ?? '',
  role: a.role ?? '',
  title: a.title ?? '',
  emoji: a.emoji ?? '',
  color: a.color ?? '',
  reports_to: a.reports_to ?? '',
  template_id: a.template_id ?? '',
  runtime: a.runtime,
  runtime_config: JSON.stringify(a.runtime_config, null, 2),
  model: a.model ?? '',
  instructions: a.instructions ?? '',
  tools: a.tools.join(', '),
  interval_sec: a.interval_sec == null ? '' : String(a.interval_sec),
  max_concurrent_runs: String(a.max_concurrent_runs),
  monthly_credits: a.budget.monthly_credits == null ? '' : String(a.budget.monthly_credits),
  monthly_tokens: a.budget.monthly_tokens == null ? '' : String(a.budget.monthly_tokens),
  alert_at_pct: String(a.budget.alert_at_pct),
});
type Form = ReturnType<typeof formOf>;

/** The PATCH body for the fields that differ from what the agent has. */
function changes(before: Form, after: Form): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const text = ['display_name', 'role', 'title', 'emoji', 'color', 'reports_to', 'template_id', 'model', 'instructions'] as const;
  for (const k of text) if (after[k] !== before[k]) body[k] = after[k].trim() || null;
  if (after.runtime !== before.runtime) body.runtime = after.runtime;
  if (after.runtime_config !== before.runtime_config || after.runtime !== before.runtime) {
    try {
      body.runtime_config = JSON.parse(after.runtime_config || '{}');
    } catch {
      throw new Error('Runtime config is not valid JSON.');
    }
  }
  if (after.tools !== before.tools) body.tools = after.tools.split(',').map((t) => t.trim()).filter(Boolean);
  if (after.interval_sec !== before.interval_sec) body.interval_sec = capOf(after.interval_sec);
  if (after.max_concurrent_runs !== before.max_concurrent_runs) body.max_concurrent_runs = Number(after.max_concurrent_runs);
  const budget: Record<string, unknown> = {};
  if (after.monthly_credits !== before.monthly_credits) budget.monthly_credits = capOf(after.monthly_credits);
  if (after.monthly_tokens !== before.monthly_tokens) budget.monthly_tokens = capOf(after.monthly_tokens);
  if (after.alert_at_pct !== before.alert_at_pct) budget.alert_at_pct = Number(after.alert_at_pct);
  if (Object.keys(budget).length) body.budget = budget;
  return body;
}

export function AgentSettings({ agent }: { agent: Agent }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const agents = useAgents();
  const [form, setForm] = useState(() => formOf(agent));
  const [saved, setSaved] = useState(false);
  const set = (k: keyof Form) => (e: { target: { value: string } }) => {
    setSaved(false);
    setForm({ ...form, [k]: e.target.value });
  };
  const save = useMutation({
    mutationFn: async () => {
      const body = changes(formOf(agent), form);
      if (!Object.keys(body).length) return agent;
      return ok(api.PATCH('/api/v1/agents/{id}', { params: { path: { id: agent.id } }, body: body as never }));
    },
    onSuccess: async (updated) => {
      await qc.invalidateQueries({ queryKey: ['agents'] });
      setForm(formOf(updated));
      setSaved(true);
      if (updated.name !== agent.name) navigate(`/agents/${updated.name}`, { replace: true });
    },
  });
  const err = (f: string) => fieldError(save.error, f);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const area = (k: 'instructions' | 'runtime_config', label: string, hint: string, rows: number) => (
    <Field label={label} hint={hint} error={err(k)}>
      {(a) => <textarea rows={rows} className={`${controlClass} ${k === 'runtime_config' ? 'font-mono text-xs' : ''}`} value={form[k]} onChange={set(k)} {...a} />}
    </Field>
  );
  return (
    <Card title="Settings">
      <form className="space-y-3" onSubmit={submit} noValidate>
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          <TextInput label="Display name" value={form.display_name} onChange={set('display_name')} error={err('display_name')} />
          <TextInput label="Role" value={form.role} onChange={set('role')} error={err('role')} />
          <TextInput label="Title" value={form.title} onChange={set('title')} error={err('title')} />
          <TextInput label="Emoji" value={form.emoji} onChange={set('emoji')} error={err('emoji')} />
          <TextInput label="Colour" placeholder="#rrggbb" value={form.color} onChange={set('color')} error={err('color')} />
          <ManagerSelect agents={agents.data?.data ?? []} self={agent.id} value={form.reports_to} onChange={(reports_to) => setForm({ ...form, reports_to })} error={err('reports_to')} />
          <TextInput label="Template" hint="id or slug" value={form.template_id} onChange={set('template_id')} error={err('template_id')} />
          <SelectInput label="Runtime" value={form.runtime} onChange={set('runtime')} options={['llm', 'http', 'process'].map((r) => ({ value: r, label: r }))} />
          <TextInput label="Model" placeholder="default" value={form.model} onChange={set('model')} error={err('model')} />
          <TextInput label="Heartbeat (seconds)" hint="how often it looks for work; empty: the template's" inputMode="numeric" value={form.interval_sec} onChange={set('interval_sec')} error={err('interval_sec')} />
          <TextInput label="Runs at once" inputMode="numeric" value={form.max_concurrent_runs} onChange={set('max_concurrent_runs')} error={err('max_concurrent_runs')} />
          <TextInput label="Tools" hint="operation ids, comma-separated" value={form.tools} onChange={set('tools')} error={err('tools')} />
          <TextInput label="Monthly credits" hint="empty: no cap" inputMode="numeric" value={form.monthly_credits} onChange={set('monthly_credits')} error={err('budget.monthly_credits')} />
          <TextInput label="Monthly tokens" hint="empty: no cap" inputMode="numeric" value={form.monthly_tokens} onChange={set('monthly_tokens')} error={err('budget.monthly_tokens')} />
          <TextInput label="Alert at (%)" inputMode="numeric" value={form.alert_at_pct} onChange={set('alert_at_pct')} error={err('budget.alert_at_pct')} />
        </div>
        {area('instructions', 'Instructions', 'added to its system prompt', 4)}
        {area('runtime_config', 'Runtime config', 'JSON; its fields depend on the runtime', 5)}
        {save.error && <ErrorNote error={save.error} />}
        <div className="flex items-center justify-end gap-3">
          {saved && (
            <span role="status" className="text-sm text-green-800 dark:text-green-300">
              Saved.
            </span>
          )}
          <Button type="submit" disabled={save.isPending}>
            Save settings
          </Button>
        </div>
      </form>
    </Card>
  );
}
