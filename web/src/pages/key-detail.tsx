// One key: what it may do, its requests per day (the last 200 requests) and its request log.
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useParams } from 'react-router';
import { api, ok } from '../api/client';
import type { Schemas } from '../app/session';
import { Chart, lastDays } from '../ui/chart';
import { when } from '../ui/format';
import { Badge, Card, ErrorNote, Loading, PageHeader, toneOf } from '../ui/kit';
import { PagedTable, usePaged } from '../ui/table';

type Req = Schemas['ApiRequest'];

export default function KeyDetail() {
  const id = useParams().id!;
  const key = useQuery({ queryKey: ['keys', id], queryFn: () => ok(api.GET('/api/v1/keys/{id}', { params: { path: { id } } })) });
  const log = usePaged<Req>(['keys', id, 'usage'], (cursor) => ok(api.GET('/api/v1/keys/{id}/usage', { params: { path: { id }, query: { cursor, limit: 200 } } })));
  const chart = useMemo(() => {
    const { x, keys } = lastDays(14);
    const okCount = new Array(14).fill(0);
    const errCount = new Array(14).fill(0);
    for (const r of log.data?.pages[0]?.data ?? []) {
      const i = keys.indexOf(r.time.slice(0, 10));
      if (i >= 0) (r.status >= 400 ? errCount : okCount)[i]++;
    }
    return {
      x,
      series: [
        { label: 'Succeeded', values: okCount, color: '#4f46e5' },
        { label: 'Errors', values: errCount, color: '#dc2626' },
      ],
      total: okCount.reduce((a, b) => a + b, 0),
      errors: errCount.reduce((a, b) => a + b, 0),
    };
  }, [log.data]);
  if (key.isPending) return <Loading />;
  if (key.error) return <ErrorNote error={key.error} />;
  const k = key.data;
  return (
    <>
      <PageHeader
        title={k.name}
        description={
          <span className="flex items-center gap-2">
            <code>{k.masked}</code> <Badge tone={toneOf(k.status)}>{k.status}</Badge>
          </span>
        }
        actions={
          <Link to="/keys" className="text-sm underline">
            All keys
          </Link>
        }
      />
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Key">
          <dl className="space-y-1 text-sm">
            <div>
              <dt className="inline font-medium">Scopes: </dt>
              <dd className="inline">{k.scopes.join(', ')}</dd>
            </div>
            <div>
              <dt className="inline font-medium">Created: </dt>
              <dd className="inline">{when(k.created_at)}</dd>
            </div>
            <div>
              <dt className="inline font-medium">Last used: </dt>
              <dd className="inline">{when(k.last_used_at)}</dd>
            </div>
            <div>
              <dt className="inline font-medium">Expires: </dt>
              <dd className="inline">{k.expires_at ? when(k.expires_at) : 'never'}</dd>
            </div>
            <div>
              <dt className="inline font-medium">Rate limit: </dt>
              <dd className="inline">{k.rate_limit_per_minute ? `${k.rate_limit_per_minute}/min` : 'plan default'}</dd>
            </div>
          </dl>
        </Card>
        <Card title="Requests, last 14 days" className="lg:col-span-2">
          <Chart x={chart.x} series={chart.series} bars label={`${chart.total} requests succeeded and ${chart.errors} failed in the last 14 days`} />
          <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
            {chart.total} succeeded · {chart.errors} errors
          </p>
        </Card>
      </div>
      <h2 className="mb-2 mt-6 text-lg font-semibold">Request log</h2>
      <PagedTable
        query={log}
        caption="Requests made with this key"
        columns={[
          { key: 'time', render: (r) => when(r.time) },
          { key: 'method' },
          { key: 'path', render: (r) => <code className="text-xs">{r.path}</code> },
          { key: 'status', render: (r) => <Badge tone={r.status >= 400 ? 'red' : 'green'}>{r.status}</Badge> },
          { key: 'latency_ms', label: 'latency', render: (r) => `${r.latency_ms} ms` },
        ]}
      />
    </>
  );
}
