// How an operation maps onto HTTP, in one place for the server (routes), the CLI and MCP (requests): the path
// under /api/v1 (probes under /api), path parameters from the input, the rest in the query string (GET) or a
// JSON body (every other method: a DELETE may carry a password confirmation, which never belongs in a URL).
// No runtime imports: the CLI loads this file, and must start without zod (which src/core/errors.ts pulls in).
import type { Operation } from './operation.ts';

export const API_PREFIX = '/api/v1';

/** What of an operation (or of its contract, src/cli/contract.ts) the mapping needs. */
type Route = Pick<Operation, 'method' | 'path' | 'pathParams'>;

export const routePath = (op: Pick<Route, 'path'>): string => (op.path.startsWith('/api/') ? op.path : `${API_PREFIX}${op.path}`);

export const takesBody = (op: Pick<Route, 'method'>): boolean => op.method !== 'GET';

/** A path parameter was missing or empty: an `invalid_request` (MCP returns it as a tool error; the CLI cannot hit it). */
export class MissingArgument extends Error {
  readonly code = 'invalid_request';
  readonly details: { field: string; location: 'params'; message: string }[];
  constructor(field: string) {
    super(`Missing required argument \`${field}\`.`);
    this.name = 'MissingArgument';
    this.details = [{ field, location: 'params', message: 'required' }];
  }
}

function queryValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap(queryValues);
  return [typeof value === 'object' ? JSON.stringify(value) : String(value)];
}

export interface OperationRequest {
  /** The filled path, without query string. */
  path: string;
  query?: URLSearchParams;
  body?: Record<string, unknown>;
}

/**
 * Splits `input` (path params, query and body merged, as in `op.input`) into the request a client sends.
 * `fileBody`: an upload whose body is the file itself (the CLI's): the rest of the input goes in the query string.
 */
export function toOperationRequest(op: Route, input: Record<string, unknown>, fileBody = false): OperationRequest {
  const rest: Record<string, unknown> = { ...input };
  let path = routePath(op);
  for (const name of op.pathParams) {
    const value = rest[name];
    delete rest[name];
    // An empty segment would silently route elsewhere (`/keys/` is the list), so refuse it here.
    if ((typeof value !== 'string' && typeof value !== 'number') || value === '') throw new MissingArgument(name);
    path = path.replace(`:${name}`, encodeURIComponent(String(value)));
  }
  if (takesBody(op) && !fileBody) return { path, body: rest };
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(rest)) for (const s of queryValues(v)) query.append(k, s);
  return { path, query };
}
