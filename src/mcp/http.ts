// MCP over Streamable HTTP at POST /mcp, on the API's own Fastify server. Stateless: a new MCP server and transport
// per request (nothing in memory another instance would need), JSON responses, no SSE stream (GET/DELETE → 405).
// Tool calls are replayed into this app's routes with the caller's credential, so they are the REST API exactly.
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, unauthorized } from '../core/errors.ts';
import { defineOperation, type Operation } from '../core/operation.ts';
import type { AppServices } from '../core/services.ts';
import { authenticate } from '../http/auth.ts';
import { sendError } from '../http/errors.ts';
import { operations as registry } from '../operations.ts';
import type { Contract } from '../cli/contract.ts';
import { contractOf } from '../cli/manifest.ts';
import { injectExecutor } from './executor.ts';
import { createMcpServer } from './tools.ts';
import { UnknownToolset } from './toolsets.ts';

// Only used to resolve the credential up front (`public`: resolve, check nothing); each tool call is then
// authorised by its own operation's auth and scopes.
const endpoint = defineOperation({
  id: 'mcp.endpoint',
  method: 'POST',
  path: '/mcp',
  summary: 'MCP endpoint',
  auth: 'public',
  scopes: [],
  input: z.object({}),
  output: z.unknown(),
  handler: async () => undefined,
}) as unknown as Operation;

const BEARER = /^Bearer\s+\S+$/i;
const isTrue = (v: unknown) => typeof v === 'string' && /^(true|1|yes)$/i.test(v);

const HOW_TO_ENABLE =
  'connect to /mcp?toolsets=<names> (comma-separated; `all` for every toolset, `default` for the default set), ' +
  'or send the header X-MCP-Toolsets: <names>';

async function handlePost(app: FastifyInstance, services: AppServices, contracts: () => Contract[], req: FastifyRequest, reply: FastifyReply) {
  // The header only, never the session cookie: a page the user visits must not be able to drive tools.
  const authorization = req.headers.authorization;
  if (typeof authorization !== 'string' || !BEARER.test(authorization)) return sendError(req, reply, unauthorized());
  const auth = await authenticate(services, req, endpoint);
  if (!auth.principal) {
    return sendError(req, reply, unauthorized('The credential is unknown, expired or revoked. Use a valid API key or log in again.'));
  }

  // Fastify also accepts text/plain bodies; MCP is JSON only, and the refusal should be our envelope, not the SDK's.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return sendError(req, reply, new AppError('unsupported_media_type', 'Send MCP JSON-RPC messages with `Content-Type: application/json`.'));
  }

  const forward: Record<string, string> = { authorization };
  const org = req.headers['x-org-id'];
  if (typeof org === 'string' && org) forward['x-org-id'] = org;
  const query = req.query as Record<string, unknown>;
  const readonly = isTrue(query.readonly) || isTrue(req.headers['x-mcp-readonly']);
  // `?toolsets=a,b`, `?toolsets=a&toolsets=b` or the header, as GitHub's MCP server takes them.
  const given = query.toolsets ?? req.headers['x-mcp-toolsets'];
  const selection = Array.isArray(given) ? given.join(',') : given;

  let server: ReturnType<typeof createMcpServer>;
  try {
    server = createMcpServer({
      contracts: contracts(),
      executor: injectExecutor(app, forward, req.ip),
      readonly,
      toolsets: typeof selection === 'string' ? selection : undefined,
      howToEnable: HOW_TO_ENABLE,
    });
  } catch (err) {
    if (err instanceof UnknownToolset)
      return sendError(req, reply, new AppError('invalid_request', err.message, [{ field: 'toolsets', location: 'query', message: err.message }]));
    throw err;
  }
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  // The transport writes the response itself; keep the request id and security headers set by the app's hooks.
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
  reply.raw.on('close', () => {
    void transport.close();
    void server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  } catch (err) {
    req.log.error({ err, request_id: req.id }, 'mcp request failed');
    if (!reply.raw.headersSent) {
      reply.raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      reply.raw.end(
        JSON.stringify({
          error: 'internal',
          message: 'Something went wrong on our side. Quote the request id when you report it.',
          request_id: req.id,
        }),
      );
    }
  }
}

/** Mounts POST /mcp (and 405s for GET / DELETE) on the API server; `operations` defaults to the registry. */
export function mcpHttpPlugin(services: AppServices, operations: readonly Operation[] = registry) {
  // The contracts (JSON Schemas included) are built once, on the first MCP request, not at every server start.
  let built: Contract[] | undefined;
  const contracts = () => (built ??= operations.map(contractOf));
  return async (app: FastifyInstance) => {
    // Hidden from the OpenAPI document: it describes the REST operations, and /mcp speaks JSON-RPC, not REST.
    const route = { schema: { hide: true } };
    app.post('/mcp', route, (req, reply) => handlePost(app, services, contracts, req, reply));
    const notAllowed = (req: FastifyRequest, reply: FastifyReply) =>
      sendError(
        req,
        reply,
        new AppError(
          'method_not_allowed',
          'This MCP endpoint is stateless: send JSON-RPC messages with POST /mcp (no SSE stream, no sessions).',
          undefined,
          {
            allow: 'POST',
          },
        ),
      );
    app.get('/mcp', route, notAllowed);
    app.delete('/mcp', route, notAllowed);
  };
}
