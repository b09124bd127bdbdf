// Tasks: the board (columns by status, drag to move) or the list (search, filters, infinite scroll), today's
// creation quota, and the create dialog. The view is in the address (?view=list) so a link keeps it.
import { useSearchParams } from 'react-router';
import { useDebounced } from '../../ui/debounce';
import { when } from '../../ui/format';
import { PageHeader } from '../../ui/kit';
import { ViewTabs } from '../../ui/view-tabs';
import { useState } from 'react';
import { NO_FILTERS, useQuota } from './api';
import { Board } from './board';
import { CreateTask } from './create-task';
import { FilterBar } from './filters';
import { TaskList } from './list';

function QuotaLine() {
  const quota = useQuota();
  if (!quota.data) return null;
  const { used_today, limit, remaining, reset_at } = quota.data;
  return (
    <p data-testid="quota" className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">
      {limit < 0
        ? `${used_today} created today · no daily limit`
        : `${used_today} of ${limit} created today · ${remaining} left · resets ${when(reset_at)}`}
    </p>
  );
}

export default function Tasks() {
  const [params] = useSearchParams();
  const view = params.get('view') === 'list' ? 'list' : 'board';
  const [filters, setFilters] = useState(NO_FILTERS);
  const settled = useDebounced(filters);
  return (
    <>
      <PageHeader
        title="Tasks"
        description="The org's work: filed by people and agents, claimed, done."
        actions={
          <>
            <ViewTabs
              label="Task views"
              current={view}
              views={[
                { id: 'board', to: '/tasks', label: 'Board' },
                { id: 'list', to: '/tasks?view=list', label: 'List' },
              ]}
            />
            <CreateTask />
          </>
        }
      />
      <QuotaLine />
      <FilterBar value={filters} onChange={setFilters} withStatus={view === 'list'} />
      {view === 'board' ? <Board filters={{ ...settled, status: '' }} /> : <TaskList filters={settled} />}
    </>
  );
}
