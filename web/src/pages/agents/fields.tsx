// Inputs the create dialog and the settings form share.
import { SelectInput } from '../../ui/field';
import { type Agent, agentLabel } from './api';

/** A monthly cap as typed: empty means no cap. */
export const capOf = (s: string) => (s.trim() === '' ? null : Number(s));

/** Whom the agent reports to: nobody, or another agent (never itself). */
export function ManagerSelect({ agents, value, onChange, error, self }: { agents: Agent[]; value: string; onChange: (v: string) => void; error?: string; self?: string }) {
  const options = [{ value: '', label: 'Nobody (top of the chart)' }, ...agents.filter((a) => a.id !== self).map((a) => ({ value: a.id, label: agentLabel(a) }))];
  return <SelectInput label="Reports to" value={value} onChange={(e) => onChange(e.target.value)} options={options} error={error} />;
}
