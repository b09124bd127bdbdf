// One task (/tasks/:id, by id or number): its description rendered, status change, fields, claim, comments and
// dependencies; the runs section (runs-panel.tsx) is where task runs will appear.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ok } from '../../api/client';
import { useSession } from '../../app/session';
import { Confirm } from '../../ui/dialog';
import { SelectInput } from '../../ui/field';
import { Facts } from '../../ui/facts';
import { when } from '../../ui/format';
import { Badge, Button, Card, ErrorNote, Loading, PageHeader } from '../../ui/kit';
import { Markdown } from '../../ui/markdown';
import { assigneeText, useAgentNames, priorityTone, type Status, statusOptions, type TaskDetail as Detail, useUpdateTask } from './api';
import { Comments } from './comments';
import { Dependencies } from './dependencies';
import { EditTask } from './edit-task';
import { RunsPanel } from './runs-panel';

function TaskFacts({ task }: { task: Detail }) {
  const { me } = useSession();
  const names = useAgentNames();
  const rows: [string, React.ReactNode][] = [
    ['Type', task.type],
    ['Priority', <Badge key="p" tone={priorityTone(task.priority)}>{task.priority}</Badge>],
    ['Assignee', assigneeText(task.assignee, me.id, names) || 'unassigned'],
    ['Tags', task.tags.join(', ') || '—'],
    ['Due', task.due_date ?? '—'],
    ['Estimate', task.estimated_minutes == null ? '—' : `${task.estimated_minutes} min`],
    ['Resolution', task.resolution ?? '—'],
    ['Lease', task.lease_expires_at && new Date(task.lease_expires_at) > new Date() ? `held, expires ${when(task.lease_expires_at)}` : 'none'],
    ['Created', `${when(task.created_at)} by ${task.created_by.type}`],
    ['Updated', when(task.updated_at)],
    ['Completed', when(task.completed_at)],
  ];
  return <Facts rows={rows} />;
}

function StatusControl({ task }: { task: Detail }) {
  const update = useUpdateTask();
  return (
    <div className="space-y-2">
      <SelectInput
        label="Status"
        value={task.status}
        disabled={update.isPending}
        onChange={(e) => update.mutate({ id: task.id, status: e.target.value as Status })}
        options={statusOptions}
      />
      {/* A refused move leaves the select on the task's real status; the message says where it can go. */}
      <div aria-live="polite">{update.error && <ErrorNote error={update.error} />}</div>
    </div>
  );
}

export default function TaskDetailPage() {
  const id = useParams().id!;
  const qc = useQueryClient();
  const [archiving, setArchiving] = useState(false);
  const task = useQuery({ queryKey: ['tasks', 'one', id], queryFn: () => ok(api.GET('/api/v1/tasks/{id}', { params: { path: { id } } })) });
  const refresh = () => qc.invalidateQueries({ queryKey: ['tasks'] });
  const claim = useMutation({ mutationFn: () => ok(api.POST('/api/v1/tasks/{id}/claim', { params: { path: { id } }, body: {} })), onSuccess: refresh });
  const archive = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/tasks/{id}/archive', { params: { path: { id } } })),
    onSuccess: async () => {
      await refresh();
      setArchiving(false);
    },
  });
  if (task.isPending) return <Loading />;
  if (task.error) return <ErrorNote error={task.error} />;
  const t = task.data;
  return (
    <>
      <PageHeader
        title={`#${t.number} ${t.title}`}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <code className="text-xs">{t.id}</code>
            {t.archived_at && <Badge>archived</Badge>}
            {t.blocked && <Badge tone="red">blocked</Badge>}
          </span>
        }
        actions={
          <>
            <Button variant="secondary" onClick={() => claim.mutate()} disabled={claim.isPending || Boolean(t.archived_at)}>
              Claim
            </Button>
            <EditTask task={t} />
            {!t.archived_at && (
              <Button variant="ghost" onClick={() => setArchiving(true)}>
                Archive
              </Button>
            )}
          </>
        }
      />
      {claim.error && (
        <div className="mb-4">
          <ErrorNote error={claim.error} />
        </div>
      )}
      <div className="grid gap-4 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          <Card title="Description">{t.description ? <Markdown text={t.description} /> : <p className="text-sm text-zinc-600 dark:text-zinc-400">No description.</p>}</Card>
          <RunsPanel task={t} />
          <Comments taskId={t.id} />
        </div>
        <div className="space-y-4">
          <Card title="Details">
            <StatusControl task={t} />
            <div className="mt-4">
              <TaskFacts task={t} />
            </div>
          </Card>
          <Dependencies task={t} />
        </div>
      </div>
      <p className="mt-6 flex gap-4 text-sm">
        <Link to="/tasks" className="underline">
          All tasks
        </Link>
        <Link to="/ops/tasks.get" className="underline">
          Generic page
        </Link>
      </p>
      <Confirm
        open={archiving}
        onOpenChange={setArchiving}
        title={`Archive #${t.number}?`}
        description="It disappears from lists and queues; an open task is also cancelled."
        confirmLabel="Archive"
        danger
        busy={archive.isPending}
        onConfirm={() => archive.mutate()}
      />
    </>
  );
}
