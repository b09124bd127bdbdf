// The Fastify app factory: every operation of the registry becomes a route under /api/v1 (or /api for probes),
// with auth, scopes, rate limits, idempotency, the error envelope and the request log applied uniformly.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError, ErrorEnvelope } from '../core/errors.ts';
import { JsonText } from '../core/json-text.ts';
import type { Ctx } from '../core/context.ts';
import { newId } from '../core/ids.ts';
import { type Operation, splitAlias } from '../core/operation.ts';
import { routePath, takesBody } from '../core/http-request.ts';
import type { AppServices } from '../core/services.ts';
import type { DbOrTx } from '../db/client.ts';
import { effectiveCatalog } from '../modules/billing/catalog-store.ts';
import { runPaid } from '../modules/billing/paid.ts';
import { tierOf } from '../modules/billing/plans.ts';
import { exemptFromApiQuota } from './api-quota.ts';
import { authenticate, type Auth } from './auth.ts';
import { clientErrorHandler, sendError } from './errors.ts';
import { claim, complete, release, requestHash, type IdempotencyClaim } from './idempotency.ts';
import { refusingNul } from './nul-guard.ts';
import { registerOpenApi } from './openapi.ts';
import { registerSessionCookies } from './session-cookie.ts';
import { type EventStream, openEventStream, wantsEventStream } from './sse.ts';
import { cspFor } from './static.ts';
import { decodeUploadField, fileDigest, jsonUploadLimit, UPLOAD_CONTENT_TYPES } from './upload.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: Auth;
    idem?: IdempotencyClaim;
    /** The body's exact bytes, kept only for operations with `rawBody` (signature checks). */
    rawBody?: Buffer;
    /** An upload's file, when it came as the body itself (not base64 in JSON). */
    fileBody?: Buffer;
  }
  interface FastifyContextConfig {
    op?: Operation;
  }
  interface FastifyInstance {
    /** Operation handlers still running (a handler keeps running when its client goes away). */
    inflight: Inflight;
    /** Open Server-Sent Event streams of operations: ended at shutdown, so close() need not wait for browsers. */
    eventStreams: Set<EventStream>;
  }
}

