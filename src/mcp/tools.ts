// The operations' contracts as MCP tools (DESIGN §3, §9): one tool per operation, its input and output schemas
// from the operation's, grouped in toolsets (toolsets.ts), errors returned as tool results. Tools hold no business
// logic: each call is the operation's HTTP request, made through an Executor (executor.ts).
//
// The low-level `Server` rather than `McpServer.registerTool`: McpServer parses arguments with a zod schema and
// hands the tool the *parsed* output, which the API would then parse a second time; passing the agent's arguments
// through untouched keeps one validation, the API's, with its `invalid_request` details. It also takes the JSON
// Schemas of the manifest as they are, so `opsbase mcp` never needs the registry's zod schemas.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Contract } from '../cli/contract.ts';
import { MissingArgument, routePath } from '../core/http-request.ts';
import { toolName } from '../core/operation.ts';
import { VERSION } from '../version.ts';
import { DISCOVERY_TOOL, discoveryResult, discoveryTool } from './discovery.ts';
import { type Executor, Unreachable } from './executor.ts';
import { CONFIRM, inputSchema, outputShape } from './schemas.ts';
import { selectToolsets, toolsetOf } from './toolsets.ts';

/** An operation as the exposure rule sees it: a contract, or a registry operation (whose input is a zod object). */
interface Exposable {
  id: string;
  rawBody: boolean;
  bytesOnly?: boolean;
  input: object;
}

const inputFields = (op: Exposable): string[] =>
  Object.keys('shape' in op.input ? (op.input.shape as object) : ((op.input as Contract['input']).properties ?? {}));

/**
 * Not exposed: `auth.*` operations that take or mint credentials (register, login, refresh, logout, forgot / reset
 * password), and any operation that asks for a password (e.g. `users.delete_me`). Passwords and fresh session
 * tokens have no business in a model's context, the server already holds its credential, and `auth.logout` would
 * revoke the very session the server runs on. `auth.me` is a harmless read.
 */
export function isExposed(op: Exposable): boolean {
  if (op.id.startsWith('auth.') && op.id !== 'auth.me') return false;
  // Signed webhooks (Stripe's) are called by the provider with its own signature, never by a model.
  if (op.rawBody) return false;
  // Bytes with no JSON face (backups.download, orgs.export: gigabytes) are no tool call's result. Uploads are tools:
  // their JSON face takes the file in base64.
  if (op.bytesOnly) return false;
  return !inputFields(op).some((field) => field.includes('password'));
}

/** What the credential must be for `op`, so an agent can tell a 403 coming before it calls. */
function requirement(op: Contract): string {
  if (op.auth === 'public') return 'no credential';
  const who = op.auth === 'user' || op.instanceAdmin ? `a session token${op.instanceAdmin ? ' of an instance admin' : ''}, not an API key` : '';
  const scopes = op.scopes.length ? `scopes ${op.scopes.join(', ')}` : '';
  return [who, scopes].filter(Boolean).join('; ') || 'any credential of the org';
}

export function toolDefinition(op: Contract): Tool {
  const cost = op.cost > 0 ? ` Costs ${op.cost} credits per call; pass \`confirm: true\`.` : '';
  return {
    name: toolName(op.id),
    title: op.summary,
    description: `${op.summary}.${op.description ? ` ${op.description}` : ''}${cost} (API: ${op.method} ${routePath(op)}; needs ${requirement(op)})`,
    inputSchema: inputSchema(op),
    outputSchema: outputShape(op).schema,
    annotations: {
      title: op.summary,
      readOnlyHint: op.readOnly,
      destructiveHint: op.destructive,
      idempotentHint: op.method === 'GET' || op.method === 'PUT' || op.method === 'DELETE',
      openWorldHint: false,
    },
  };
}

function errorResult(body: unknown): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(body, null, 2) }] };
}

/** The API's JSON as text, and as structured content shaped like the declared output schema. */
function successResult(op: Contract, body: unknown): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify(body, null, 2) }];
  if (outputShape(op).wrapped) return { content, structuredContent: { result: body } };
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  return { content, ...(isObject ? { structuredContent: body as Record<string, unknown> } : {}) };
}

/** Runs one tool call; never throws: every failure is an error result the agent can read and act on. */
export async function callTool(op: Contract, args: Record<string, unknown>, executor: Executor, signal?: AbortSignal): Promise<CallToolResult> {
  const { [CONFIRM]: confirm, ...input } = args;
  if (op.cost > 0 && confirm !== true) {
    return errorResult({
      error: 'invalid_request',
      message: `\`${toolName(op.id)}\` costs ${op.cost} credits. Call it again with \`confirm: true\` to spend them.`,
    });
  }
  try {
    const { status, body } = await executor(op, op.cost > 0 ? input : args, signal);
    if (status >= 400) {
      return errorResult(typeof body === 'object' && body !== null ? body : { error: 'internal', status, message: String(body ?? '') });
    }
    return successResult(op, body);
  } catch (err) {
    if (err instanceof MissingArgument) return errorResult({ error: err.code, message: err.message, details: err.details });
    if (err instanceof Unreachable) return errorResult({ error: err.code, message: err.message });
    return errorResult({ error: 'internal', message: `The tool call failed: ${(err as Error)?.message ?? String(err)}` });
  }
}

export interface McpServerOptions {
  contracts: readonly Contract[];
  executor: Executor;
  /** List and accept only read-only tools. */
  readonly?: boolean;
  /** The toolsets asked for (`a,b`, `all`, `default`); undefined → the default set. Unknown names throw UnknownToolset. */
  toolsets?: string;
  /** How this transport's client gets other toolsets, for `list_toolsets`. */
  howToEnable: string;
}

export function createMcpServer({ contracts, executor, readonly = false, toolsets, howToEnable }: McpServerOptions): Server {
  const exposed = contracts.filter((op) => isExposed(op) && (!readonly || op.readOnly));
  const byToolset = new Map<string, string[]>();
  for (const op of exposed) byToolset.set(toolsetOf(op.id), [...(byToolset.get(toolsetOf(op.id)) ?? []), toolName(op.id)]);
  const enabled = selectToolsets(toolsets, [...byToolset.keys()]);
  const listed = exposed.filter((op) => enabled.has(toolsetOf(op.id)));
  const byName = new Map(listed.map((op) => [toolName(op.id), op]));
  const tools = [...listed.map(toolDefinition), discoveryTool];

  const server = new Server(
    { name: 'opsbase', title: 'Opsbase', version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Each tool is one Opsbase API operation (same input, same JSON output). Failures come back as results with ' +
        '`isError` and the API error envelope `{ error, message, details? }`: read `error` (e.g. not_found, forbidden, ' +
        'invalid_request) and `message` to decide what to do. Lists are paginated: pass `meta.next_cursor` as `cursor`. ' +
        `Tools come in toolsets; \`${DISCOVERY_TOOL}\` lists them all and says how to enable more.`,
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const name = request.params.name;
    if (name === DISCOVERY_TOOL) return discoveryResult(byToolset, enabled, howToEnable);
    const op = byName.get(name);
    if (op) return callTool(op, request.params.arguments ?? {}, executor, extra.signal);
    const known = contracts.find((o) => toolName(o.id) === name && isExposed(o));
    const hint = !known
      ? ''
      : readonly && !known.readOnly
        ? ' (hidden: this server is read-only)'
        : ` (it is in toolset \`${toolsetOf(known.id)}\`, which is not enabled: ${howToEnable})`;
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool \`${name}\`${hint}.`);
  });
  return server;
}
