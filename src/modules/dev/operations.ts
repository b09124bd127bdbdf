// Developer tools: the org's recent API requests (BizBasics "debugging logs").
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { requireOrg } from '../../core/context.ts';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput, paginate } from '../../core/pagination.ts';
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
    return paginate(
      input,
      apiRequests.id,
      (w) =>
        ctx.db
          .select()
          .from(apiRequests)
          .where(
            and(
              eq(apiRequests.orgId, requireOrg(ctx)),
              input.status ? eq(apiRequests.status, input.status) : undefined,
              input.method ? eq(apiRequests.method, input.method) : undefined,
              input.key_id ? eq(apiRequests.keyId, input.key_id) : undefined,
              w.after,
            ),
          )
          .orderBy(desc(apiRequests.id))
          .limit(w.limit)
          .offset(w.offset),
      (r) => r.id,
      presentRequest,
    );
  },
});

export const devOperations = [apiRequestLog];
