// A run's events, one line each, in order, as they arrive: status changes, model messages, tool calls with their
// arguments and results, usage, the result or the error. The list is a live region so screen readers hear new lines.
import { Badge, Muted, Pre } from '../../ui/kit';
import type { RunEvent } from './api';

const clip = (v: unknown, n = 400) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 1);
  return s.length > n ? `${s.slice(0, n)}…` : s;
};

function Line({ e }: { e: RunEvent }) {
  const d = e.data as Record<string, any>;
  switch (e.type) {
    case 'status':
      return (
        <span>
          <Badge tone={d.status === 'succeeded' ? 'green' : d.status === 'running' || d.status === 'queued' ? 'blue' : 'red'}>{String(d.status)}</Badge>
          {d.attempt ? ` attempt ${d.attempt}` : ''}
          {d.reason ? ` — ${d.reason}` : ''}
        </span>
      );
    case 'message':
      return <span>model: {clip(d.text)}</span>;
    case 'tool_call':
      return (
        <span>
          → <code>{d.tool}</code> {clip(d.args, 200)}
        </span>
      );
    case 'tool_result':
      return (
        <span>
          ← <code>{d.tool}</code> {d.is_error ? <Badge tone="red">error</Badge> : null} {clip(d.result, 200)}
        </span>
      );
    case 'usage':
      return (
        <span>
          usage: {d.total?.input_tokens} in / {d.total?.output_tokens} out tokens so far
        </span>
      );
    case 'result':
      return <Pre>{String(d.result)}</Pre>;
    case 'error':
      return (
        <span>
          <Badge tone="red">{String(d.code)}</Badge> {String(d.message)}
        </span>
      );
    default:
      return <span>{d.message ? String(d.message) : clip(d)}</span>;
  }
}

export function EventLog({ events, ended }: { events: RunEvent[]; ended: boolean }) {
  if (!events.length) return <Muted>{ended ? 'No events.' : 'Waiting for events…'}</Muted>;
  return (
    <ol aria-label="Run events" aria-live="polite" className="space-y-1 font-mono text-xs">
      {events.map((e) => (
        <li key={e.seq} className="flex gap-2">
          <span className="w-8 shrink-0 text-right text-gray-500 dark:text-gray-400">{e.seq}</span>
          <span className="w-24 shrink-0 text-gray-600 dark:text-gray-300">{e.type}</span>
          <span className="min-w-0 break-words">
            <Line e={e} />
          </span>
        </li>
      ))}
      {!ended && <li className="text-gray-500 dark:text-gray-400">…live</li>}
    </ol>
  );
}
