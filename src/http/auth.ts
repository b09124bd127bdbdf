// Credentials → who is calling. API keys (`obk_live_…`) belong to one org; session tokens (`obs_…`) to a user,
// who picks an org with `X-Org-Id` (default: their first org). Lookups are cached (see auth-cache.ts).
import type { FastifyRequest } from 'fastify';
import { AppError, forbidden, notFound, unauthorized } from '../core/errors.ts';
import { sha256 } from '../core/crypto.ts';
import type { Operation } from '../core/operation.ts';
import type { AppServices } from '../core/services.ts';
import { callerAllows } from '../core/scopes.ts';
import type { Role } from '../db/schema/orgs.ts';

export const KEY_PREFIX = 'obk_live_';
export const SESSION_PREFIX = 'obs_';
export const SESSION_COOKIE = 'opsbase_session';

export type Principal =
  | {
      kind: 'key';
      keyId: string;
      orgId: string;
      /** The org's plan (tier id): its rate limit applies to the key. */
      plan: string;
      name: string;
      scopes: string[];
      rateLimit: number | null;
      validUntil: number | null;
      /** Set when the key is an agent's own: the agent is the actor. */
      agentId: string | null;
    }
  | { kind: 'session'; sessionId: string; userId: string; instanceAdmin: boolean; validUntil: number };

/** The resolved caller of one request. */
export interface Auth {
  principal: Principal | null;
  orgId: string | null;
  /** The plan of `orgId`, when there is one (its tier may cap the rate limit). */
  plan?: string | null;
  role: Role | null;
  scopes: string[];
}

type Membership = { orgId: string; role: Role; plan: string };
type CacheValue = Principal | Membership | null;

function credentialOf(req: FastifyRequest): { token: string | undefined; fromCookie: boolean } {
  const header = req.headers.authorization;
  if (header) return { token: /^Bearer\s+(\S+)$/i.exec(header)?.[1], fromCookie: false };
  const token = sessionCookie(req);
  return { token, fromCookie: token !== undefined };
}

// Parsed by @fastify/cookie (registered on the app): a value that is not valid percent-encoding stays as sent, so a
// malformed cookie is simply no credential (it starts with neither prefix), never an error.
function sessionCookie(req: FastifyRequest): string | undefined {
  const value = req.cookies?.[SESSION_COOKIE];
  return value ? value : undefined;
}

/**
 * A browser sends the session cookie with cross-site requests too (SameSite=Lax lets some through): a write
 * authenticated by the cookie must come from our own origin (DESIGN §4). Bearer requests are not at risk.
 */
function assertSameOrigin(req: FastifyRequest, publicUrl: string | undefined) {
  const origin = req.headers.origin ?? req.headers.referer;
  const own = new Set([`${req.protocol}://${req.headers.host}`]);
  if (publicUrl) own.add(new URL(publicUrl).origin);
  let from: string | undefined;
  try {
    from = origin ? new URL(origin).origin : undefined;
  } catch {
    from = undefined;
  }
  if (!from || !own.has(from)) {
    throw forbidden(
      "A write with the session cookie must come from this server's own origin (Origin header). API clients send `Authorization: Bearer`.",
    );
  }
}

/** Reads the credential whose SHA-256 is `hash` (the caller has already missed the cache) and caches the answer. */
async function loadPrincipal(services: AppServices, token: string, hash: string): Promise<Principal | null> {
  const generation = services.authCache.generation;
  const { pool } = services.database;
  let principal: Principal | null = null;
  if (token.startsWith(KEY_PREFIX)) {
    const { rows } = await pool.query(
      `select k.id, k.org_id, o.plan, k.name, k.scopes, k.rate_limit_per_minute, k.expires_at, k.agent_id, s.expires_at as secret_expires_at
         from api_key_secrets s
         join api_keys k on k.id = s.key_id
         join orgs o on o.id = k.org_id
        where s.hash = $1 and k.active and k.revoked_at is null and k.deleted_at is null and o.deleted_at is null`,
      [hash],
    );
    const r = rows[0];
    if (r) {
      const ends = [r.expires_at, r.secret_expires_at].filter(Boolean).map((d: Date) => d.getTime());
      principal = {
        kind: 'key',
        keyId: r.id,
        orgId: r.org_id,
        plan: r.plan,
        name: r.name,
        scopes: r.scopes,
        rateLimit: r.rate_limit_per_minute,
        validUntil: ends.length ? Math.min(...ends) : null,
        agentId: r.agent_id,
      };
    }
  } else if (token.startsWith(SESSION_PREFIX)) {
    const { rows } = await pool.query(
      `select s.id, s.user_id, s.expires_at, u.role
         from sessions s join users u on u.id = s.user_id
        where s.token_hash = $1 and s.revoked_at is null`,
      [hash],
    );
    const r = rows[0];
    if (r) principal = { kind: 'session', sessionId: r.id, userId: r.user_id, instanceAdmin: r.role === 'admin', validUntil: r.expires_at.getTime() };
  }
  services.authCache.set(`p:${hash}`, principal, generation);
  return principal;
}

async function loadMembership(services: AppServices, userId: string, orgId: string | undefined) {
  const cacheKey = `m:${userId}:${orgId ?? ''}`;
  const cached = services.authCache.get(cacheKey) as Membership | null | undefined;
  if (cached !== undefined) return cached;
  const generation = services.authCache.generation;
  const { rows } = await services.database.pool.query(
    `select m.org_id, m.role, o.plan from org_members m join orgs o on o.id = m.org_id
      where m.user_id = $1 and o.deleted_at is null and ($2::text is null or m.org_id = $2)
      order by m.created_at, m.id limit 1`,
    [userId, orgId ?? null],
  );
  const value: Membership | null = rows[0] ? { orgId: rows[0].org_id, role: rows[0].role, plan: rows[0].plan } : null;
  services.authCache.set(cacheKey, value as CacheValue, generation);
  return value;
}

