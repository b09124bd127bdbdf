// One HTTP request with node:http(s), for the CLI. Not fetch: undici, behind fetch, takes ~50 ms to load, a third
// of the CLI's start-up budget, where node:http takes ~7. And through process.getBuiltinModule rather than an ESM
// `import`: importing node:http as ESM evaluates every lazy export of the builtin — undici included — on the spot.
import type { IncomingMessage } from 'node:http';

export interface HttpResponse {
  status: number;
  /** The body, unless it went to a sink. */
  text: string;
  /** How many bytes went to the sink, when one took the body. */
  streamed?: number;
}

/**
 * Where a successful (2xx) answer's body goes instead of memory: a download of any size streams through. `end`: the
 * stream is this request's to end (a file), not one that outlives it (standard output).
 */
export interface BodySink {
  stream: NodeJS.WritableStream;
  end: boolean;
}

/** A request that got no response; `reason` is the system's code (ECONNREFUSED, ENOTFOUND…) or says what happened. */
export class HttpFailure extends Error {
  readonly reason: string;
  /** It failed while a successful answer's body was coming (a download cut short), not before any answer. */
  readonly midBody: boolean;
  constructor(reason: string, midBody = false) {
    super(reason);
    this.name = 'HttpFailure';
    this.reason = reason;
    this.midBody = midBody;
  }
}

export function httpRequest(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string | Buffer; timeoutMs: number; sink?: () => BodySink },
): Promise<HttpResponse> {
  const target = new URL(url);
  const client = process.getBuiltinModule(target.protocol === 'https:' ? 'node:https' : 'node:http');
  const headers = { ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) };
  return new Promise((resolve, reject) => {
    // agent: false — one connection, closed after the response: a kept-alive socket would hold the process open.
    const req = client.request(target, { method: opts.method, headers, agent: false }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const fail = (err: NodeJS.ErrnoException) => reject(new HttpFailure(err instanceof HttpFailure ? err.reason : (err.code ?? err.message), true));
      const sink = status >= 200 && status < 300 ? opts.sink?.() : undefined;
      if (sink) {
        let streamed = 0;
        res.on('data', (chunk: Buffer) => {
          streamed += chunk.length;
        });
        // A body cut short (the server or the connection gone) is an error, never a complete download.
        res.on('close', () => {
          if (!res.complete) fail(new HttpFailure('the connection closed before the whole body came'));
        });
        res.on('error', fail);
        sink.stream.on('error', fail);
        const done = () => resolve({ status, text: '', streamed });
        if (sink.end) sink.stream.on('finish', () => (res.complete ? done() : fail(new HttpFailure('the body ended early'))));
        else res.on('end', () => (res.complete ? done() : fail(new HttpFailure('the body ended early'))));
        res.pipe(sink.stream, { end: sink.end });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err: NodeJS.ErrnoException) => reject(new HttpFailure(err.code ?? err.message)));
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(new HttpFailure(`no answer within ${opts.timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof HttpFailure ? err : new HttpFailure(err.code ?? err.message)));
    req.end(opts.body);
  });
}
