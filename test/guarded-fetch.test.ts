// guardedFetch (core/guarded-fetch.ts): outbound HTTP that refuses private addresses as it connects — not only in a
// check made before it — so a host whose DNS changes between the check and the request (rebinding) cannot reach
// inside. Real sockets to a real server on loopback: refused without OPSBASE_ALLOW_PRIVATE_NETWORK, served with it.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { guardedFetch } from '../src/core/guarded-fetch.ts';

let server: Server;
let port: number;
const seen: { method?: string; body: string; headers: IncomingMessage['headers'] }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method, body, headers: req.headers });
      if (req.url === '/redirect') return res.writeHead(302, { location: '/elsewhere' }).end();
      if (req.url === '/empty') return res.writeHead(204).end();
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }).end(`hello ${req.method}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('a host that resolves to a private address is refused as it connects, with no check before it', async () => {
  const before = seen.length;
  for (const url of [`http://localhost:${port}/`, `http://127.0.0.1:${port}/`, `http://[::1]:${port}/`]) {
    await assert.rejects(guardedFetch(url, { allowPrivate: false }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EPRIVATE', `${url}: ${err.message}`);
      assert.match(err.message, /private address/);
      return true;
    });
  }
  assert.equal(seen.length, before, 'nothing reached the server');
});

test('allowed: status, headers (repeated ones kept), body; a POST body arrives; redirects come back unfollowed', async () => {
  const res = await guardedFetch(`http://localhost:${port}/x`, { allowPrivate: true });
  assert.deepEqual([res.status, await res.text(), res.headers.get('content-type')], [200, 'hello GET', 'text/plain']);
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
  const posted = await guardedFetch(`http://127.0.0.1:${port}/p`, { method: 'POST', body: '{"k":"é"}', headers: { 'content-type': 'application/json' }, allowPrivate: true });
  assert.equal(await posted.text(), 'hello POST');
  assert.deepEqual([seen.at(-1)?.body, seen.at(-1)?.headers['content-length']], ['{"k":"é"}', '10']);
  const moved = await guardedFetch(`http://127.0.0.1:${port}/redirect`, { allowPrivate: true });
  assert.deepEqual([moved.status, moved.headers.get('location')], [302, '/elsewhere']);
  assert.equal(seen.at(-1)?.method, 'GET');
  const empty = await guardedFetch(`http://127.0.0.1:${port}/empty`, { allowPrivate: true });
  assert.deepEqual([empty.status, empty.body], [204, null]);
});

test('a timeout rejects with the signal’s TimeoutError, as fetch does; other schemes are refused', async () => {
  await assert.rejects(guardedFetch(`http://127.0.0.1:${port}/slow`, { allowPrivate: true, signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
  await assert.rejects(guardedFetch('file:///etc/passwd', { allowPrivate: true }), TypeError);
});
