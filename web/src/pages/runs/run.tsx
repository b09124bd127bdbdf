// One run (/runs/:id): its facts (status, agent, model, timings, usage, credits, result or error) and its live events.
import { Link, useParams } from 'react-router';
import { Facts } from '../../ui/facts';
import { when } from '../../ui/format';
import { Badge, Button, Card, ErrorNote, Loading, PageHeader, Pre, toneOf } from '../../ui/kit';
import { OPEN, useCancelRun, useRun, useRunEvents } from './api';
import { EventLog } from './event-log';

export default function RunPage() {
  const id = useParams().id!;
  const run = useRun(id);
  const live = useRunEvents(id);
  const cancel = useCancelRun();
  if (run.isPending) return <Loading />;
  if (run.error) return <ErrorNote error={run.error} />;
  const r = run.data;
  const rows: [string, React.ReactNode][] = [
    ['Status', <Badge key="s" tone={toneOf(r.status)}>{r.status}</Badge>],
    ['Task', <Link key="t" to={`/tasks/${r.task_id}`}>{r.task_id}</Link>],
    ['Agent', r.agent_id ? <Link key="a" to={`/agents/${r.agent_id}`}>{r.agent_id}</Link> : '—'],
    ['Runtime', `${r.runtime}${r.model ? ` · ${r.model}` : ''}`],
    ['Attempt', r.attempt],
    ['Credits', `${r.credits_spent} spent of ${r.credits} held`],
    ['Tokens', `${r.tokens_in} in / ${r.tokens_out} out · ${r.steps} model call${r.steps === 1 ? '' : 's'}`],
    ['Queued', when(r.queued_at)],
    ['Started', when(r.started_at)],
    ['Finished', when(r.finished_at)],
    ['Duration', r.duration_ms == null ? '—' : `${(r.duration_ms / 1000).toFixed(2)} s`],
    ['Rules', r.rule_ids.length ? r.rule_ids.join(', ') : '—'],
  ];
  return (
    <>
      <PageHeader
        title={`Run ${r.id}`}
        description={r.reason ? `Ended: ${r.reason}` : undefined}
        actions={
          OPEN.includes(r.status) && !r.cancel_requested_at ? (
            <Button variant="secondary" onClick={() => cancel.mutate(r.id)} disabled={cancel.isPending}>
              Cancel run
            </Button>
          ) : undefined
        }
      />
      {cancel.error && <ErrorNote error={cancel.error} />}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Run">
          <Facts rows={rows} />
          {r.error && (
            <p className="mt-3 text-sm">
              <Badge tone="red">{r.error.code}</Badge> {r.error.message}
            </p>
          )}
          {r.result && <Pre className="mt-3">{r.result}</Pre>}
        </Card>
        <Card title="Events">
          <EventLog events={live.events} ended={live.ended} />
        </Card>
      </div>
    </>
  );
}
