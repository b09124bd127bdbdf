// What the task pages share: the status and priority vocabulary, the list query (cursor pages, or offset pages when
// a search ranks the results), the quota, and the one mutation every status change goes through.
import { type InfiniteData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { Schemas } from '../../app/session';
import type { Tone } from '../../ui/kit';
import { useAgents } from '../agents/api';

export type Task = Schemas['Task'];
export type TaskDetail = Schemas['TaskDetail'];
export type Status = Task['status'];
export type Priority = Task['priority'];

export const STATUSES: Status[] = ['backlog', 'todo', 'in_progress', 'in_review', 'blocked', 'done', 'cancelled'];
export const PRIORITIES: Priority[] = ['P0', 'P1', 'P2', 'P3'];
export const TYPES: Task['type'][] = ['feature', 'bug', 'research', 'ops', 'infra', 'content', 'other'];
export const statusLabel = (s: string) => (s === 'todo' ? 'To do' : (s.charAt(0).toUpperCase() + s.slice(1)).replace('_', ' '));
export const statusOptions = STATUSES.map((s) => ({ value: s, label: statusLabel(s) }));

export function statusTone(s: Status): Tone {
  return s === 'done' ? 'green' : s === 'blocked' ? 'red' : s === 'in_progress' || s === 'in_review' ? 'blue' : s === 'cancelled' ? 'gray' : 'amber';
}
export const priorityTone = (p: Priority): Tone => (p === 'P0' ? 'red' : p === 'P1' ? 'amber' : 'gray');

/**
 * How an assignee reads: `me`, `agent:writer`, `user:usr_…`; what the API accepts back is the same text. The API
 * stores an agent by its id; `agentNames` (useAgentNames) turns it back into the name people gave it.
 */
export function assigneeText(a: Task['assignee'], meId?: string, agentNames?: Map<string, string>): string {
  if (!a) return '';
  if (a.type === 'agent') return `agent:${agentNames?.get(a.id) ?? a.id}`;
  return a.id === meId ? 'me' : `user:${a.id}`;
}

/** The org's agents by id → name (the agents list the pages already load). */
export function useAgentNames(): Map<string, string> {
  const agents = useAgents();
  return new Map((agents.data?.data ?? []).map((a) => [a.id, a.name]));
}

export interface Filters {
  q: string;
  status: string;
  priority: string;
  assignee: string;
  tag: string;
}
export const NO_FILTERS: Filters = { q: '', status: '', priority: '', assignee: '', tag: '' };

type ListPage = Awaited<ReturnType<typeof fetchTasks>>;
const PAGE = 30;
function fetchTasks(f: Filters, page: string | number | undefined) {
  const query: Record<string, string | number> = { limit: PAGE };
  for (const k of ['q', 'status', 'priority', 'assignee', 'tag'] as const) if (f[k].trim()) query[k] = f[k].trim();
  if (typeof page === 'string') query.cursor = page;
  if (typeof page === 'number') query.offset = page;
  return ok(api.GET('/api/v1/tasks', { params: { query } }));
}

/** Tasks matching the filters, page after page. A ranked search (`q`) has no stable cursor, so it pages by offset. */
export function useTasks(f: Filters) {
  const q = useInfiniteQuery<ListPage, Error, InfiniteData<ListPage>, unknown[], string | number | undefined>({
    queryKey: ['tasks', 'list', f],
    queryFn: ({ pageParam }) => fetchTasks(f, pageParam),
    initialPageParam: undefined,
    getNextPageParam: (last, all) => {
      if (!last.meta.has_more) return undefined;
      return f.q.trim() ? all.length * PAGE : (last.meta.next_cursor ?? undefined);
    },
  });
  return { ...q, rows: q.data?.pages.flatMap((p) => p.data) ?? [] };
}

/** Today's creation quota (every list response carries it; one row is the cheapest way to ask). */
export const useQuota = () =>
  useQuery({
    queryKey: ['tasks', 'quota'],
    queryFn: async () => {
      const { used_today, limit, remaining, reset_at } = await ok(api.GET('/api/v1/tasks', { params: { query: { limit: 1 } } }));
      return { used_today, limit, remaining, reset_at };
    },
  });

/** Changes fields of a task; everything showing tasks refetches once the server has answered. */
export function useUpdateTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: { id: string } & Partial<Record<string, unknown>>) =>
      ok(api.PATCH('/api/v1/tasks/{id}', { params: { path: { id } }, body: body as never })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tasks'] }),
  });
}