/**
 * Failed authentication is throttled per client IP (DESIGN §5): guessing credentials costs a look-up each, and each
 * unknown token is remembered (negatively cached) for a while. Over the limit, credentials the instance has not
 * already resolved are refused with 429 before any look-up; a cached real credential from the same address still
 * works, so a client behind a shared address is not locked out by a neighbour's guessing.
 */
const failureBucket = (req: FastifyRequest) => `authfail:ip:${req.ip}`;

function tooManyFailures(seconds: number): AppError {
  return new AppError('rate_limited', `Too many requests with invalid credentials from this address. Retry in ${seconds} s.`, undefined, {
    'retry-after': String(seconds),
  });
}

async function resolveCredential(services: AppServices, req: FastifyRequest, token: string): Promise<Principal | null> {
  // One hash and one cache look-up per request: a hit skips both the throttle and the query.
  const hash = sha256(token);
  let principal = services.authCache.get(`p:${hash}`) as Principal | null | undefined;
  if (principal === undefined) {
    const v = services.rateLimiter.peek(failureBucket(req), services.config.OPSBASE_AUTH_FAILURES_PER_MINUTE);
    if (!v.allowed) throw tooManyFailures(v.resetSeconds);
    principal = await loadPrincipal(services, token, hash);
  }
  if (principal?.validUntil != null && principal.validUntil <= Date.now()) return null;
  return principal;
}

/** Counts a request whose credential was refused; 429 once the address is over its limit. */
function countFailure(services: AppServices, req: FastifyRequest) {
  const v = services.rateLimiter.hit(failureBucket(req), services.config.OPSBASE_AUTH_FAILURES_PER_MINUTE);
  if (!v.allowed) throw tooManyFailures(v.resetSeconds);
}

/** Resolves and checks the caller of `op`; throws 401 / 403 / 404 / 429 as the contract says. */
export async function authenticate(services: AppServices, req: FastifyRequest, op: Operation): Promise<Auth> {
  const { token, fromCookie } = credentialOf(req);
  const principal = token ? await resolveCredential(services, req, token) : null;
  // A credential was presented (a malformed Authorization header counts) and did not resolve.
  if (!principal && (token !== undefined || req.headers.authorization !== undefined)) countFailure(services, req);
  if (principal && fromCookie && req.method !== 'GET' && req.method !== 'HEAD') assertSameOrigin(req, services.config.OPSBASE_PUBLIC_URL);

  if (op.auth === 'public') {
    const key = principal?.kind === 'key' ? principal : null;
    return { principal, orgId: key?.orgId ?? null, plan: key?.plan ?? null, role: null, scopes: [] };
  }
  if (!token) throw unauthorized();
  if (!principal) throw unauthorized('The credential is unknown, expired or revoked. Log in again or use a valid API key.');
  // Known caller from here on: a refused request (403) still belongs in that key's usage log.
  req.auth = { principal, orgId: principal.kind === 'key' ? principal.orgId : null, role: null, scopes: [] };

  if (op.auth === 'user' || op.instanceAdmin) {
    if (principal.kind !== 'session') {
      throw forbidden(`\`${op.id}\` acts for a user, not an org: call it with a session token (\`opsbase login\`), not an API key.`);
    }
    if (op.instanceAdmin && !principal.instanceAdmin) throw forbidden(`\`${op.id}\` is for instance admins only.`);
    return { principal, orgId: null, role: null, scopes: [] };
  }

  // op.auth === 'org'
  let auth: Auth;
  const fromPath = op.orgParam ? (req.params as Record<string, string>)[op.orgParam] : undefined;
  if (principal.kind === 'key') {
    // A key acts for its own org only; any other org is, to it, one that does not exist.
    if (fromPath !== undefined && fromPath !== principal.orgId) throw notFound('Org');
    auth = { principal, orgId: principal.orgId, plan: principal.plan, role: null, scopes: principal.scopes };
  } else {
    const header = req.headers['x-org-id'];
    const wanted = fromPath ?? (typeof header === 'string' && header.length > 0 ? header : undefined);
    const membership = await loadMembership(services, principal.userId, wanted);
    if (!membership) {
      throw wanted
        ? notFound('Org')
        : new AppError('not_found', 'You are not a member of any org: create one (`opsbase orgs create`) or accept an invite.');
    }
    auth = { principal, orgId: membership.orgId, plan: membership.plan, role: membership.role, scopes: [] };
  }
  req.auth = auth;
  // An agent reporting on its own run: the handler checks the run is the agent's.
  if (op.ownAgent && principal.kind === 'key' && principal.agentId) return auth;
  const caller = { keyId: principal.kind === 'key' ? principal.keyId : null, scopes: auth.scopes, role: auth.role };
  for (const scope of op.scopes) {
    if (!callerAllows(caller, scope)) {
      throw forbidden(
        principal.kind === 'key'
          ? `This API key lacks the scope \`${scope}\` needed for \`${op.id}\`.`
          : `Your role \`${auth.role}\` in this org does not allow \`${scope}\` (needed for \`${op.id}\`).`,
      );
    }
  }
  return auth;
}
