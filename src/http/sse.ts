// Server-Sent Events on a Fastify reply: the headers every stream needs, a keepalive comment so idle proxies keep
// the connection, and the client's `Last-Event-ID` (sent by EventSource when it reconnects) to resume from.
import type { FastifyReply, FastifyRequest } from 'fastify';

const KEEPALIVE_MS = 25_000;

export interface EventStream {
  /** One event; `id` becomes the client's Last-Event-ID when it reconnects. */
  send: (event: string, data: unknown, id?: string | number) => void;
  /** Aborted when the client hangs up or the server shuts the stream. */
  closed: AbortSignal;
  end: () => void;
  /** What the client last saw before reconnecting (header, or `?last_event_id=` for clients that cannot set it). */
  lastEventId: string | null;
}

export const wantsEventStream = (req: FastifyRequest) => (req.headers.accept ?? '').includes('text/event-stream');

export function openEventStream(req: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // A buffering reverse proxy (nginx) would hold the events back.
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const controller = new AbortController();
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  res.on('close', () => {
    clearInterval(keepalive);
    controller.abort();
  });
  const header = req.headers['last-event-id'];
  const query = (req.query as { last_event_id?: unknown } | undefined)?.last_event_id;
  return {
    send: (event, data, id) => {
      if (controller.signal.aborted) return;
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    closed: controller.signal,
    end: () => res.end(),
    lastEventId: typeof header === 'string' ? header : typeof query === 'string' ? query : null,
  };
}
