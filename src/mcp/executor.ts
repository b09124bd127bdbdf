// How an MCP tool runs an operation: by making the very HTTP request an API client would make, so auth, scopes,
// rate limits, idempotency, validation, billing and the request log apply exactly as they do for REST. The stdio
// server reaches a running API with fetch; POST /mcp replays the request into its own Fastify app with inject.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Contract } from '../cli/contract.ts';
import { toOperationRequest } from '../core/http-request.ts';
import { VERSION } from '../version.ts';

export interface ApiResult {
  status: number;
  body: unknown;
}

/** Runs `op` with the tool's arguments (path params, query and body merged, as in its input). */
export type Executor = (op: Contract, input: Record<string, unknown>, signal?: AbortSignal) => Promise<ApiResult>;

/** The API could not be asked at all; the tool returns it as an error result with this code. */
export class Unreachable extends Error {
  readonly code = 'unavailable';
}

export interface ApiRequest {
  method: Contract['method'];
  /** Path and query string, e.g. `/api/v1/keys?limit=5`. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The request for `op`, sent with the tool's arguments as given: the API validates them. */
export function toRequest(op: Contract, input: Record<string, unknown>): ApiRequest {
  const { path, query, body } = toOperationRequest(op, input);
  // JSON always: a `binary` operation (files.download) then answers with its bytes in base64 inside the JSON, and an
  // upload (files.create) sends them base64 in its `upload.field`.
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': `opsbase-mcp/${VERSION}` };
  // A fresh key per tool call: a retried HTTP request is never run twice, two calls are two actions.
  if (op.method === 'POST') headers['idempotency-key'] = randomUUID();
  if (!body) {
    const qs = query?.toString();
    return { method: op.method, url: qs ? `${path}?${qs}` : path, headers };
  }
  headers['content-type'] = 'application/json';
  return { method: op.method, url: path, headers, body: JSON.stringify(body) };
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
      throw new Unreachable(`Cannot reach the Opsbase API at ${base} (${why}). Is the server running? Set --api-url or OPSBASE_API_URL.`);
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
