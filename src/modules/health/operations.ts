// Probes: unauthenticated, outside /api/v1 (DESIGN §4).
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { defineOperation } from '../../core/operation.ts';
import type { Ctx } from '../../core/context.ts';
import { VERSION } from '../../version.ts';

async function databaseUp(ctx: Ctx): Promise<boolean> {
  try {
    const client = await ctx.services.database.pool.connect();
    try {
      await client.query({ text: 'select 1', query_timeout: 2000 } as never);
      return true;
    } finally {
      client.release();
    }
  } catch {
    return false;
  }
}

const Health = z.object({
  status: z.enum(['ok']),
  db: z.enum(['up']),
  version: z.string(),
  uptime_seconds: z.number(),
});

export const health = defineOperation({
  id: 'health.check',
  method: 'GET',
  path: '/api/health',
  // Orkosi's public v1 probe.
  aliases: ['/api/v1/public/health'],
  summary: 'Liveness with database status, version and uptime (503 when the database is down)',
  auth: 'public',
  scopes: [],
  input: z.object({}),
  output: Health,
  handler: async (ctx) => {
    const uptime_seconds = Math.round((Date.now() - ctx.services.startedAt) / 1000);
    if (!(await databaseUp(ctx))) {
      throw new AppError('unavailable', 'The database is unreachable.', { status: 'degraded', db: 'down', version: VERSION, uptime_seconds });
    }
    return { status: 'ok' as const, db: 'up' as const, version: VERSION, uptime_seconds };
  },
});

export const ready = defineOperation({
  id: 'health.ready',
  method: 'GET',
  path: '/api/ready',
  summary: 'Readiness: the database answers and migrations are applied',
  auth: 'public',
  scopes: [],
  input: z.object({}),
  output: z.object({ ready: z.literal(true) }),
  handler: async (ctx) => {
    if (!(await databaseUp(ctx))) throw new AppError('unavailable', 'Not ready: the database is unreachable.');
    return { ready: true as const };
  },
});

export const version = defineOperation({
  id: 'health.version',
  method: 'GET',
  path: '/api/version',
  summary: 'Server version',
  auth: 'public',
  scopes: [],
  input: z.object({}),
  output: z.object({ version: z.string(), node: z.string(), api: z.literal('v1') }),
  handler: async () => ({ version: VERSION, node: process.versions.node, api: 'v1' as const }),
});

export const healthOperations = [health, ready, version];
