// The operations' contracts as the CLI and the stdio MCP server see them: everything a client needs (id, route,
// auth, scopes, cost, hints, JSON Schemas of input and output) and nothing it must not load (handlers, services,
// the database layer, zod). `npm run manifest` writes them from the registry (src/cli/manifest.ts) in two files:
// manifest.json, all the CLI reads, and manifest-outputs.json, the output schemas only MCP needs (two thirds of
// the bytes, kept out of every CLI start). test/manifest.test.ts fails when either no longer matches the registry.
import type { AuthMode, CliFlagHints, HttpMethod } from '../core/operation.ts';

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

/** What the CLI needs of an operation. */
export interface CliContract {
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
  /** Answers with a file's bytes (`binary`): the command asks for them raw and writes them to `--out` or stdout. */
  binary?: boolean;
  /** `binary` with no JSON face: no MCP tool. */
  bytesOnly?: boolean;
  /** Takes a file (`upload`): the command sends it as the body; MCP sends it base64 in `field`. */
  upload?: { field: string };
  pathParams: string[];
  /** `name`: the command's words when they are not the id's (`search.global` is `opsbase search`); `stdin`: a secret
   * body field the command also reads from stdin; `upload`: the option naming the local file to send (core/operation.ts). */
  cli: {
    args: string[];
    columns?: string[];
    watch?: boolean;
    wait?: string;
    name?: string;
    stdin?: string;
    upload?: { from: string };
  } & CliFlagHints;
  /** Also answers as Server-Sent Events (`--follow`). */
  stream?: boolean;
  /** JSON Schema of what the API accepts (path, query and body merged; `io: 'input'`). */
  input: JsonSchema;
}

/** The whole contract: also what the API returns, for MCP's output schemas. */
export interface Contract extends CliContract {
  /** JSON Schema of the response body (`io: 'output'`). */
  output: JsonSchema;
}

export interface Manifest {
  /** Says how to regenerate it, for whoever opens the file. */
  generated_by: string;
  operations: CliContract[];
}

export interface OutputsManifest {
  generated_by: string;
  outputs: Record<string, JsonSchema>;
}

export const MANIFEST_URL = new URL('./manifest.json', import.meta.url);
export const OUTPUTS_URL = new URL('./manifest-outputs.json', import.meta.url);

// Builtins on the CLI's start-up path come through getBuiltinModule: an ESM `import … from 'node:fs'` evaluates every
// lazy export of the module (fs.promises and its streams), ~5 ms of each start (see src/cli/http.ts).
const readJson = <T>(url: URL): T => JSON.parse(process.getBuiltinModule('node:fs').readFileSync(url, 'utf8')) as T;

let loaded: CliContract[] | undefined;
let complete: Contract[] | undefined;

/**
 * Every operation's CLI contract, in registry order, read on first use (so `npm run manifest` runs even when the
 * files are missing or left with merge conflicts). The list is mutable, like the registry: a test helper appends a
 * test-only operation's contract before the CLI builds its commands.
 */
export function cliContracts(): CliContract[] {
  loaded ??= readJson<Manifest>(MANIFEST_URL).operations;
  return loaded;
}

/** Every contract with its output schema (for MCP). An appended contract that carries its own output keeps it. */
export function contracts(): Contract[] {
  if (!complete) {
    const { outputs } = readJson<OutputsManifest>(OUTPUTS_URL);
    complete = cliContracts().map((c) => ('output' in c ? (c as Contract) : { ...c, output: outputs[c.id] ?? {} }));
  }
  return complete;
}

export function findContract(id: string): CliContract | undefined {
  return cliContracts().find((c) => c.id === id);
}
