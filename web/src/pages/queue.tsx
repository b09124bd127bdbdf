// Queue and workers: per-queue counts, jobs by state with filters (live: a job submitted, claimed, completed,
// failed or cancelled shows without a reload, pushed by the queue stream), retry / cancel, schedules, and — for
// instance admins — the worker fleet.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import { type Schemas, useSession } from '../app/session';
import { useStream } from '../app/stream';
import { SelectInput, TextInput } from '../ui/field';
import { when } from '../ui/format';
import { Badge, Button, Card, ErrorNote, PageHeader, toneOf } from '../ui/kit';
import { useDebounced } from '../ui/debounce';
import { PagedTable, Table, usePaged } from '../ui/table';
import { Fleet } from './queue/fleet';

type Job = Schemas['QueueJob'];
type State = Job['state'];
const STATES: ('' | State)[] = ['', 'waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'];

export function JobActions({ job }: { job: Job }) {
  const qc = useQueryClient();
  const act = useMutation({
    mutationFn: (what: 'retry' | 'cancel') =>
      what === 'retry'
        ? ok(api.POST('/api/v1/queue/jobs/{id}/retry', { params: { path: { id: job.id } } }))
        : ok(api.POST('/api/v1/queue/jobs/{id}/cancel', { params: { path: { id: job.id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: ['queue'] }),
  });
  return (
    <span className="flex items-center gap-1">
      {(job.state === 'failed' || job.state === 'cancelled') && (
        <Button variant="ghost" onClick={() => act.mutate('retry')} aria-label={`Retry job ${job.id}`}>
          Retry
        </Button>
      )}
      {(job.state === 'waiting' || job.state === 'delayed' || job.state === 'active') && (
        <Button variant="ghost" onClick={() => act.mutate('cancel')} aria-label={`Cancel job ${job.id}`}>
          Cancel
        </Button>
      )}
      {act.error && <span className="text-xs text-red-700 dark:text-red-300">{act.error.message}</span>}
    </span>
  );
}

export default function Queue() {
  const { me } = useSession();
  const qc = useQueryClient();
  const [state, setState] = useState<'' | State>('');
  const [queue, setQueue] = useState('');
  const [taskType, setTaskType] = useState('');
  useStream('queue', ['queue', 'events', 'fleet'], [['queue']]);
  const stats = useQuery({ queryKey: ['queue', 'stats'], queryFn: () => ok(api.GET('/api/v1/queue/stats')) });
  const queueQ = useDebounced(queue);
  const taskQ = useDebounced(taskType);
  const jobs = usePaged<Job>(['queue', 'jobs', state, queueQ, taskQ], (cursor) =>
    ok(
      api.GET('/api/v1/queue/jobs', {
        params: { query: { cursor, limit: 50, ...(state ? { state } : {}), ...(queueQ ? { queue: queueQ } : {}), ...(taskQ ? { task_type: taskQ } : {}) } },
      }),
    ),
  );
  const schedules = usePaged<Schemas['QueueSchedule']>(['queue', 'schedules'], (cursor) => ok(api.GET('/api/v1/queue/schedules', { params: { query: { cursor } } })));
  const unschedule = useMutation({
    mutationFn: (id: string) => ok(api.DELETE('/api/v1/queue/schedules/{id}', { params: { path: { id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: ['queue', 'schedules'] }),
  });
  return (
    <>
      <PageHeader title="Queue & workers" description="Jobs of this organization's queues, updated live." />
      <Card title="Queues">
        {stats.error && <ErrorNote error={stats.error} />}
        <Table
          caption="Jobs per queue and state"
          rowKey={(s) => s.queue}
          rows={stats.data?.data ?? []}
          columns={['queue', 'waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'].map((key) => ({ key }))}
        />
      </Card>
      <section className="mt-6">
        <h2 className="mb-2 text-lg font-semibold">Jobs</h2>
        <div className="mb-3 grid gap-3 sm:grid-cols-3">
          <SelectInput label="State" value={state} onChange={(e) => setState(e.target.value as typeof state)} options={STATES.map((s) => ({ value: s, label: s || 'all states' }))} />
          <TextInput label="Queue" value={queue} onChange={(e) => setQueue(e.target.value)} />
          <TextInput label="Task type" value={taskType} onChange={(e) => setTaskType(e.target.value)} />
        </div>
        <PagedTable
          query={jobs}
          caption="Jobs"
          columns={[
            {
              key: 'id',
              render: (j) => (
                <Link to={`/queue/jobs/${j.id}`} className="font-mono text-xs text-indigo-700 underline dark:text-indigo-300">
                  {j.id}
                </Link>
              ),
            },
            { key: 'queue' },
            { key: 'task_type', label: 'task type' },
            { key: 'state', render: (j) => <Badge tone={toneOf(j.state)}>{j.state}</Badge> },
            { key: 'attempts', render: (j) => `${j.attempts}/${j.max_attempts}` },
            { key: 'run_at', label: 'run at', render: (j) => when(j.run_at) },
            { key: 'actions', label: 'actions', render: (j) => <JobActions job={j} /> },
          ]}
        />
      </section>
      <section className="mt-6">
        <h2 className="mb-2 text-lg font-semibold">Schedules</h2>
        {unschedule.error && <ErrorNote error={unschedule.error} />}
        <PagedTable
          query={schedules}
          caption="Schedules"
          columns={[
            { key: 'queue' },
            { key: 'task_type', label: 'task type' },
            { key: 'cron', render: (s) => s.cron ?? `every ${s.every_seconds} s` },
            { key: 'next_run_at', label: 'next run', render: (s) => when(s.next_run_at) },
            { key: 'last_run_at', label: 'last run', render: (s) => when(s.last_run_at) },
            {
              key: 'actions',
              label: 'actions',
              render: (s) => (
                <Button variant="ghost" onClick={() => unschedule.mutate(s.id)} aria-label={`Delete schedule ${s.id}`}>
                  Delete
                </Button>
              ),
            },
          ]}
        />
      </section>
      {me.role === 'admin' && <Fleet />}
    </>
  );
}
