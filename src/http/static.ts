// The dashboard (web/, built into web/dist) served by the API's own server at `/`: hashed assets cached for good,
// index.html never cached, and every other page a browser asks for (Accept: text/html) outside /api answers
// index.html, so client-side routes survive a reload. Anything else keeps the JSON 404 envelope.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { AppServices } from '../core/services.ts';

export const DASHBOARD_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * The dashboard's own scripts and styles only. Images may come from anywhere over https (org avatars are URLs) and
 * from blob: URLs the page made itself (a file's preview, fetched with the session and the org header);
 * scripts and connections never leave this origin.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const isApi = (url: string) => url === '/api' || url.startsWith('/api/') || url === '/mcp' || url.startsWith('/mcp/');

export function dashboardPlugin(services: AppServices, dist = DASHBOARD_DIST) {
  return async (app: FastifyInstance) => {
    // What the dashboard needs to know of the instance: on an empty one the sign-in page offers "create the first
    // account" (which becomes the instance admin) instead of a sign-in form nobody could use; without outgoing
    // email, the invite dialog says the link must be passed on by hand.
    app.get('/api/dashboard/setup', { schema: { hide: true } }, async () => {
      const { rows } = await services.database.pool.query('select exists(select 1 from users) as any');
      return { first_account: !rows[0].any, email: Boolean(services.config.OPSBASE_SMTP_URL) };
    });
    await serveDist(app, dist);
  };
}

async function serveDist(app: FastifyInstance, dist: string) {
  if (!existsSync(`${dist}index.html`)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .code(503)
        .type('text/plain')
        .send('The dashboard is not built. Run `npm run build:web` (npm ci and npm start do it for you); the API is at /api.'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dist,
    // One route per built file (listed at start), so the catch-all below decides what an unknown path is.
    wildcard: false,
    index: false,
    // web/scripts/build-if-stale.mjs writes .br and .gz copies of the text assets.
    preCompressed: true,
    setHeaders: (res, path) => {
      const immutable = path.includes('/assets/');
      res.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const index = (_req: unknown, reply: { header: (k: string, v: string) => unknown; sendFile: (f: string) => unknown }) => {
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  };
  app.get('/', { schema: { hide: true } }, index as never);
  // The client-route fallback only exists for a browser asking for a page outside /api (a router constraint, not a
  // check in the handler): every other request finds no route, exactly as without the dashboard — the JSON 404, and
  // the router's own refusals such as an over-long path parameter (400) stay what they are.
  app.addConstraintStrategy({
    name: 'dashboardPage',
    storage: () => {
      const handlers = new Map<string, unknown>();
      return { get: (k: string) => handlers.get(k) ?? null, set: (k: string, v: unknown) => void handlers.set(k, v) };
    },
    deriveConstraint: (req: { url?: string; headers: Record<string, string | string[] | undefined> }) => {
      const path = (req.url ?? '').split('?')[0];
      const accept = req.headers.accept;
      // A missing hashed asset is a 404 too, not a page that would break as a script.
      const page = typeof accept === 'string' && accept.includes('text/html') && !isApi(path) && !path.startsWith('/assets/');
      return page ? 'yes' : 'no';
    },
    mustMatchWhenDerived: false,
  } as never);
  app.get('/*', { schema: { hide: true }, constraints: { dashboardPage: 'yes' } }, index as never);
}

/** The Content-Security-Policy for a path: the dashboard's for pages, nothing at all for API responses. */
export function cspFor(url: string): string | undefined {
  if (url.startsWith('/api/docs')) return undefined;
  return isApi(url.split('?')[0]) ? "default-src 'none'; frame-ancestors 'none'" : DASHBOARD_CSP;
}
