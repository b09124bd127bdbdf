// Reading the org's domain events and the catalog of their types.
import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { events } from '../../db/schema/billing.ts';
import { EVENT_CATALOG, EVENT_TYPES } from './record.ts';

type EventRow = typeof events.$inferSelect;

export function presentEvent(e: EventRow) {
  return {
    id: e.id,
    org_id: e.orgId,
    type: e.type,
    subject: e.subject,
    // A row whose data is not an object (written by hand, or by a bug: the poison events dispatch sets aside) still lists.
    data: e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data) ? e.data : {},
    created_at: e.createdAt.toISOString(),
    dispatched_at: iso(e.dispatchedAt),
    dispatch_attempts: e.dispatchAttempts,
    dispatch_error: e.dispatchError,
    next_dispatch_at: iso(e.nextDispatchAt),
    parked_at: iso(e.parkedAt),
  };
}

export function listEventTypes() {
  return { data: EVENT_TYPES.map((type) => ({ type, description: EVENT_CATALOG[type] })) };
}

const STATE = {
  pending: and(isNull(events.dispatchedAt), isNull(events.parkedAt)),
  dispatched: isNotNull(events.dispatchedAt),
  parked: isNotNull(events.parkedAt),
};

export async function listEvents(ctx: Ctx, input: PageInput & { type?: string; subject?: string; state?: keyof typeof STATE }) {
  return listNewestFirst(
    ctx.db,
    events,
    input,
    [
      eq(events.orgId, requireOrg(ctx)),
      input.type ? eq(events.type, input.type) : undefined,
      input.subject ? eq(events.subject, input.subject) : undefined,
      input.state ? STATE[input.state] : undefined,
    ],
    presentEvent,
  );
}
