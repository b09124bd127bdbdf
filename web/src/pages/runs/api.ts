// Runs on the dashboard: the list of a task's runs, one run, cancel, and the live event log fed by the run's own
// Server-Sent Events stream (GET /runs/{id}/events with Accept: text/event-stream). EventSource resumes after a
// dropped connection from the last event it saw (Last-Event-ID), so the log never repeats or misses a line.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, currentOrg, ok } from '../../api/client';
import type { Schemas } from '../../app/session';

export type Run = Schemas['Run'];
export type RunEvent = Schemas['RunEvent'];
export const OPEN: Run['status'][] = ['queued', 'running'];
export const EVENT_TYPES = ['status', 'log', 'message', 'tool_call', 'tool_result', 'usage', 'result', 'error'] as const;

export function useTaskRuns(taskId: string) {
  return useQuery({
    queryKey: ['runs', 'task', taskId],
    queryFn: () => ok(api.GET('/api/v1/runs', { params: { query: { task: taskId, limit: 20 } } })),
  });
}

export function useRun(id: string) {
  return useQuery({ queryKey: ['runs', 'one', id], queryFn: () => ok(api.GET('/api/v1/runs/{id}', { params: { path: { id } } })) });
}

export function useCancelRun() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => ok(api.POST('/api/v1/runs/{id}/cancel', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['runs'] }),
  });
}

/** A run's events as they happen: the stream replays what came before, then follows; refreshes run and task at the end. */
export function useRunEvents(runId: string | undefined) {
  const qc = useQueryClient();
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [ended, setEnded] = useState(false);
  useEffect(() => {
    setEvents([]);
    setEnded(false);
    if (!runId) return;
    const org = currentOrg();
    const src = new EventSource(`/api/v1/runs/${encodeURIComponent(runId)}/events${org ? `?org=${encodeURIComponent(org)}` : ''}`);
    const onEvent = (e: MessageEvent) => {
      const ev = JSON.parse(e.data) as RunEvent;
      setEvents((all) => (all.some((x) => x.seq === ev.seq) ? all : [...all, ev]));
      if (ev.type === 'status') qc.invalidateQueries({ queryKey: ['runs'] });
    };
    for (const t of EVENT_TYPES) src.addEventListener(t, onEvent as EventListener);
    src.addEventListener('end', () => {
      setEnded(true);
      src.close();
      qc.invalidateQueries({ queryKey: ['runs'] });
      qc.invalidateQueries({ queryKey: ['tasks'] });
      qc.invalidateQueries({ queryKey: ['wallet'] });
    });
    return () => src.close();
  }, [runId, qc]);
  return { events, ended };
}
