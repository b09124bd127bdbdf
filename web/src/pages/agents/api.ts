// What the agent pages share: the list (one page of up to 200: an org's workforce, and what the org chart needs
// whole), status colours, and start / stop / restart.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import type { Tone } from '../../ui/kit';

export type Agent = Schemas['Agent'];
export type Lifecycle = 'start' | 'stop' | 'restart';

export const useAgents = () =>
  useQuery({ queryKey: ['agents', 'list'], queryFn: () => ok(api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })) });

export function agentTone(s: Agent['status']): Tone {
  return s === 'active' || s === 'running' ? 'green' : s === 'paused' ? 'amber' : s === 'error' ? 'red' : s === 'idle' ? 'blue' : 'gray';
}

export const agentLabel = (a: Pick<Agent, 'name' | 'display_name' | 'emoji'>) => `${a.emoji ? `${a.emoji} ` : ''}${a.display_name ?? a.name}`;

export function useLifecycle() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, verb }: { id: string; verb: Lifecycle }) => {
      const params = { params: { path: { id } }, body: {} };
      if (verb === 'start') return ok(api.POST('/api/v1/agents/{id}/start', params));
      if (verb === 'stop') return ok(api.POST('/api/v1/agents/{id}/stop', params));
      return ok(api.POST('/api/v1/agents/{id}/restart', params));
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ['agents'] }),
  });
}
