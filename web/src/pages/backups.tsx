// Backups (instance admins): take one now, the list with status and size, download, delete, totals, the offsite copy
// and the log. A backup is a job: while one is queued or running the page reads again every second (there is no
// stream of backup progress), and stops once none is.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok } from '../api/client';
import { type Schemas, useSession } from '../app/session';
import { Confirm } from '../ui/dialog';
import { bytes, num, when } from '../ui/format';
import { Badge, Button, Card, ErrorNote, Muted, PageHeader, Pre, Stat, toneOf } from '../ui/kit';
import { Table } from '../ui/table';

type Backup = Schemas['Backup'];
const inProgress = (b: Backup) => b.status === 'queued' || b.status === 'running';

/** `version` changes whenever a backup appears or changes status: what depends on the list is read again then. */
function Offsite({ version }: { version: string }) {
  const status = useQuery({ queryKey: ['backups', 'offsite', version], queryFn: () => ok(api.GET('/api/v1/backups/offsite-status')) });
  const s = status.data;
  return (
    <Card
      title="Offsite copy"
      actions={s && (s.configured ? <Badge tone={s.in_sync ? 'green' : 'amber'}>{s.in_sync ? 'in sync' : 'behind'}</Badge> : <Badge>not configured</Badge>)}
    >
      {status.error && <ErrorNote error={status.error} />}
      {s && !s.configured && <Muted>Set OPSBASE_S3_ENDPOINT, OPSBASE_S3_BUCKET and its keys to copy every backup to an S3-compatible store.</Muted>}
      {s?.configured && (
        <dl className="grid grid-cols-1 gap-2 text-sm sm:grid-cols-2">
          <div>
            <dt className="text-zinc-600 dark:text-zinc-400">Target</dt>
            <dd className="font-mono text-xs">{s.target}</dd>
          </div>
          <div>
            <dt className="text-zinc-600 dark:text-zinc-400">Last copy</dt>
            <dd>
              {s.last_copy ? (
                <>
                  <span className="font-mono text-xs">{s.last_copy.backup_id}</span> {when(s.last_copy.at)}{' '}
                  <Badge tone={s.last_copy.ok ? 'green' : 'red'}>{s.last_copy.ok ? 'ok' : 'failed'}</Badge>
                  {s.last_copy.error && <span className="block text-red-700 dark:text-red-300">{s.last_copy.error}</span>}
                </>
              ) : (
                'none yet'
              )}
            </dd>
          </div>
        </dl>
      )}
    </Card>
  );
}

function Logs({ version }: { version: string }) {
  const logs = useQuery({ queryKey: ['backups', 'logs', version], queryFn: () => ok(api.GET('/api/v1/backups/logs', { params: { query: { lines: 50 } } })) });
  return (
    <Card title="Log" className="mt-6">
      {logs.error && <ErrorNote error={logs.error} />}
      {logs.data && logs.data.data.length === 0 && <Muted>No backup has run yet.</Muted>}
      {!!logs.data?.data.length && (
        <Pre className="max-h-72 overflow-auto">
          {logs.data.data.map((l) => `${l.at}  ${l.backup_id}  ${l.level.padEnd(5)}  ${l.message}`).join('\n')}
        </Pre>
      )}
    </Card>
  );
}

export default function Backups() {
  const { me } = useSession();
  const qc = useQueryClient();
  const [deleting, setDeleting] = useState<Backup | null>(null);
  const list = useQuery({
    queryKey: ['backups', 'list'],
    queryFn: () => ok(api.GET('/api/v1/backups', { params: { query: { limit: 50 } } })),
    enabled: me.role === 'admin',
    refetchInterval: (q) => (q.state.data?.data.some(inProgress) ? 1000 : false),
  });
  const version = (list.data?.data ?? []).map((b) => `${b.id}:${b.status}:${b.offsite?.status ?? ''}`).join(',');
  const stats = useQuery({
    queryKey: ['backups', 'stats', version],
    queryFn: () => ok(api.GET('/api/v1/backups/stats')),
    enabled: me.role === 'admin',
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['backups'] });
  const trigger = useMutation({ mutationFn: () => ok(api.POST('/api/v1/backups/trigger')), onSettled: refresh });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE('/api/v1/backups/{id}', { params: { path: { id } } })),
    onSuccess: () => setDeleting(null),
    onSettled: refresh,
  });

  if (me.role !== 'admin') {
    return (
      <>
        <PageHeader title="Backups" />
        <Card>
          <p className="text-sm">Backups hold every organization of this instance: only instance admins see them. Owners can export their own org from Settings.</p>
        </Card>
      </>
    );
  }
  const s = stats.data;
  return (
    <>
      <PageHeader
        title="Backups"
        description="Snapshots of the whole instance, taken by a background job into the data directory. Restore one with `opsbase restore <file>` into an empty database."
        actions={
          <Button onClick={() => trigger.mutate()} disabled={trigger.isPending}>
            Back up now
          </Button>
        }
      />
      {trigger.error && <ErrorNote error={trigger.error} />}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Totals">
          {stats.error && <ErrorNote error={stats.error} />}
          {s && (
            <div className="grid grid-cols-2 gap-4">
              <Stat label="Backups" value={num(s.count)} hint={s.failed ? `${s.failed} failed` : undefined} />
              <Stat label="Total size" value={bytes(s.total_size_bytes)} />
              <Stat label="Last succeeded" value={when(s.last_succeeded_at)} />
              <Stat label="Schedule" value={s.schedule ?? 'off'} hint={`keeps ${s.keep}`} />
            </div>
          )}
        </Card>
        <Offsite version={version} />
      </div>
      <section className="mt-6" aria-live="polite">
        <h2 className="mb-2 text-lg font-semibold">All backups</h2>
        {list.error && <ErrorNote error={list.error} />}
        <Table
          caption="Backups, newest first"
          rowKey={(b) => b.id}
          rows={list.data?.data ?? []}
          columns={[
            { key: 'id', render: (b) => <span className="font-mono text-xs">{b.id}</span> },
            { key: 'status', render: (b) => <Badge tone={toneOf(b.status)}>{b.status}</Badge> },
            { key: 'trigger' },
            { key: 'size_bytes', label: 'size', render: (b) => (b.size_bytes == null ? '—' : bytes(b.size_bytes)) },
            { key: 'row_count', label: 'rows', render: (b) => num(b.row_count) },
            { key: 'created_at', label: 'taken', render: (b) => when(b.created_at) },
            { key: 'duration_ms', label: 'took', render: (b) => (b.duration_ms == null ? '—' : `${(b.duration_ms / 1000).toFixed(1)} s`) },
            {
              key: 'actions',
              label: 'actions',
              render: (b) => (
                <span className="flex items-center gap-2">
                  {b.status === 'succeeded' && (
                    <a
                      href={`/api/v1/backups/${b.id}/download`}
                      download
                      className="text-sm text-indigo-700 underline dark:text-indigo-300"
                      aria-label={`Download backup ${b.id}`}
                    >
                      Download
                    </a>
                  )}
                  {!inProgress(b) && (
                    <Button variant="ghost" onClick={() => setDeleting(b)} aria-label={`Delete backup ${b.id}`}>
                      Delete
                    </Button>
                  )}
                  {b.error && <span className="text-xs text-red-700 dark:text-red-300">{b.error}</span>}
                </span>
              ),
            },
          ]}
        />
      </section>
      <Logs version={version} />
      <Confirm
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title="Delete this backup?"
        description={`${deleting?.id ?? ''}: its file is deleted from the data directory (an offsite copy stays).`}
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
      />
    </>
  );
}
