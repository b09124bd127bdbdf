// The activity log: every mutation of the org, who did it and when; filters, and more rows as you scroll.
import { useState } from 'react';
import { api, ok } from '../api/client';
import type { Schemas } from '../app/session';
import { SelectInput, TextInput } from '../ui/field';
import { when } from '../ui/format';
import { Badge, PageHeader } from '../ui/kit';
import { useDebounced } from '../ui/debounce';
import { PagedTable, usePaged } from '../ui/table';

type Row = Schemas['Activity'];

export default function Activity() {
  const [actorType, setActorType] = useState<'' | Row['actor_type']>('');
  const [action, setAction] = useState('');
  const [entityType, setEntityType] = useState('');
  const actionQ = useDebounced(action);
  const entityQ = useDebounced(entityType);
  const list = usePaged<Row>(['activity', 'log', actorType, actionQ, entityQ], (cursor) =>
    ok(
      api.GET('/api/v1/activity-log', {
        params: {
          query: { cursor, limit: 50, ...(actorType ? { actor_type: actorType } : {}), ...(actionQ ? { action: actionQ } : {}), ...(entityQ ? { entity_type: entityQ } : {}) },
        },
      }),
    ),
  );
  return (
    <>
      <PageHeader title="Activity log" description="Every change in this organization: who, what and when." />
      <div className="mb-4 grid gap-3 sm:grid-cols-3">
        <SelectInput
          label="Actor"
          value={actorType}
          onChange={(e) => setActorType(e.target.value as typeof actorType)}
          options={['', 'user', 'agent', 'system'].map((v) => ({ value: v, label: v || 'anyone' }))}
        />
        <TextInput label="Action" placeholder="e.g. key.created" value={action} onChange={(e) => setAction(e.target.value)} />
        <TextInput label="Entity type" placeholder="e.g. api_key" value={entityType} onChange={(e) => setEntityType(e.target.value)} />
      </div>
      <PagedTable
        query={list}
        autoLoad
        caption="Activity"
        columns={[
          { key: 'created_at', label: 'when', render: (a) => when(a.created_at) },
          { key: 'actor_type', label: 'actor', render: (a) => <Badge>{a.actor_type}</Badge> },
          { key: 'actor_id', label: 'actor id', render: (a) => <code className="text-xs">{a.actor_id ?? '—'}</code> },
          { key: 'action', render: (a) => <code className="text-xs">{a.action}</code> },
          { key: 'entity', render: (a) => `${a.entity_type} ${a.entity_id ?? ''}` },
        ]}
      />
    </>
  );
}
