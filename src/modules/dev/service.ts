// The org's API request log (written in batches by http/request-log.ts), read by `dev.api_requests` and `keys.usage`.
import { eq } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { type PageInput, listNewestFirst } from '../../core/pagination.ts';
import { apiRequests } from '../../db/schema/activity.ts';

export function presentRequest(r: typeof apiRequests.$inferSelect) {
  return {
    id: r.id,
    time: r.createdAt.toISOString(),
    method: r.method,
    path: r.path,
    route: r.route,
    status: r.status,
    latency_ms: r.latencyMs,
    key_id: r.keyId,
    user_id: r.userId,
    ip: r.ip,
    request_id: r.requestId,
  };
}

export interface RequestFilter {
  status?: number;
  method?: string;
  key_id?: string;
}

export async function listApiRequests(ctx: Ctx, input: PageInput & RequestFilter) {
  // The log is written in batches; flush this instance's buffer so a caller sees its own requests.
  await ctx.services.requestLog.flush();
  return listNewestFirst(
    ctx.db,
    apiRequests,
    input,
    [
      eq(apiRequests.orgId, requireOrg(ctx)),
      input.status ? eq(apiRequests.status, input.status) : undefined,
      input.method ? eq(apiRequests.method, input.method) : undefined,
      input.key_id ? eq(apiRequests.keyId, input.key_id) : undefined,
    ],
    presentRequest,
  );
}
