// Overview: what an owner checks first — credits (balance, held, 30-day chart), plan and quota usage, recent
// activity and notifications, queue backlog and failing webhooks. Every panel is one request, all in parallel.
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import { useSession } from '../app/session';
import { useStream } from '../app/stream';
import { planQuery, walletQuery } from './overview-queries';
import { LedgerChart } from '../ui/credit-chart';
import { num, when } from '../ui/format';
import { Badge, Card, ErrorNote, Loading, PageHeader, Stat, UsageBar } from '../ui/kit';

const USAGE_LABELS: Record<string, string> = {
  api_calls: 'API calls this month',
  ai_calls: 'AI calls this month',
  tasks_per_day: 'Tasks today',
  seats: 'Seats',
  agents: 'Agents',
  storage_bytes: 'Storage (bytes)',
};

export default function Overview() {
  const { org } = useSession();
  const wallet = useQuery(walletQuery);
  const tokens = useQuery({ queryKey: ['wallet', 'tokens'], queryFn: () => ok(api.GET('/api/v1/tokens/balance')) });
  const plan = useQuery(planQuery);
  const activity = useQuery({ queryKey: ['activity', 'recent'], queryFn: () => ok(api.GET('/api/v1/activity-log', { params: { query: { limit: 6 } } })) });
  const notes = useQuery({ queryKey: ['notifications', 'recent'], queryFn: () => ok(api.GET('/api/v1/notifications', { params: { query: { limit: 5 } } })) });
  const queue = useQuery({ queryKey: ['queue', 'stats'], queryFn: () => ok(api.GET('/api/v1/queue/stats')) });
  const hooks = useQuery({ queryKey: ['webhooks', 'list'], queryFn: () => ok(api.GET('/api/v1/webhooks', { params: { query: { limit: 200 } } })) });
  const failed = useQuery({
    queryKey: ['webhooks', 'failed-deliveries'],
    queryFn: () => ok(api.GET('/api/v1/dev/webhook-deliveries', { params: { query: { status: 'failed', limit: 5 } } })),
  });
  useStream('queue', ['queue', 'events'], [['queue'], ['webhooks'], ['activity']]);

  const backlog = (queue.data?.data ?? []).reduce((a, s) => ({ waiting: a.waiting + s.waiting + s.delayed, active: a.active + s.active, failed: a.failed + s.failed }), {
    waiting: 0,
    active: 0,
    failed: 0,
  });
  const failing = (hooks.data?.data ?? []).filter((h) => h.failing_since || !h.enabled);
  const ready = wallet.isSuccess && plan.isSuccess;
  // When the page became useful, for the load-time measurement (test/web.test.ts) and anyone profiling.
  useEffect(() => {
    if (ready && !performance.getEntriesByName('overview-ready').length) performance.mark('overview-ready');
  }, [ready]);

  return (
    <div data-ready={ready ? 'overview' : undefined}>
      <PageHeader title="Overview" description={`${org?.name} · ${plan.data?.tier.name ?? '…'} plan`} />
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title="Credits and tokens" className="lg:col-span-2" actions={<Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to="/billing">Billing</Link>}>
          {wallet.error ? (
            <ErrorNote error={wallet.error} />
          ) : (
            <div className="mb-4 grid grid-cols-3 gap-4">
              <Stat label="Balance" value={num(wallet.data?.balance)} />
              <Stat label="Available" value={num(wallet.data?.available)} />
              <Stat label="Held" value={num(wallet.data?.holds)} hint="reserved by running paid work" />
            </div>
          )}
          {tokens.data && (
            <p className="mb-2 text-sm">
              Tokens: {num(tokens.data.balance)} ({num(tokens.data.available)} available, {num(tokens.data.holds)} held)
            </p>
          )}
          <LedgerChart currency="credits" />
        </Card>
        <Card title={`Plan: ${plan.data?.tier.name ?? '…'}`}>
          {plan.error && <ErrorNote error={plan.error} />}
          {plan.data ? (
            <div className="space-y-3">
              {Object.entries(plan.data.usage)
                .filter(([k]) => k !== 'storage_bytes' && k !== 'agents')
                .map(([k, u]) => (
                  <UsageBar key={k} label={USAGE_LABELS[k] ?? k} used={u.used} limit={u.limit} />
                ))}
              <p className="text-xs text-zinc-600 dark:text-zinc-400">Resets {when(plan.data.reset_at)}</p>
            </div>
          ) : (
            !plan.error && <Loading />
          )}
        </Card>
        <Card title="Queue" actions={<Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to="/queue">Jobs</Link>}>
          <div className="grid grid-cols-3 gap-3">
            <Stat label="Backlog" value={num(backlog.waiting)} />
            <Stat label="Running" value={num(backlog.active)} />
            <Stat label="Failed" value={num(backlog.failed)} />
          </div>
        </Card>
        <Card title="Webhooks" actions={<Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to="/webhooks">Endpoints</Link>}>
          {failing.length === 0 && (failed.data?.data.length ?? 0) === 0 ? (
            <p className="text-sm">{hooks.data?.data.length ? 'All endpoints healthy.' : 'No endpoints yet.'}</p>
          ) : (
            <ul className="space-y-1 text-sm">
              {failing.map((h) => (
                <li key={h.id} className="flex gap-2">
                  <Badge tone="red">{h.enabled ? 'failing' : 'disabled'}</Badge>
                  <Link to={`/webhooks/${h.id}`} className="truncate underline">
                    {h.url}
                  </Link>
                </li>
              ))}
              {(failed.data?.data ?? []).map((d) => (
                <li key={d.id} className="truncate">
                  {d.event_type} → {d.last_status_code ?? 'no answer'} · {when(d.created_at)}
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Notifications" actions={<Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to="/notifications">All</Link>}>
          <ul className="space-y-2 text-sm">
            {(notes.data?.data ?? []).map((n) => (
              <li key={n.id} className={n.read ? 'text-zinc-600 dark:text-zinc-400' : 'font-medium'}>
                {n.title} <span className="text-xs font-normal text-zinc-600 dark:text-zinc-400">· {when(n.created_at)}</span>
              </li>
            ))}
            {notes.data?.data.length === 0 && <li>Nothing new.</li>}
          </ul>
        </Card>
        <Card title="Recent activity" className="lg:col-span-3" actions={<Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to="/activity">Activity log</Link>}>
          <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
            {(activity.data?.data ?? []).map((a) => (
              <li key={a.id} className="flex justify-between gap-3 py-1.5">
                <span>
                  <code className="text-xs">{a.action}</code> {a.entity_type} {a.entity_id ?? ''}
                </span>
                <span className="shrink-0 text-zinc-600 dark:text-zinc-400">{when(a.created_at)}</span>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </div>
  );
}
