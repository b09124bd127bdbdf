// `--follow` (an operation that also streams) and `--wait` (an operation whose answer names something to follow):
// reads the operation's Server-Sent Events and prints each one — a line a person can read, or the event as one JSON
// line with --json. A dropped connection is resumed from the last event seen (Last-Event-ID), so nothing is missed
// or printed twice. Resolves with the final status the stream's `end` event reports.
import type { IncomingMessage } from 'node:http';
import { VERSION } from '../version.ts';
import type { Target } from './client.ts';
import { NetworkError } from './client.ts';

interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

export interface FollowOutcome {
  /** The `end` event's status; null when the stream never ended (the server kept failing). */
  status: string | null;
  /** An error response when the stream could not be opened. */
  error?: { status: number; text: string };
}

const RETRIES = 5;

/** Parses an SSE byte stream into events (the subset servers send: id, event, data; comments skipped). */
function parser(onEvent: (e: SseEvent) => void) {
  let buffer = '';
  let current: SseEvent = { id: null, event: 'message', data: '' };
  return (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (current.data || current.event !== 'message') onEvent(current);
        current = { id: null, event: 'message', data: '' };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') current.id = value;
        else if (field === 'event') current.event = value;
        else if (field === 'data') current.data += current.data ? `\n${value}` : value;
      }
      nl = buffer.indexOf('\n');
    }
  };
}

function open(url: string, headers: Record<string, string>, onEvent: (e: SseEvent) => void): Promise<{ status: number; text?: string }> {
  const target = new URL(url);
  const client = process.getBuiltinModule(target.protocol === 'https:' ? 'node:https' : 'node:http');
  return new Promise((resolve, reject) => {
    const req = client.request(target, { method: 'GET', headers, agent: false }, (res: IncomingMessage) => {
      res.setEncoding('utf8');
      if ((res.statusCode ?? 0) >= 400) {
        let text = '';
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        return;
      }
      const feed = parser(onEvent);
      res.on('data', feed);
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(err));
    req.end();
  });
}

/** One readable line per run event (the shapes runs.events sends); anything else as its JSON. */
export function describeEvent(type: string, payload: Record<string, any>): string {
  const d = payload.data ?? {};
  const seq = payload.seq !== undefined ? `#${payload.seq} ` : '';
  const clip = (v: unknown, n = 160) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > n ? `${s.slice(0, n)}…` : s;
  };
  switch (type) {
    case 'status':
      return `${seq}status ${d.status}${d.attempt ? ` (attempt ${d.attempt})` : ''}${d.reason ? ` — ${d.reason}` : ''}`;
    case 'message':
      return `${seq}model: ${clip(d.text, 400)}`;
    case 'tool_call':
      return `${seq}→ ${d.tool} ${clip(d.args)}`;
    case 'tool_result':
      return `${seq}← ${d.tool}${d.is_error ? ' (error)' : ''} ${clip(d.result)}`;
    case 'usage':
      return `${seq}usage: ${d.total?.input_tokens ?? '?'} in / ${d.total?.output_tokens ?? '?'} out tokens so far`;
    case 'log':
      return `${seq}${d.level ?? 'log'}: ${d.message ?? clip(d)}`;
    case 'result':
      return `${seq}result:\n${d.result}`;
    case 'error':
      return `${seq}error ${d.code}: ${d.message}`;
    case 'end':
      return `ended: ${payload.status}`;
    default:
      return `${seq}${type} ${clip(d)}`;
  }
}

export async function follow(target: Target, path: string, json: boolean | undefined): Promise<FollowOutcome> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'user-agent': `opsbase-cli/${VERSION}` };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (target.orgId) headers['x-org-id'] = target.orgId;
  let lastId: string | null = null;
  let ended: string | null = null;
  const onEvent = (e: SseEvent) => {
    if (e.id) lastId = e.id;
    let payload: Record<string, any>;
    try {
      payload = JSON.parse(e.data);
    } catch {
      payload = { data: e.data };
    }
    if (e.event === 'end') ended = String(payload.status ?? '');
    if (json) console.log(JSON.stringify({ event: e.event, ...payload }));
    else console.log(describeEvent(e.event, payload));
  };
  for (let attempt = 0; attempt <= RETRIES && ended === null; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 1000 * attempt));
    let res: { status: number; text?: string };
    try {
      res = await open(`${target.apiUrl}${path}`, lastId ? { ...headers, 'last-event-id': lastId } : headers, onEvent);
    } catch (err) {
      if (attempt === RETRIES) throw new NetworkError(target.apiUrl, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
      continue;
    }
    if (res.status >= 400) return { status: null, error: { status: res.status, text: res.text ?? '' } };
  }
  return { status: ended };
}
