// The worker fleet (instance admins): health with its alerts and each worker's heartbeat, read again whenever the
// queue stream signals `fleet` (a worker's counters or liveness changed) or queue activity.
import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import { when } from '../../ui/format';
import { Badge, Card, ErrorNote, Stat, toneOf } from '../../ui/kit';
import { Table } from '../../ui/table';

export function Fleet() {
  const health = useQuery({ queryKey: ['queue', 'fleet', 'health'], queryFn: () => ok(api.GET('/api/v1/factory-workers/health-summary')) });
  const workers = useQuery({ queryKey: ['queue', 'fleet', 'workers'], queryFn: () => ok(api.GET('/api/v1/factory-workers', { params: { query: { limit: 100 } } })) });
  const h = health.data;
  return (
    <Card title="Worker fleet" className="mt-6" actions={h && <Badge tone={toneOf(h.status)}>{h.status}</Badge>}>
      {health.error && <ErrorNote error={health.error} />}
      {h && (
        <div className="mb-4 grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Stat label="Running" value={`${h.workers.running}/${h.workers.target}`} />
          <Stat label="Stale" value={h.workers.stale} />
          <Stat label="Backlog" value={h.backlog.public_queue.waiting} hint={`oldest ${h.backlog.public_queue.oldest_waiting_seconds}s`} />
          <Stat label="Checked" value={when(h.checked_at)} />
        </div>
      )}
      {h?.alerts.map((a) => (
        <p key={a.kind + a.message} className="mb-2 text-sm">
          <Badge tone={a.severity === 'critical' ? 'red' : 'amber'}>{a.severity}</Badge> {a.message}
        </p>
      ))}
      <Table
        caption="Workers"
        rows={workers.data?.data ?? []}
        columns={[
          { key: 'host', render: (w) => `${w.host}:${w.pid}` },
          { key: 'state', render: (w) => <Badge tone={toneOf(w.state)}>{w.state}</Badge> },
          { key: 'in_flight', label: 'in flight', render: (w) => `${w.in_flight}/${w.concurrency}` },
          { key: 'processed' },
          { key: 'failed' },
          { key: 'last_heartbeat_at', label: 'heartbeat', render: (w) => when(w.last_heartbeat_at) },
        ]}
      />
    </Card>
  );
}
