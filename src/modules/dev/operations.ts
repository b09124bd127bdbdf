// Developer tools: the org's recent API requests (BizBasics "debugging logs").
import { and, desc, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import { requireOrg } from '../../core/context.ts';
import { defineOperation } from '../../core/operation.ts';
import { decodeCursor, listOf, PageInput, toPage } from '../../core/pagination.ts';
import { apiRequests } from '../../db/schema/activity.ts';
import { KeyRequest } from '../keys/operations.ts';
import { presentRequest } from '../keys/service.ts';

export const apiRequestLog = defineOperation({
  id: 'dev.api_requests',
  method: 'GET',
  path: '/dev/api-requests',
  summary: "The org's recent API requests (method, path, status, latency, key)",
  scopes: ['logs:read'],
  input: PageInput.extend({
    status: z.coerce.number().int().min(100).max(599).optional(),
    method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']).optional(),
    key_id: z.string().max(64).optional(),
  }),
  output: listOf(KeyRequest),
  cli: { columns: ['time', 'method', 'path', 'status', 'latency_ms', 'key_id'] },
  handler: async (ctx, input) => {
    // The log is written in batches; flush this instance's buffer so a caller sees its own requests.
    await ctx.services.requestLog.flush();
    const after = decodeCursor(input.cursor);
    const rows = await ctx.db
      .select()
      .from(apiRequests)
      .where(
        and(
          eq(apiRequests.orgId, requireOrg(ctx)),
          input.status ? eq(apiRequests.status, input.status) : undefined,
          input.method ? eq(apiRequests.method, input.method) : undefined,
          input.key_id ? eq(apiRequests.keyId, input.key_id) : undefined,
          after ? lt(apiRequests.id, after) : undefined,
        ),
      )
      .orderBy(desc(apiRequests.id))
      .limit(input.limit + 1)
      .offset(after ? 0 : (input.offset ?? 0));
    const page = toPage(rows, input.limit, (r) => r.id);
    return { data: page.data.map(presentRequest), meta: page.meta };
  },
});

export const devOperations = [apiRequestLog];