/** Counts running handlers so shutdown can wait for them before it closes the pool under them. */
export class Inflight {
  private count = 0;
  private waiters: (() => void)[] = [];
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await work();
    } finally {
      if (--this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }
  /** Resolves when no handler runs, or after `ms`. */
  idle(ms: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

function securityHeaders(reply: FastifyReply, url: string) {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('x-frame-options', 'DENY');
  const csp = cspFor(url);
  if (csp) reply.header('content-security-policy', csp);
}

/**
 * The limit in force is the smallest of the instance's, the org's plan's (when its tier sets one) and the key's
 * own (DESIGN §5): a key may lower its own limit, never raise it past what the plan and the instance allow.
 */
async function limitFor(services: AppServices, auth: Auth): Promise<number> {
  const p = auth.principal;
  let limit = services.config.OPSBASE_RATE_LIMIT_PER_MINUTE;
  if (p?.kind === 'key' && p.rateLimit) limit = Math.min(limit, p.rateLimit);
  if (auth.plan) {
    const tierLimit = tierOf(auth.plan, await effectiveCatalog(services)).rate_limit_per_minute;
    if (tierLimit) limit = Math.min(limit, tierLimit);
  }
  return limit;
}

/** 402 `quota_exceeded` once the org has used its plan's monthly API calls (billing and quota stay reachable). */
async function enforceApiQuota(services: AppServices, op: Operation, auth: Auth) {
  if (!auth.orgId || !auth.plan || exemptFromApiQuota(op.id)) return;
  const tier = tierOf(auth.plan, await effectiveCatalog(services));
  services.apiQuota.check(auth.orgId, tier.limits.api_calls, tier.id);
}

async function rateLimit(services: AppServices, req: FastifyRequest, reply: FastifyReply, auth: Auth) {
  const p = auth.principal;
  const bucket = p ? (p.kind === 'key' ? `key:${p.keyId}` : `user:${p.userId}`) : `ip:${req.ip}`;
  const limit = await limitFor(services, auth);
  const v = services.rateLimiter.hit(bucket, limit);
  reply.header('ratelimit-limit', v.limit);
  reply.header('ratelimit-remaining', v.remaining);
  reply.header('ratelimit-reset', v.resetSeconds);
  if (!v.allowed) {
    throw new AppError('rate_limited', `Rate limit of ${v.limit} requests per minute exceeded. Retry in ${v.resetSeconds} s.`, undefined, {
      'retry-after': String(v.resetSeconds),
    });
  }
}

function contextFor(services: AppServices, req: FastifyRequest): Ctx {
  const auth = req.auth ?? { principal: null, orgId: null, role: null, scopes: [] };
  const p = auth.principal;
  return {
    requestId: req.id,
    db: services.database.db,
    orgId: auth.orgId,
    // An agent's own key makes the agent the actor (DESIGN §9); any other key acts as an integration.
    actorType: p?.kind === 'session' ? 'user' : p?.kind === 'key' && p.agentId ? 'agent' : 'system',
    actorId: p ? (p.kind === 'session' ? p.userId : (p.agentId ?? p.keyId)) : null,
    userId: p?.kind === 'session' ? p.userId : null,
    keyId: p?.kind === 'key' ? p.keyId : null,
    keyName: p?.kind === 'key' ? p.name : null,
    sessionId: p?.kind === 'session' ? p.sessionId : null,
    role: auth.role,
    scopes: auth.scopes,
    isInstanceAdmin: p?.kind === 'session' && p.instanceAdmin,
    ip: req.ip,
    userAgent: req.headers['user-agent'] ?? null,
    services,
    ...(req.rawBody ? { request: { rawBody: req.rawBody, headers: req.headers } } : {}),
  };
}

function registerOperation(app: FastifyInstance, services: AppServices, op: Operation) {
  registerRoute(app, services, op, routePath(op), false);
  // Aliases (another product's URL for the same operation) are the same route, hidden from the OpenAPI document.
  for (const alias of op.aliases) {
    const { method, path } = splitAlias(alias, op.method);
    registerRoute(app, services, { ...op, method }, routePath({ ...op, path }), true);
  }
}

function registerRoute(app: FastifyInstance, services: AppServices, op: Operation, url: string, alias: boolean) {
  const pathParams = [...url.matchAll(/:([a-z_]+)/g)].map((m) => m[1]);
  const pathKeys = Object.fromEntries(pathParams.map((p) => [p, true as const])) as Record<string, true>;
  // `omit` drops the schema's metadata (e.g. an `anyOf` of required fields that OpenAPI must show): carry it over.
  const rest = pathParams.length ? op.input.omit(pathKeys).meta(op.input.meta() ?? {}) : op.input;
  const hasRest = Object.keys(rest.shape).length > 0;
  const body = takesBody(op);
  const z = app.withTypeProvider<ZodTypeProvider>();

  z.route({
    method: op.method,
    url,
    config: { op },
    schema: {
      ...(alias ? { hide: true } : { operationId: op.id }),
      summary: op.summary,
      description: op.description,
      tags: [op.id.split('.')[0]],
      ...(op.auth === 'public' ? { security: [] } : {}),
      ...(pathParams.length ? { params: op.input.pick(pathKeys) } : {}),
      ...(hasRest ? (body ? { body: rest } : { querystring: rest }) : {}),
      response: responses(op),
    },
    onRequest: async (req, reply) => {
      // An EventSource cannot send headers: a session streaming picks its org with `?org=` instead of X-Org-Id.
      if (op.stream && wantsEventStream(req)) adoptOrgParam(req);
      req.auth = await authenticate(services, req, op);
      await rateLimit(services, req, reply, req.auth);
      await enforceApiQuota(services, op, req.auth);
    },
    // A DELETE usually comes without a body: its optional fields (a folder's `recursive`) then take their defaults
    // instead of the request failing as "expected object". A body that says `null` is still a 400.
    preValidation: async (req) => {
      if (op.method === 'DELETE' && hasRest && req.body === undefined) req.body = {};
    },
    preHandler: async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (op.method !== 'POST' || typeof key !== 'string') return;
      // Stored responses belong to one credential acting in one org: a user's key sent to org B must not replay
      // what the same key stored for org A.
      const p = req.auth?.principal;
      const who = p ? (p.kind === 'key' ? p.keyId : p.userId) : `anon:${req.ip}`;
      const scope = `${who}@${req.auth?.orgId ?? '-'}`;
      // A raw upload's body is the file: the key's request hash covers it through its digest.
      const hashed = req.fileBody ? { ...(req.body as object), file_sha256: fileDigest(req.fileBody) } : req.body;
      const result = await claim(services.database.pool, services.masterKey, scope, key, requestHash(req.method, req.url, hashed));
      if (result.kind === 'claimed') {
        req.idem = result.claim;
        return;
      }
      reply.header('idempotent-replayed', 'true');
      return reply.code(result.status).send(result.body);
    },
    handler: (req, reply) => {
      if (op.stream && wantsEventStream(req)) return streamOperation(app, services, op, req, reply);
      if (op.binary && (op.bytesOnly || !wantsJson(req))) return sendBinary(services, op, req, reply);
      return app.inflight.run(async () => {
        const input = { ...((body ? req.body : req.query) as object), ...(req.params as object) };
        const ctx = contextFor(services, req);
        if (op.upload) ctx.upload = req.fileBody ?? decodeUploadField(op.upload, (input as Record<string, unknown>)[op.upload.field], op.upload.limit(services.config));
        const mutate = async (tx: DbOrTx, hold?: { id: string; amount: number }) => {
          const out = await op.handler({ ...ctx, db: tx, hold }, input);
          if (req.idem) {
            await complete(tx, services.masterKey, req.idem, op.statusOf?.(out as never) ?? op.status, out);
            req.idem = undefined;
          }
          return out;
        };
        const { db } = services.database;
        let result: unknown;
        if (op.cost > 0) {
          await op.precheck?.(ctx, input);
          // The hold is keyed by the Idempotency-Key when there is one, so a retried paid request never pays twice.
          const holdKey = req.idem ? `idem:${req.idem.scope}:${req.idem.key}` : `once:${newId('hold')}`;
          result = await runPaid(db, op, ctx.orgId!, holdKey, mutate);
        } else {
          result = op.readOnly ? await op.handler(ctx, input) : op.transaction ? await db.transaction((tx) => mutate(tx)) : await mutate(db);
        }
        return reply.code(op.statusOf?.(result as never) ?? op.status).send(result);
      });
    },
  });
}

const wantsJson = (req: FastifyRequest) => (req.headers.accept ?? '').includes('application/json');

/** The raw face of a `binary` read (its only one when `bytesOnly`): the bytes with their type, and a disposition naming the file. */
async function sendBinary(services: AppServices, op: Operation, req: FastifyRequest, reply: FastifyReply) {
  const input = { ...(req.query as object), ...(req.params as object) };
  const out = await op.binary!(contextFor(services, req), input);
  // RFC 6266: an ASCII fallback plus the exact UTF-8 name.
  const ascii = out.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  reply
    .code(200)
    .header('content-type', out.contentType)
    .header('content-disposition', `${out.disposition ?? 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(out.filename)}`)
    .header('x-content-type-options', 'nosniff')
    // Files and backups are private: no shared cache keeps a copy.
    .header('cache-control', 'no-store')
    // Uploaded HTML or SVG shown inline must not run scripts on the dashboard's origin.
    .header('content-security-policy', "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox");
  if (out.size !== undefined) reply.header('content-length', String(out.size));
  return reply.send(out.body);
}

function responses(op: Operation): Record<string, ZodType> {
  return {
    [op.status]: op.output,
    // An upsert answers 201 when it created and 200 when it found: both carry the same shape.
    ...(op.statusOf ? { [op.status === 201 ? 200 : 201]: op.output } : {}),
    '4xx': ErrorEnvelope,
    '5xx': ErrorEnvelope,
  };
}

function adoptOrgParam(req: FastifyRequest) {
  const org = (req.query as { org?: unknown } | undefined)?.org;
  if (typeof org === 'string' && !req.headers['x-org-id']) req.headers['x-org-id'] = org;
}

/** The Server-Sent Events face of a read (`op.stream`): outside `inflight`, since a stream lasts as long as its client. */
async function streamOperation(app: FastifyInstance, services: AppServices, op: Operation, req: FastifyRequest, reply: FastifyReply) {
  const input = { ...(req.query as object), ...(req.params as object) };
  let opened: EventStream | undefined;
  const open = () => {
    const stream = openEventStream(req, reply);
    app.eventStreams.add(stream);
    stream.closed.addEventListener('abort', () => app.eventStreams.delete(stream));
    opened = stream;
    return stream;
  };
  try {
    // Errors before the stream opens (an unknown id: 404) leave as the usual envelope.
    await op.stream!(contextFor(services, req), input, open);
  } catch (err) {
    if (!opened) throw err;
    req.log.error({ err }, 'event stream failed');
  } finally {
    opened?.end();
  }
}

/**
 * A signed webhook is verified over the exact bytes it was sent as, which JSON.parse would lose: in a scope of its
 * own (so no other route changes), the JSON parser keeps the buffer in `req.rawBody` before parsing it.
 */
function registerRawBodyOperation(scope: FastifyInstance, services: AppServices, op: Operation) {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch (err) {
      done(new AppError('invalid_request', `Malformed JSON body: ${(err as Error).message}`), undefined);
    }
  });
  registerOperation(scope, services, op);
}

