// An agent's tools (DESIGN §9): registry operations on its allow-list, each called as the HTTP request a client
// would make with the agent's own credential — so auth, scopes, tenancy, rate limits, idempotency, billing and the
// activity log (actor_type `agent`) apply exactly as for REST and MCP — plus `http_fetch` behind the
// private-network guard. The input schema the model sees is the operation's zod input as JSON Schema, exactly the
// MCP tool's (the operation's contract), and a call is MCP's `callTool`: same confirm rule for paid operations, same
// error results.
import type { FastifyInstance } from 'fastify';
import { jsonSchema, type Tool, type ToolSet, tool } from 'ai';
import { contractOf } from '../cli/manifest.ts';
import { guardedFetch } from '../core/guarded-fetch.ts';
import { checkOutboundUrl } from '../core/net-guard.ts';
import { type Operation, toolName } from '../core/operation.ts';
import { type Executor, injectExecutor } from '../mcp/executor.ts';
import { callTool, isExposed, toolDefinition } from '../mcp/tools.ts';

export const HTTP_FETCH = 'http_fetch';

/** Why an operation cannot be an agent's tool, or null when it can. */
export function toolRefusal(op: Operation | undefined, id: string): string | null {
  if (!op) return `\`${id}\` is not an operation (see GET /api/openapi.json for operation ids) nor \`${HTTP_FETCH}\``;
  if (op.auth !== 'org' || op.instanceAdmin) return `\`${id}\` acts for a user or the instance, not an org: an agent cannot call it`;
  if (!isExposed(op)) return `\`${id}\` handles credentials or passwords: not available to agents`;
  if (op.id.startsWith('keys.')) return `\`${id}\` manages API keys: not available to agents`;
  // A value read by a tool lands in the model's context (and at its vendor): agents refer to credentials by name.
  if (op.id === 'credentials.get' || op.id === 'credentials.put') {
    return `\`${id}\` handles credential values: agents refer to credentials by name (runtime_config.api_key_credential), never by value`;
  }
  return null;
}

/** What the model gets back: the response body, or the API's error envelope with `error` set. */
function resultOf(r: Awaited<ReturnType<typeof callTool>>): unknown {
  if (r.structuredContent && !r.isError) return r.structuredContent;
  const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  try {
    return JSON.parse(text);
  } catch {
    return r.isError ? { error: 'tool_failed', message: text } : text;
  }
}

/** One tool per allow-listed operation, named like its MCP tool (`tasks_create`). */
export function operationTools(ops: readonly Operation[], executor: Executor): ToolSet {
  const tools: ToolSet = {};
  for (const op of ops) {
    const contract = contractOf(op);
    const def = toolDefinition(contract);
    tools[toolName(op.id)] = tool({
      description: def.description,
      inputSchema: jsonSchema(def.inputSchema as Parameters<typeof jsonSchema>[0]),
      execute: async (args, { abortSignal }) => resultOf(await callTool(contract, (args ?? {}) as Record<string, unknown>, executor, abortSignal)),
    }) as Tool;
  }
  return tools;
}

/**
 * Runs operations in process, through `server`'s own routes, as the holder of `credential` (the agent's key): the
 * same path as an HTTP request, without a socket. The runs round builds one app per worker for this.
 */
export function agentExecutor(server: FastifyInstance, credential: string): Executor {
  return injectExecutor(server, { authorization: `Bearer ${credential}`, 'user-agent': 'opsbase-agent' }, '127.0.0.1');
}

const FETCH_MAX_BYTES = 64 * 1024;
const MAX_REDIRECTS = 3;

export interface HttpFetchOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
}

/** GET or POST a public URL; every hop (redirects included) passes the private-network guard. */
export function httpFetchTool({ allowPrivate, timeoutMs = 15_000 }: HttpFetchOptions): Tool {
  return tool({
    description:
      'Fetch a public http(s) URL and return its status, content type and the first 64 KiB of its body as text. ' +
      'Private, loopback and link-local addresses are refused.',
    inputSchema: jsonSchema<{ url: string; method?: 'GET' | 'POST'; body?: string; content_type?: string }>({
      type: 'object',
      properties: {
        url: { type: 'string', description: 'An http(s) URL' },
        method: { type: 'string', enum: ['GET', 'POST'], default: 'GET' },
        body: { type: 'string', description: 'Request body (POST)' },
        content_type: { type: 'string', description: 'Content-Type of the body (POST), default application/json' },
      },
      required: ['url'],
      additionalProperties: false,
    }),
    execute: async ({ url, method = 'GET', body, content_type }, { abortSignal }) => {
      const signal = abortSignal ? AbortSignal.any([abortSignal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      let target = url;
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const check = await checkOutboundUrl(target, { allowPrivate });
        if (!check.ok) return { error: 'forbidden_url', reason: check.reason, message: check.message };
        let res: Response;
        try {
          // guardedFetch: the address connected to is the one the guard passed (no DNS rebinding between the two); it
          // never follows a redirect, so each hop is checked here.
          res = await guardedFetch(check.url, {
            method: hop === 0 ? method : 'GET',
            body: hop === 0 && method === 'POST' ? (body ?? '') : undefined,
            headers: hop === 0 && method === 'POST' ? { 'content-type': content_type ?? 'application/json' } : undefined,
            signal,
            allowPrivate,
          });
        } catch (err) {
          return { error: 'fetch_failed', message: signal.aborted ? `No answer within ${timeoutMs} ms.` : (err as Error).message };
        }
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          target = new URL(location, check.url).toString();
          await res.body?.cancel();
          continue;
        }
        const reader = res.body?.getReader();
        const chunks: Uint8Array[] = [];
        let size = 0;
        while (reader && size < FETCH_MAX_BYTES) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          size += value.length;
        }
        await reader?.cancel().catch(() => {});
        const text = Buffer.concat(chunks).subarray(0, FETCH_MAX_BYTES).toString('utf8');
        return { status: res.status, content_type: res.headers.get('content-type'), body: text, truncated: size > FETCH_MAX_BYTES };
      }
      return { error: 'fetch_failed', message: `More than ${MAX_REDIRECTS} redirects.` };
    },
  }) as Tool;
}

export interface AgentToolsInput {
  /** Operation ids, and `http_fetch`. */
  allow: readonly string[];
  operations: readonly Operation[];
  executor: Executor;
  allowPrivateNetwork: boolean;
}

/** The tool set of an allow-list; ids that cannot be tools are skipped (agents.* validation refuses them at save). */
export function agentTools({ allow, operations, executor, allowPrivateNetwork }: AgentToolsInput): ToolSet {
  const byId = new Map(operations.map((op) => [op.id, op]));
  const ops = allow.map((id) => byId.get(id)).filter((op): op is Operation => !!op && toolRefusal(op, op.id) === null);
  const tools = operationTools(ops, executor);
  if (allow.includes(HTTP_FETCH)) tools[HTTP_FETCH] = httpFetchTool({ allowPrivate: allowPrivateNetwork });
  return tools;
}
