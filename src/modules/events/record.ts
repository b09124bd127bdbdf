// Domain events, written in the transaction of the change that caused them (a transactional outbox): the
// webhook and notification machinery reads them from here.
import type { DbOrTx } from '../../db/client.ts';
import { events } from '../../db/schema/billing.ts';
import { newId } from '../../core/ids.ts';

export const EVENT_TYPES = ['credits.low', 'credits.exhausted', 'payment.succeeded', 'plan.changed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export async function recordEvent(db: DbOrTx, e: { orgId: string; type: EventType; subject?: string; data?: Record<string, unknown> }) {
  const [row] = await db
    .insert(events)
    .values({ id: newId('event'), orgId: e.orgId, type: e.type, subject: e.subject ?? null, data: e.data ?? {} })
    .returning();
  return row;
}
