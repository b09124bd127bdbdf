// Outbound HTTP that keeps to the private-network guard at the moment it connects (DESIGN §5). checkOutboundUrl looks
// a host up before a request; fetch then looks it up again, and a host whose DNS answers change between the two (DNS
// rebinding: public for the check, 127.0.0.1 or 169.254.169.254 for the request) would reach inside. Here the
// addresses the socket connects to are the ones checked: the lookup itself refuses private answers.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { isPrivateAddress } from './net-guard.ts';

/** A DNS look-up that fails (code EPRIVATE) when any address of the host is private, loopback or link-local. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 4);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad)
      return callback(Object.assign(new Error(`refused: ${hostname} resolves to a private address (${bad.address})`), { code: 'EPRIVATE' }), '', 4);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

const agentOptions = { keepAlive: true, maxSockets: 32, timeout: 60_000 };
const agents = {
  open: { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) },
  guarded: { http: new http.Agent({ ...agentOptions, lookup: guardedLookup }), https: new https.Agent({ ...agentOptions, lookup: guardedLookup }) },
};

export interface GuardedInit {
  method?: string;
  headers?: ConstructorParameters<typeof Headers>[0];
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** OPSBASE_ALLOW_PRIVATE_NETWORK: private addresses allowed (local fakes, a LAN-only install). */
  allowPrivate: boolean;
}

/**
 * `fetch` through the guarded look-up: a WHATWG Response, redirects never followed (a 3xx comes back with its
 * Location, for the caller to check the next hop), a refused address rejecting with code EPRIVATE and an aborted
 * signal with its reason (a TimeoutError for AbortSignal.timeout), as fetch would.
 */
export function guardedFetch(input: string | URL, init: GuardedInit): Promise<Response> {
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`only http(s) URLs: ${url.protocol}`));
  // An address written as such is never looked up, so the look-up cannot refuse it: it is judged here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (!init.allowPrivate && isIP(literal) && isPrivateAddress(literal)) {
    return Promise.reject(Object.assign(new Error(`refused: ${literal} is a private address`), { code: 'EPRIVATE' }));
  }
  const secure = url.protocol === 'https:';
  const pool = init.allowPrivate ? agents.open : agents.guarded;
  const headers: Record<string, string> = Object.fromEntries(new Headers(init.headers));
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  const method = (init.method ?? 'GET').toUpperCase();
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, { method, headers, agent: secure ? pool.https : pool.http, signal: init.signal }, (res) => {
      const answer = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (Array.isArray(v)) for (const item of v) answer.append(k, item);
        else if (v !== undefined) answer.set(k, v);
      }
      const status = res.statusCode ?? 502;
      const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
      if (noBody) res.resume();
      const body = noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, statusText: res.statusMessage, headers: answer }));
    });
    req.on('error', (err) => reject(init.signal?.aborted ? init.signal.reason : err));
    req.end(init.body);
  });
}

/**
 * guardedFetch in fetch's own shape, for a library that takes a `fetch` (the AI SDK's providers, for a base URL an org
 * gave): a URL and an init whose body is text or bytes, as those libraries send.
 */
export function guardedFetchFunction(allowPrivate: boolean): typeof fetch {
  return ((input: string | URL | Request, init: RequestInit = {}) => {
    if (input instanceof Request) return Promise.reject(new TypeError('guardedFetch takes a URL, not a Request'));
    const body = init.body ?? undefined;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return Promise.reject(new TypeError('guardedFetch sends a text or bytes body only'));
    }
    return guardedFetch(input, { method: init.method, headers: init.headers, body, signal: init.signal ?? undefined, allowPrivate });
  }) as typeof fetch;
}
