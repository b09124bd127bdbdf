// The event dispatcher: fans recorded events out, in the order they were recorded, to notifications and webhook
// deliveries (and, as they arrive, pilot triggers). At least once: an event is marked dispatched in the same transaction
// that writes what it fanned out to, and notifications are unique per (event, recipient), so a pass that dies
// half-way is simply redone. In order per subject: one dispatcher at a time (a transaction-scoped advisory lock)
// walks pending events by `seq`. Any number of worker processes run the loop; the others skip while one holds it.
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import { newId } from '../../core/ids.ts';
import type { DbOrTx } from '../../db/client.ts';
import { events } from '../../db/schema/billing.ts';
import { notifications } from '../../db/schema/notifications.ts';
import { orgMembers, type Role } from '../../db/schema/orgs.ts';
import { fanOutToWebhooks } from '../webhooks/deliver.ts';
import type { EventType } from './record.ts';
import { type Loop, startLoop } from '../../jobs/loop.ts';

type EventRow = typeof events.$inferSelect;

interface Rule {
  /** Members with these roles each get a notification ("admins" includes owners). */
  roles: Role[];
  title: (e: EventRow) => string;
  body?: (e: EventRow) => string | null;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** Which events make notifications, for whom. Events without a rule are dispatched with no notification. */
export const NOTIFICATION_RULES: Partial<Record<EventType, Rule>> = {
  'credits.low': {
    roles: ['owner', 'admin'],
    title: () => 'Credits are running low',
    body: (e) => `${str(e.data.available)} credits left (threshold ${str(e.data.threshold)}). Top up to keep paid operations running.`,
  },
  'credits.exhausted': {
    roles: ['owner', 'admin'],
    title: () => 'Credits exhausted',
    body: () => 'Paid operations fail with 402 out_of_credits until the balance is topped up.',
  },
  'org.member_added': {
    roles: ['owner', 'admin'],
    title: (e) => `${str(e.data.username) || 'A new member'} joined the org`,
    body: (e) => `Role: ${str(e.data.role)}.`,
  },
  'job.failed': {
    roles: ['owner', 'admin'],
    title: (e) => `Job failed: ${str(e.data.task_type)} on queue ${str(e.data.queue)}`,
    body: (e) => {
      const err = e.data.error as { message?: unknown } | null | undefined;
      return `Dead-lettered after ${str(e.data.attempts)} attempt(s)${err?.message ? `: ${str(err.message)}` : '.'}`;
    },
  },
  'payment.succeeded': {
    roles: ['owner'],
    title: () => 'Payment succeeded',
    body: (e) => (e.data.credits ? `${str(e.data.credits)} credits were added.` : null),
  },
  'plan.changed': {
    roles: ['owner'],
    title: (e) => `Plan changed${e.data.to ? ` to ${str(e.data.to)}` : ''}`,
    body: (e) => (e.data.from ? `Previous plan: ${str(e.data.from)}.` : null),
  },
};

const LOCK_KEY = 4_242_001; // pg advisory lock: one dispatcher at a time, instance-wide
const BATCH = 200;

async function fanOut(tx: DbOrTx, e: EventRow): Promise<number> {
  const rule = NOTIFICATION_RULES[e.type as EventType];
  if (!rule) return 0;
  const recipients = await tx
    .select({ userId: orgMembers.userId })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, e.orgId), inArray(orgMembers.role, rule.roles)));
  // The member an event is about is not told about themselves.
  const to = recipients.map((r) => r.userId).filter((u) => !(e.type === 'org.member_added' && u === e.subject));
  if (!to.length) return 0;
  const title = rule.title(e);
  const body = rule.body?.(e) ?? null;
  const rows = await tx
    .insert(notifications)
    .values(
      to.map((userId) => ({
        id: newId('notification'),
        orgId: e.orgId,
        userId,
        type: e.type,
        title,
        body,
        data: { ...e.data, subject: e.subject },
        eventId: e.id,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: notifications.id });
  return rows.length;
}

/** One dispatcher pass over every pending event; exported for tests, which call it directly. */
export async function dispatchEvents(
  services: AppServices,
): Promise<{ dispatched: number; notifications: number; webhook_deliveries: number; busy: boolean }> {
  let dispatched = 0;
  let made = 0;
  let deliveries = 0;
  for (;;) {
    const r = await services.database.db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked`);
      if (!rows[0]?.locked) return null;
      const batch = await tx.select().from(events).where(isNull(events.dispatchedAt)).orderBy(asc(events.seq)).limit(BATCH);
      let n = 0;
      for (const e of batch) n += await fanOut(tx, e);
      const deliveries = await fanOutToWebhooks(tx, batch);
      if (batch.length) {
        await tx
          .update(events)
          .set({ dispatchedAt: new Date() })
          .where(
            inArray(
              events.id,
              batch.map((e) => e.id),
            ),
          );
      }
      return { count: batch.length, made: n, deliveries };
    });
    if (!r) return { dispatched, notifications: made, webhook_deliveries: deliveries, busy: true };
    dispatched += r.count;
    made += r.made;
    deliveries += r.deliveries;
    if (r.count < BATCH) return { dispatched, notifications: made, webhook_deliveries: deliveries, busy: false };
  }
}

const TICK_MS = 1000;

/** The worker's loop: a pass every second (pg-boss cron has minute resolution). */
export function startEventDispatcher(services: AppServices, everyMs = TICK_MS): Loop {
  return startLoop('event dispatch', services.log, everyMs, async () => {
    const r = await dispatchEvents(services);
    if (r.dispatched) services.log.debug(r, 'events dispatched');
  });
}
