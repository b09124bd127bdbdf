// The operations' contracts as the CLI and the stdio MCP server see them: everything a client needs (id, route,
// auth, scopes, cost, hints, JSON Schemas of input and output) and nothing it must not load (handlers, services,
// the database layer, zod). They come from src/cli/manifest.json, which `npm run manifest` writes from the registry
// (src/cli/manifest.ts); test/manifest.test.ts fails when the committed file no longer matches the registry.
import type { AuthMode, HttpMethod } from '../core/operation.ts';

/** The subset of JSON Schema the clients read (zod 4's `z.toJSONSchema` output). */
export interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  description?: string;
  format?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
}

export interface Contract {
  id: string;
  method: HttpMethod;
  /** As declared: under /api/v1 unless it starts with /api/ (routePath gives the full path). */
  path: string;
  summary: string;
  description?: string;
  auth: AuthMode;
  instanceAdmin: boolean;
  scopes: string[];
  cost: number;
  readOnly: boolean;
  destructive: boolean;
  /** Signed provider webhooks: neither a command nor a tool. */
  rawBody: boolean;
  pathParams: string[];
  cli: { args: string[]; columns?: string[]; watch?: boolean };
  /** JSON Schema of what the API accepts (path, query and body merged; `io: 'input'`). */
  input: JsonSchema;
  /** JSON Schema of what the API returns (`io: 'output'`). */
  output: JsonSchema;
}

export interface Manifest {
  /** Says how to regenerate it, for whoever opens the file. */
  generated_by: string;
  operations: Contract[];
}

// Builtins on the CLI's start-up path come through getBuiltinModule: an ESM `import … from 'node:fs'` evaluates every
// lazy export of the module (fs.promises and its streams), ~5 ms of each start (see src/cli/http.ts).
const { readFileSync } = process.getBuiltinModule('node:fs');

export const MANIFEST_URL = new URL('./manifest.json', import.meta.url);

let loaded: Contract[] | undefined;

/**
 * Every contract, in registry order, read on first use (so `npm run manifest` runs even when the file is missing or
 * left with merge conflicts). The list is mutable, like the registry: a test helper appends a test-only operation's
 * contract before the CLI builds its commands.
 */
export function contracts(): Contract[] {
  loaded ??= (JSON.parse(readFileSync(MANIFEST_URL, 'utf8')) as Manifest).operations;
  return loaded;
}

export function findContract(id: string): Contract | undefined {
  return contracts().find((c) => c.id === id);
}
