// The latency loops' HTTP client: node:http on keep-alive sockets, the body read whole as text. Not fetch: on this
// 2-core machine fetch's own cost is large enough to be measured as the server's — a bare Fastify answering a fixed
// 45 KB body measured p50 0.8 / p99 9.5 ms through fetch, 0.6 / 2.2 ms through node:http, 4 callers each.
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET `path` (under `base`) with `headers`, on a keep-alive agent shared by every call of this client. */
export function keepAliveGetter(base: string, headers: Record<string, string> = {}) {
  const agent = new http.Agent({ keepAlive: true });
  return (path: string) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const req = http.get(`${base}${path}`, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
}
