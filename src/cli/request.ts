// The HTTP request a client (the CLI, an MCP tool) makes for an operation: path parameters filled in from the
// input, the rest in the query string (GET) or a JSON body (every other method).
import { routePath, takesBody } from '../core/http-request.ts';
import type { CliContract } from './contract.ts';

/** A path parameter was missing or empty; MCP returns it as an `invalid_request` result, the CLI cannot hit it. */
export class MissingArgument extends Error {
  readonly field: string;
  constructor(field: string) {
    super(`Missing required argument \`${field}\`.`);
    this.name = 'MissingArgument';
    this.field = field;
  }
}

export interface OperationRequest {
  /** The filled path, without query string. */
  path: string;
  query?: URLSearchParams;
  body?: Record<string, unknown>;
}

function queryValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap(queryValues);
  return [typeof value === 'object' ? JSON.stringify(value) : String(value)];
}

/** Splits `input` (path params, query and body merged, as in the operation's input) into the request to send. */
export function toOperationRequest(op: Pick<CliContract, 'method' | 'path' | 'pathParams'>, input: Record<string, unknown>): OperationRequest {
  const rest: Record<string, unknown> = { ...input };
  let path = routePath(op);
  for (const name of op.pathParams) {
    const value = rest[name];
    delete rest[name];
    // An empty segment would silently route elsewhere (`/keys/` is the list), so refuse it here.
    if ((typeof value !== 'string' && typeof value !== 'number') || value === '') throw new MissingArgument(name);
    path = path.replace(`:${name}`, encodeURIComponent(String(value)));
  }
  if (takesBody(op)) return { path, body: rest };
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(rest)) for (const s of queryValues(v)) query.append(k, s);
  return { path, query };
}
