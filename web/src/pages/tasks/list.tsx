// The list view: newest first, or best match first while searching; more rows as it scrolls.
import { Link } from 'react-router';
import { useSession } from '../../app/session';
import { when } from '../../ui/format';
import { Badge, Button, ErrorNote, Loading } from '../../ui/kit';
import { useInfiniteScroll } from '../../ui/scroll';
import { Table } from '../../ui/table';
import { assigneeText, useAgentNames, type Filters, priorityTone, statusLabel, statusTone, type Task, useTasks } from './api';

export function TaskList({ filters }: { filters: Filters }) {
  const { me } = useSession();
  const names = useAgentNames();
  const list = useTasks(filters);
  const end = useInfiniteScroll(list);
  if (list.isPending) return <Loading />;
  if (list.error) return <ErrorNote error={list.error} />;
  return (
    <div className="space-y-3">
      <Table<Task>
        rows={list.rows}
        caption="Tasks"
        columns={[
          { key: 'number', label: '#', render: (t) => `#${t.number}` },
          {
            key: 'title',
            render: (t) => (
              <Link to={`/tasks/${t.number}`} className="font-medium text-indigo-700 underline dark:text-indigo-300">
                {t.title}
              </Link>
            ),
          },
          { key: 'status', render: (t) => <Badge tone={statusTone(t.status)}>{statusLabel(t.status)}</Badge> },
          { key: 'priority', render: (t) => <Badge tone={priorityTone(t.priority)}>{t.priority}</Badge> },
          { key: 'assignee', render: (t) => assigneeText(t.assignee, me.id, names) || '—' },
          { key: 'tags', render: (t) => t.tags.join(', ') || '—' },
          { key: 'updated_at', label: 'updated', render: (t) => when(t.updated_at) },
        ]}
      />
      <div ref={end} className="flex justify-center">
        {list.hasNextPage && (
          <Button variant="secondary" disabled={list.isFetchingNextPage} onClick={() => list.fetchNextPage()}>
            {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        )}
      </div>
    </div>
  );
}
