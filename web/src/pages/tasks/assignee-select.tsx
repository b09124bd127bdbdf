// Whom a task goes to: nobody, me, or one of the org's agents (written as the API takes it: `me`, `agent:<name>`).
import { SelectInput } from '../../ui/field';
import { useAgents } from '../agents/api';

export function AssigneeSelect({ value, onChange, error }: { value: string; onChange: (v: string) => void; error?: string }) {
  const agents = useAgents();
  const options = [
    { value: '', label: 'Unassigned' },
    { value: 'me', label: 'Me' },
    ...(agents.data?.data ?? []).map((a) => ({ value: `agent:${a.name}`, label: `Agent: ${a.display_name ?? a.name}` })),
  ];
  // A value the options lack (another user, an agent id) stays selectable as written.
  if (value && !options.some((o) => o.value === value)) options.push({ value, label: value });
  return <SelectInput label="Assignee" value={value} onChange={(e) => onChange(e.target.value)} options={options} error={error} />;
}
