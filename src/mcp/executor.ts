// How an MCP tool runs an operation: by making the very HTTP request an API client would make, so auth, scopes,
// rate limits, idempotency, validation, billing and the request log apply exactly as they do for REST. The stdio
// server reaches a running API with fetch; POST /mcp replays the request into its own Fastify app with inject.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { Operation } from '../core/operation.ts';
import { routePath } from '../http/server.ts';
import { VERSION } from '../version.ts';

export interface ApiResult {
  status: number;
  body: unknown;
}

/** Runs `op` with the tool's arguments (path params, query and body merged, as in `op.input`). */
export type Executor = (op: Operation, input: Record<string, unknown>, signal?: AbortSignal) => Promise<ApiResult>;

export interface ApiRequest {
  method: Operation['method'];
  /** Path and query string, e.g. `/api/v1/keys?limit=5`. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function queryValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap(queryValues);
  return [typeof value === 'object' ? JSON.stringify(value) : String(value)];
}

/**
 * The request for `op`: path parameters fill the path, the rest goes to the query (GET) or the JSON body. The
 * arguments are sent as given: the API validates them with `op.input`, so an agent gets the same
 * `invalid_request` details a REST client would, from one place.
 */
export function toRequest(op: Operation, input: Record<string, unknown>): ApiRequest {
  const rest: Record<string, unknown> = { ...input };
  let path = routePath(op);
  for (const name of op.pathParams) {
    const value = rest[name];
    delete rest[name];
    // An empty segment would silently route elsewhere (`/keys/` is the list), so refuse it here.
    if ((typeof value !== 'string' && typeof value !== 'number') || value === '') {
      throw new AppError('invalid_request', `Missing required argument \`${name}\`.`, [{ field: name, location: 'params', message: 'required' }]);
    }
    path = path.replace(`:${name}`, encodeURIComponent(String(value)));
  }
  const headers: Record<string, string> = { 'user-agent': `opsbase-mcp/${VERSION}` };
  // A fresh key per tool call: a retried HTTP request is never run twice, two calls are two actions.
  if (op.method === 'POST') headers['idempotency-key'] = randomUUID();
  // As server.ts reads it: GET input from the query string, every other method from a JSON body.
  if (op.method === 'GET') {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(rest)) for (const s of queryValues(v)) query.append(k, s);
    const qs = query.toString();
    return { method: op.method, url: qs ? `${path}?${qs}` : path, headers };
  }
  headers['content-type'] = 'application/json';
  return { method: op.method, url: path, headers, body: JSON.stringify(rest) };
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface FetchExecutorOptions {
  baseUrl: string;
  /** API key or session token; without one, only public operations succeed (the API answers 401). */
  credential?: string;
  /** For a session token: which org to act in (`X-Org-Id`). */
  orgId?: string;
  timeoutMs?: number;
}

/** For `opsbase mcp` (stdio): calls a running API over HTTP. */
export function fetchExecutor({ baseUrl, credential, orgId, timeoutMs = 120_000 }: FetchExecutorOptions): Executor {
  const base = baseUrl.replace(/\/+$/, '');
  return async (op, input, signal) => {
    const req = toRequest(op, input);
    if (credential) req.headers.authorization = `Bearer ${credential}`;
    if (orgId) req.headers['x-org-id'] = orgId;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(base + req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new AppError(
        'unavailable',
        `Cannot reach the Opsbase API at ${base} (${why}). Is the server running? Set --api-url or OPSBASE_API_URL.`,
      );
    }
    return { status: res.status, body: parseBody(await res.text()) };
  };
}

/**
 * For POST /mcp: the request runs through `app`'s own routes in process, carrying the MCP caller's credential
 * (`headers`: authorization and, for sessions, x-org-id) and address, so rate limits and logs see the real caller.
 */
export function injectExecutor(app: FastifyInstance, headers: Record<string, string>, remoteAddress?: string): Executor {
  return async (op, input) => {
    const req = toRequest(op, input);
    const res = await app.inject({
      method: req.method,
      url: req.url,
      headers: { ...req.headers, ...headers },
      payload: req.body,
      remoteAddress,
    });
    return { status: res.statusCode, body: parseBody(res.body) };
  };
}
