// A tiny stand-in for the outside services whose connection tests only read one endpoint (OpenAI-compatible
// `/models`, Anthropic `/v1/models`, Slack `auth.test` and incoming webhooks, Meta `/me`): it answers `routes` when the
// request carries the expected credential, 401 otherwise, and records every request it gets.
import { createServer, type IncomingMessage } from 'node:http';

export interface VendorRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeVendor {
  url: string;
  requests: VendorRequest[];
  close: () => Promise<void>;
}

/** `auth(req)` says whether the credential is right; each route answers `METHOD /path` with a JSON body. */
export async function startFakeVendor(routes: Record<string, unknown>, auth: (req: VendorRequest) => boolean): Promise<FakeVendor> {
  const requests: VendorRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const r: VendorRequest = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body };
      requests.push(r);
      const answer = routes[`${r.method} ${r.path}`];
      // Like some vendors, the refusal quotes the credential it got back: the caller must not pass that on.
      const refusal = { error: { message: `Incorrect API key provided: ${r.headers.authorization ?? r.headers['x-api-key'] ?? 'none'}` } };
      const [status, out] = answer === undefined ? [404, { error: 'not found' }] : auth(r) ? [200, answer] : [401, refusal];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
