// A task's runs on its page: run it (1 credit, confirmed first), the runs so far, and the live event log of the
// newest (or the one picked), with cancel while it is open.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../../api/client';
import { Confirm } from '../../ui/dialog';
import { when } from '../../ui/format';
import { Badge, Button, Card, ErrorNote, Muted, toneOf } from '../../ui/kit';
import { OPEN, useCancelRun, useRunEvents, useTaskRuns } from '../runs/api';
import { EventLog } from '../runs/event-log';
import type { TaskDetail } from './api';

export function RunsPanel({ task }: { task: TaskDetail }) {
  const qc = useQueryClient();
  const runs = useTaskRuns(task.id);
  const [asking, setAsking] = useState(false);
  const [picked, setPicked] = useState<string | undefined>();
  const start = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/tasks/{id}/run', { params: { path: { id: task.id } }, body: {} })),
    onSuccess: async (run) => {
      setAsking(false);
      setPicked(run.id);
      await qc.invalidateQueries({ queryKey: ['runs'] });
    },
  });
  const cancel = useCancelRun();
  const list = runs.data?.data ?? [];
  const current = picked ?? list[0]?.id;
  const live = useRunEvents(current);
  const open = list.some((r) => OPEN.includes(r.status));
  const agent = task.assignee?.type === 'agent' ? task.assignee.id : null;
  return (
    <Card
      title="Runs"
      actions={
        <Button onClick={() => setAsking(true)} disabled={open || start.isPending}>
          Run
        </Button>
      }
    >
      {start.error && <ErrorNote error={start.error} />}
      {cancel.error && <ErrorNote error={cancel.error} />}
      {runs.error && <ErrorNote error={runs.error} />}
      {list.length === 0 ? (
        <Muted>{agent ? 'No runs yet.' : 'No runs yet. Assign the task to an agent to run it.'}</Muted>
      ) : (
        <div className="space-y-3">
          <ul className="divide-y divide-gray-200 text-sm dark:divide-gray-700">
            {list.map((r) => (
              <li key={r.id} className="flex flex-wrap items-center gap-2 py-1.5">
                <button type="button" className="underline-offset-2 hover:underline" aria-pressed={r.id === current} onClick={() => setPicked(r.id)}>
                  <Badge tone={toneOf(r.status)}>{r.status}</Badge>
                </button>
                <Link to={`/runs/${r.id}`} className="font-mono text-xs">
                  {r.id}
                </Link>
                <span className="text-gray-600 dark:text-gray-300">
                  {when(r.queued_at)} · {r.credits_spent} credit{r.credits_spent === 1 ? '' : 's'} · {r.tokens_in + r.tokens_out} tokens
                  {r.duration_ms != null ? ` · ${(r.duration_ms / 1000).toFixed(1)} s` : ''}
                  {r.reason ? ` · ${r.reason}` : ''}
                </span>
                {OPEN.includes(r.status) && !r.cancel_requested_at && (
                  <Button variant="secondary" onClick={() => cancel.mutate(r.id)} disabled={cancel.isPending}>
                    Cancel
                  </Button>
                )}
              </li>
            ))}
          </ul>
          <EventLog events={live.events} ended={live.ended} />
        </div>
      )}
      <Confirm
        open={asking}
        onOpenChange={setAsking}
        title={`Run #${task.number}`}
        description={`Costs 1 credit, held now: committed if the run succeeds, refunded if it fails, times out or is cancelled.${agent ? '' : ' The task has no agent assigned: the server will say so.'}`}
        confirmLabel="Run for 1 credit"
        busy={start.isPending}
        onConfirm={() => start.mutate()}
      />
    </Card>
  );
}
