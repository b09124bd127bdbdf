// One HTTP request with node:http(s), for the CLI. Not fetch: undici, behind fetch, takes ~50 ms to load, a third
// of the CLI's start-up budget, where node:http takes ~7. And through process.getBuiltinModule rather than an ESM
// `import`: importing node:http as ESM evaluates every lazy export of the builtin — undici included — on the spot.
import type { IncomingMessage } from 'node:http';

export interface HttpResponse {
  status: number;
  text: string;
  /** The body's bytes (a download's file). */
  bytes: Buffer;
}

/** A request that got no response; `reason` is the system's code (ECONNREFUSED, ENOTFOUND…) or says what happened. */
export class HttpFailure extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'HttpFailure';
    this.reason = reason;
  }
}

export function httpRequest(
  url: string,
  opts: { method: string; headers: Record<string, string>; body?: string | Buffer; timeoutMs: number },
): Promise<HttpResponse> {
  const target = new URL(url);
  const client = process.getBuiltinModule(target.protocol === 'https:' ? 'node:https' : 'node:http');
  const headers = { ...opts.headers, ...(opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) }) };
  return new Promise((resolve, reject) => {
    // agent: false — one connection, closed after the response: a kept-alive socket would hold the process open.
    const req = client.request(target, { method: opts.method, headers, agent: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, text: bytes.toString('utf8'), bytes });
      });
      res.on('error', (err: NodeJS.ErrnoException) => reject(new HttpFailure(err.code ?? err.message)));
    });
    req.setTimeout(opts.timeoutMs, () => req.destroy(new HttpFailure(`no answer within ${opts.timeoutMs / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof HttpFailure ? err : new HttpFailure(err.code ?? err.message)));
    req.end(opts.body);
  });
}