/**
 * An upload (`op.upload`) also takes the file itself as the body, in a scope of its own: the bytes are kept in
 * `req.fileBody`, and the query string stands in for the JSON body, so the one body schema validates both faces.
 */
function registerUploadOperation(scope: FastifyInstance, services: AppServices, op: Operation) {
  const limit = op.upload!.limit(services.config);
  // Each face its own limit (a route-level bodyLimit would override both): the file raw, or it in base64 in JSON.
  scope.addContentTypeParser(UPLOAD_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit: limit }, (req, body, done) => {
    req.fileBody = body as Buffer;
    done(null, { ...(req.query as object) });
  });
  scope.removeContentTypeParser('application/json');
  const jsonLimit = Math.max(jsonUploadLimit(limit), services.config.OPSBASE_BODY_LIMIT_BYTES);
  scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: jsonLimit }, scope.getDefaultJsonParser('error', 'ignore'));
  registerOperation(scope, services, op);
}

export interface ServerOptions {
  services: AppServices;
  operations: Operation[];
  /** Extra routes mounted on the same app (MCP over HTTP, the dashboard). */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[];
}

export async function buildServer({ services, operations, plugins = [] }: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    // One line per request is written in onResponse (with the path only: query strings may carry secrets).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: services.config.OPSBASE_BODY_LIMIT_BYTES,
    // Only behind a proxy may X-Forwarded-For name the client (per-IP limits and login throttles depend on it).
    trustProxy: services.config.OPSBASE_TRUST_PROXY,
    return503OnClosing: true,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : newId('request');
    },
    requestIdHeader: false,
    clientErrorHandler,
    // Router refusals (a bad URL, an over-long path parameter) leave in the envelope like every other error.
    frameworkErrors: (err, req, reply) => sendError(req, reply, err),
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.decorate('inflight', new Inflight());
  app.decorate('eventStreams', new Set<EventStream>());
  app.setValidatorCompiler(refusingNul(validatorCompiler));
  // A handler's JsonText (JSON the database wrote: core/json-text.ts) goes out as it is; everything else through the
  // operation's output schema.
  app.setSerializerCompiler((route) => {
    const serialize = serializerCompiler(route as Parameters<typeof serializerCompiler>[0]);
    return (data) => (data instanceof JsonText ? data.text : serialize(data));
  });
  // JSON in (DESIGN §4): without this, Fastify's default text/plain parser turns a wrong content type into a
  // confusing schema error instead of 415 unsupported_media_type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler(async (err, req, reply) => {
    if (req.idem) {
      // Nothing was committed (the transaction rolled back): free the key so a retry runs again.
      await release(services.database.pool, req.idem).catch(() => {});
      req.idem = undefined;
    }
    return sendError(req, reply, err);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new AppError('not_found', `No route ${req.method} ${req.url.split('?')[0]}. See /api/docs for the API reference.`)),
  );

  // Responses that finish during shutdown close their connection: server.close() waits for every open socket, and a
  // keep-alive one left idle by a request that was in flight (a long poll) would hold it for the 72 s keep-alive.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const stream of app.eventStreams) stream.end();
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    securityHeaders(reply, req.url);
  });
  app.addHook('onResponse', async (req, reply) => {
    const op = req.routeOptions.config.op;
    const latency = Math.round(reply.elapsedTime);
    const path = req.url.split('?')[0];
    req.log.info({ method: req.method, path, status: reply.statusCode, ms: latency }, 'request');
    if (!op) return;
    const p = req.auth?.principal;
    services.requestLog.add({
      id: newId('request'),
      orgId: req.auth?.orgId ?? null,
      keyId: p?.kind === 'key' ? p.keyId : null,
      userId: p?.kind === 'session' ? p.userId : null,
      method: req.method,
      path,
      route: req.routeOptions.url ?? null,
      status: reply.statusCode,
      latencyMs: latency,
      ip: req.ip,
      requestId: req.id,
      createdAt: new Date(),
    });
  });

  await registerSessionCookies(app);
  await registerOpenApi(app, services);
  for (const op of operations) {
    if (op.rawBody) await app.register(async (scope) => registerRawBodyOperation(scope, services, op));
    else if (op.upload) await app.register(async (scope) => registerUploadOperation(scope, services, op));
    else registerOperation(app, services, op);
  }
  for (const plugin of plugins) await plugin(app);
  return app;
}
