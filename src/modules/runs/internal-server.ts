// An llm run's tools call registry operations as the agent, through the same path as the API (DESIGN §9). A worker
// process (`opsbase worker`) serves no HTTP, so it keeps one app built from the registry, never listening, and
// calls it in-process (Fastify inject): same validation, auth, scopes, billing, tenancy and activity log.
import type { FastifyInstance } from 'fastify';
import type { AppServices } from '../../core/services.ts';
import { buildServer } from '../../http/server.ts';
import { allOperations } from '../agents/validate.ts';

const servers = new WeakMap<AppServices, Promise<FastifyInstance>>();

export function internalServer(services: AppServices): Promise<FastifyInstance> {
  let server = servers.get(services);
  if (!server) {
    server = allOperations().then(async (operations) => {
      const app = await buildServer({ services, operations: [...operations] });
      await app.ready();
      return app;
    });
    servers.set(services, server);
  }
  return server;
}

export async function closeInternalServer(services: AppServices): Promise<void> {
  const server = servers.get(services);
  servers.delete(services);
  // One that failed to build has nothing to close.
  if (server) await server.then((app) => app.close()).catch(() => {});
}
