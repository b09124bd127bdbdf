// Tasks: the board (columns by status, drag to move) or the list (search, filters, infinite scroll), today's
// creation quota, and the create dialog. The view is in the address (?view=list) so a link keeps it.
import { Link, useSearchParams } from 'react-router';
import { useDebounced } from '../../ui/debounce';
import { when } from '../../ui/format';
import { PageHeader } from '../../ui/kit';
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

const tab = (active: boolean) =>
  `rounded-md px-3 py-1.5 text-sm font-medium ${active ? 'bg-indigo-600 text-white' : 'text-zinc-800 hover:bg-zinc-100 dark:text-zinc-200 dark:hover:bg-zinc-800'}`;

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
            <nav aria-label="Task views" className="flex gap-1">
              <Link to="/tasks" className={tab(view === 'board')} aria-current={view === 'board' ? 'page' : undefined}>
                Board
              </Link>
              <Link to="/tasks?view=list" className={tab(view === 'list')} aria-current={view === 'list' ? 'page' : undefined}>
                List
              </Link>
            </nav>
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
