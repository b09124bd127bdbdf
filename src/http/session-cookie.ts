// The dashboard's credential (DESIGN §4): the session from auth.register / auth.login / auth.refresh, in an HttpOnly,
// SameSite=Lax cookie, so page scripts never hold a token; auth.logout clears it. The refresh token gets a cookie
// of its own, sent only to the refresh route, which reads it when the body has none (the dashboard posts `{}`).
// Writes authenticated by the cookie still need a same-origin `Origin` (auth.ts `assertSameOrigin`).
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './auth.ts';

export const REFRESH_COOKIE = 'opsbase_refresh';
const REFRESH_PATH = '/api/v1/auth/refresh';
const OPENS_SESSION = new Set(['auth.register', 'auth.login', 'auth.refresh']);

interface SessionBody {
  token?: unknown;
  refresh_token?: unknown;
  expires_at?: unknown;
  refresh_expires_at?: unknown;
}

function setSessionCookies(req: FastifyRequest, reply: FastifyReply, body: SessionBody) {
  if (typeof body.token !== 'string' || typeof body.refresh_token !== 'string') return;
  const secure = req.protocol === 'https';
  const base = { httpOnly: true, sameSite: 'lax' as const, secure };
  reply.setCookie(SESSION_COOKIE, body.token, { ...base, path: '/', expires: new Date(String(body.expires_at)) });
  reply.setCookie(REFRESH_COOKIE, body.refresh_token, { ...base, path: REFRESH_PATH, expires: new Date(String(body.refresh_expires_at)) });
}

/** Registers cookie parsing and the session cookie hooks; call before the routes are added. */
export async function registerSessionCookies(app: FastifyInstance) {
  await app.register(cookie);

  app.addHook('preValidation', async (req) => {
    if (req.routeOptions.config?.op?.id !== 'auth.refresh') return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const fromCookie = req.cookies[REFRESH_COOKIE];
    if (body.refresh_token === undefined && fromCookie) req.body = { ...body, refresh_token: fromCookie };
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const id = req.routeOptions.config?.op?.id;
    if (id === 'auth.logout') {
      // Cleared whatever the outcome: a logout refused because the session already ended must still sign out.
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_PATH });
    } else if (id && OPENS_SESSION.has(id) && reply.statusCode < 300 && typeof payload === 'string') {
      setSessionCookies(req, reply, JSON.parse(payload) as SessionBody);
    } else if (id && req.cookies[SESSION_COOKIE] && !req.headers.authorization && !req.auth?.principal) {
      // A session cookie that no longer authenticates (revoked, ended, garbage) is dropped: each request carrying it
      // would count as a failed authentication from this address (auth.ts), up to 429s on the sign-in page itself.
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
    }
    return payload;
  });
}
