// The registry as MCP tools (DESIGN §3, §9): one tool per operation, its input schema generated from the same zod
// object the API validates with, errors returned as tool results. Tools hold no business logic: each call is the
// operation's HTTP request, made through an Executor (executor.ts).
//
// The low-level `Server` rather than `McpServer.registerTool`: McpServer parses arguments with the zod schema and
// hands the tool the *parsed* output (defaults, coercions, transforms applied), which would then be re-encoded and
// parsed a second time by the API. Passing the agent's arguments through untouched keeps one validation, the API's,
// with its `invalid_request` details. The SDK reserves `Server` for exactly this kind of advanced use.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { toolName, type Operation } from '../core/operation.ts';
import { routePath } from '../core/http-request.ts';
import { VERSION } from '../version.ts';
import type { Executor } from './executor.ts';

/**
 * Not exposed: `auth.*` operations that take or mint credentials (register, login, refresh, logout, forgot / reset
 * password), and any operation that asks for a password (e.g. `users.delete_me`). Passwords and fresh session
 * tokens have no business in a model's context, the server already holds its credential, and `auth.logout` would
 * revoke the very session the server runs on. `auth.me` is a harmless read.
 */
export function isExposed(op: Operation): boolean {
  if (op.id.startsWith('auth.') && op.id !== 'auth.me') return false;
  // Signed webhooks (Stripe's) are called by the provider with its own signature, never by a model.
  if (op.rawBody) return false;
  return !Object.keys(op.input.shape).some((field) => field.includes('password'));
}

export function exposedOperations(operations: readonly Operation[], readonly = false): Operation[] {
  return operations.filter((op) => isExposed(op) && (!readonly || op.readOnly));
}

const CONFIRM = 'confirm';

function inputSchema(op: Operation): Tool['inputSchema'] {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(op.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const properties = { ...((schema.properties as Record<string, object> | undefined) ?? {}) };
  const required = [...((schema.required as string[] | undefined) ?? [])];
  if (op.cost > 0) {
    // Paid operations spend credits; an agent must opt in explicitly on every call.
    properties[CONFIRM] = { type: 'boolean', const: true, description: `Must be true: this call costs ${op.cost} credits.` };
    required.push(CONFIRM);
  }
  return { ...schema, type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** What the credential must be for `op`, so an agent can tell a 403 coming before it calls. */
function requirement(op: Operation): string {
  if (op.auth === 'public') return 'no credential';
  const who = op.auth === 'user' || op.instanceAdmin ? `a session token${op.instanceAdmin ? ' of an instance admin' : ''}, not an API key` : '';
  const scopes = op.scopes.length ? `scopes ${op.scopes.join(', ')}` : '';
  return [who, scopes].filter(Boolean).join('; ') || 'any credential of the org';
}

export function toolDefinition(op: Operation): Tool {
  const cost = op.cost > 0 ? ` Costs ${op.cost} credits per call; pass \`confirm: true\`.` : '';
  return {
    name: toolName(op.id),
    title: op.summary,
    description: `${op.summary}.${op.description ? ` ${op.description}` : ''}${cost} (API: ${op.method} ${routePath(op)}; needs ${requirement(op)})`,
    inputSchema: inputSchema(op),
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

/** Runs one tool call; never throws: every failure is an error result the agent can read and act on. */
export async function callTool(op: Operation, args: Record<string, unknown>, executor: Executor, signal?: AbortSignal): Promise<CallToolResult> {
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
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    return {
      content: [{ type: 'text', text: JSON.stringify(body, null, 2) }],
      ...(isObject ? { structuredContent: body as Record<string, unknown> } : {}),
    };
  } catch (err) {
    const e = err instanceof AppError ? err : new AppError('internal', `The tool call failed: ${(err as Error)?.message ?? String(err)}`);
    return errorResult({ error: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) });
  }
}

export interface McpServerOptions {
  operations: readonly Operation[];
  executor: Executor;
  /** List and accept only read-only tools. */
  readonly?: boolean;
}

export function createMcpServer({ operations, executor, readonly = false }: McpServerOptions): Server {
  const exposed = exposedOperations(operations, readonly);
  const byName = new Map(exposed.map((op) => [toolName(op.id), op]));
  const tools = exposed.map(toolDefinition);
  const server = new Server(
    { name: 'opsbase', title: 'Opsbase', version: VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Each tool is one Opsbase API operation (same input, same JSON output). Failures come back as results with ' +
        '`isError` and the API error envelope `{ error, message, details? }`: read `error` (e.g. not_found, forbidden, ' +
        'invalid_request) and `message` to decide what to do. Lists are paginated: pass `meta.next_cursor` as `cursor`.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const op = byName.get(request.params.name);
    if (!op) {
      const hint = readonly && operations.some((o) => toolName(o.id) === request.params.name) ? ' (hidden: this server is read-only)' : '';
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool \`${request.params.name}\`${hint}.`);
    }
    return callTool(op, request.params.arguments ?? {}, executor, extra.signal);
  });
  return server;
}
