// The filters both views share: full-text search, priority, assignee, tag — and status, in the list only (on the
// board the columns are the statuses).
import { SelectInput, TextInput } from '../../ui/field';
import { type Filters, PRIORITIES, statusOptions } from './api';

export function FilterBar({ value, onChange, withStatus }: { value: Filters; onChange: (f: Filters) => void; withStatus: boolean }) {
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => onChange({ ...value, [k]: e.target.value });
  return (
    <div className={`mb-4 grid gap-3 sm:grid-cols-2 ${withStatus ? 'lg:grid-cols-5' : 'lg:grid-cols-4'}`}>
      <TextInput label="Search" type="search" placeholder="words in title or description" value={value.q} onChange={set('q')} />
      {withStatus && <SelectInput label="Status" value={value.status} onChange={set('status')} options={[{ value: '', label: 'any' }, ...statusOptions]} />}
      <SelectInput label="Priority" value={value.priority} onChange={set('priority')} options={['', ...PRIORITIES].map((p) => ({ value: p, label: p || 'any' }))} />
      <TextInput label="Assignee" placeholder="me, agent:writer, none" value={value.assignee} onChange={set('assignee')} />
      <TextInput label="Tag" value={value.tag} onChange={set('tag')} />
    </div>
  );
}
