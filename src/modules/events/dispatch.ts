// The event dispatcher: fans recorded events out, in the order they were recorded, to notifications and webhook
// deliveries (and, as they arrive, pilot triggers). At least once: an event is marked dispatched in the same transaction
// that writes what it fanned out to, and notifications are unique per (event, recipient), so a pass that dies
// half-way is simply redone. In order per subject: one dispatcher at a time (a transaction-scoped advisory lock)
// walks pending events by `seq`. Any number of worker processes run the loop; the others skip while one holds it.
// The one exception to the order: an event whose fan-out fails is set aside (retried with backoff, then parked with
// its error, visible in `GET /events`) so it cannot stall the events of every org behind it.
import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
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
  'run.failed': {
    roles: ['owner', 'admin'],
    title: (e) => `Run failed: ${str(e.data.task_title) || str(e.data.task_id)}`,
    body: (e) =>
      `${str(e.data.status) === 'timed_out' ? 'Timed out' : 'Failed'}${e.data.message ? `: ${str(e.data.message)}` : '.'} The credit was refunded.`,
  },
  'agent.paused': {
    roles: ['owner', 'admin'],
    title: (e) => `Agent ${str(e.data.name)} paused`,
    body: (e) => (e.data.reason ? `Reason: ${str(e.data.reason)}.` : null),
  },
  'agent.budget_alert': {
    roles: ['owner', 'admin'],
    title: (e) => `Agent ${str(e.data.name)} reached ${str(e.data.pct)}% of its monthly budget`,
    body: (e) => (e.data.budget ? `Budget: ${str(e.data.budget)}.` : null),
  },
  'agent.resumed': {
    roles: ['owner', 'admin'],
    title: (e) => `Agent ${str(e.data.name)} resumed`,
    body: () => 'Its budget paused it last month; the new month gave it room, so it takes work again.',
  },
  'payment.succeeded': {
    roles: ['owner'],
    title: () => 'Payment succeeded',
    body: (e) => (e.data.amount ? `${Number(e.data.amount).toLocaleString('en-US')} ${str(e.data.currency) || 'credits'} were added.` : null),
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

/** A poison event (its fan-out throws) is retried after 10 s, 20 s, 40 s, 80 s, then parked with its error. */
export const MAX_DISPATCH_ATTEMPTS = 5;
const RETRY_BASE_MS = 10_000;

/** What one event (or one batch) fans out to; throws when any part of it fails. */
async function fanOutAll(tx: DbOrTx, batch: EventRow[]): Promise<{ made: number; deliveries: number }> {
  let made = 0;
  for (const e of batch) made += await fanOut(tx, e);
  return { made, deliveries: await fanOutToWebhooks(tx, batch) };
}

/** Records a failed fan-out: retried with backoff, or parked once out of attempts. */
async function recordFailure(tx: DbOrTx, e: EventRow, err: unknown): Promise<void> {
  const attempts = e.dispatchAttempts + 1;
  const parked = attempts >= MAX_DISPATCH_ATTEMPTS;
  await tx
    .update(events)
    .set({
      dispatchAttempts: attempts,
      dispatchError: String((err as Error)?.message ?? err).slice(0, 1000),
      nextDispatchAt: parked ? null : new Date(Date.now() + RETRY_BASE_MS * 2 ** (attempts - 1)),
      parkedAt: parked ? new Date() : null,
    })
    .where(eq(events.id, e.id));
}

/** Marks events fanned out (in the transaction that wrote what they fanned out to). */
async function markDispatched(tx: DbOrTx, ids: string[]) {
  if (ids.length) await tx.update(events).set({ dispatchedAt: new Date(), nextDispatchAt: null }).where(inArray(events.id, ids));
}

/**
 * The batch one event at a time, each in its own savepoint, after the whole batch threw: one poison event is set aside
 * (retried later, then parked) and every other event flows.
 */
async function dispatchOneByOne(tx: DbOrTx, batch: EventRow[]) {
  const out = { made: 0, deliveries: 0, failed: 0 };
  const done: string[] = [];
  for (const e of batch) {
    try {
      const r = await tx.transaction((sp) => fanOutAll(sp, [e]));
      out.made += r.made;
      out.deliveries += r.deliveries;
      done.push(e.id);
    } catch (err) {
      out.failed++;
      await recordFailure(tx, e, err);
    }
  }
  await markDispatched(tx, done);
  return out;
}

/** The whole batch threw: its transaction is rolled back and the pass redone one event at a time. */
class BatchFailed extends Error {}

type Pass = { count: number; made: number; deliveries: number; failed: number } | null;

/**
 * One pass over up to BATCH pending events in one transaction, or null when another dispatcher holds the lock. The
 * common case is one round of statements: the lock, the batch, what it fans out to, the marks. The transaction commits
 * without waiting for the WAL flush: a pass lost in a crash lost its marks with its fan-out, and the events are simply
 * dispatched again (at least once, as always). `oneByOne` is the retry of a batch that threw.
 */
async function dispatchPass(services: AppServices, oneByOne: boolean): Promise<Pass> {
  return services.database.db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ locked: boolean }>(
      sql`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked, set_config('synchronous_commit', 'off', true) as async_commit`,
    );
    if (!rows[0]?.locked) return null;
    const batch = await tx
      .select()
      .from(events)
      .where(and(isNull(events.dispatchedAt), isNull(events.parkedAt), or(isNull(events.nextDispatchAt), lte(events.nextDispatchAt, sql`now()`))))
      .orderBy(asc(events.seq))
      .limit(BATCH);
    if (!batch.length) return { count: 0, made: 0, deliveries: 0, failed: 0 };
    if (oneByOne) return { count: batch.length, ...(await dispatchOneByOne(tx, batch)) };
    let r: { made: number; deliveries: number };
    try {
      r = await fanOutAll(tx, batch);
    } catch {
      throw new BatchFailed();
    }
    await markDispatched(
      tx,
      batch.map((e) => e.id),
    );
    return { count: batch.length, ...r, failed: 0 };
  });
}

/** One dispatcher pass over every pending event; exported for tests, which call it directly. */
export async function dispatchEvents(
  services: AppServices,
): Promise<{ dispatched: number; failed: number; notifications: number; webhook_deliveries: number; busy: boolean }> {
  const total = { dispatched: 0, failed: 0, notifications: 0, webhook_deliveries: 0 };
  for (;;) {
    const r = await dispatchPass(services, false).catch((err) => {
      if (err instanceof BatchFailed) return dispatchPass(services, true);
      throw err;
    });
    if (!r) return { ...total, busy: true };
    total.dispatched += r.count - r.failed;
    total.failed += r.failed;
    total.notifications += r.made;
    total.webhook_deliveries += r.deliveries;
    if (r.count < BATCH) return { ...total, busy: false };
  }
}

const TICK_MS = 1000;
/**
 * How long a woken dispatcher waits for more: events come in bursts (a run records four within milliseconds), and one
 * pass for the burst is one transaction instead of one each — on the path of the work that recorded them.
 */
const COALESCE_MS = 20;

/** The worker's relay loop: woken by the NOTIFY of new events, and a pass every second regardless. */
export function startEventDispatcher(services: AppServices, everyMs = TICK_MS): Loop {
  return startLoop(
    'event dispatch',
    services.log,
    everyMs,
    async () => {
      const r = await dispatchEvents(services);
      if (r.failed) services.log.warn(r, 'events failed to fan out: set aside for a retry (see dispatch_error in GET /events)');
      else if (r.dispatched) services.log.debug(r, 'events dispatched');
    },
    { coalesceMs: COALESCE_MS },
  );
}
