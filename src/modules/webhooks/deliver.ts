// Webhook delivery (Standard Webhooks): the event dispatcher writes pending deliveries (fanOutToWebhooks, in its
// transaction); the worker's loop claims the due ones (FOR UPDATE SKIP LOCKED, then leased by pushing
// next_attempt_at past the time its batch may take, so a worker that dies mid-request loses nothing), POSTs them signed,
// up to 16 at a time over keep-alive connections, and records the outcome. 2xx → succeeded; 410 → the endpoint is
// disabled; anything else is retried after 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 10 h, then failed. An endpoint whose
// deliveries have failed without a success for 5 days is disabled, with a notification.
import http from 'node:http';
import https from 'node:https';
import { and, asc, eq, inArray, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { idFloor, newId } from '../../core/ids.ts';
import { guardedLookup } from '../../core/guarded-fetch.ts';
import { checkOutboundUrl } from '../../core/net-guard.ts';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import type { events } from '../../db/schema/billing.ts';
import { notifications } from '../../db/schema/notifications.ts';
import { webhookDeliveries, webhooks } from '../../db/schema/webhooks.ts';
import { webhookSecret } from './service.ts';
import { type Loop, startLoop } from '../../jobs/loop.ts';

type EventRow = typeof events.$inferSelect;
type WebhookRow = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Delay before retry n (after the n-th failed attempt); one attempt plus these seven retries, then failed. */
export const RETRY_DELAYS_MS = [5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const TIMEOUT_MS = 15_000;
export const DISABLE_AFTER_MS = 5 * 24 * 3_600_000;
const CONCURRENCY = 16;
const CLAIM_BATCH = 100;
/** A claimed delivery is not claimed again before this: longer than its whole batch may take, at 15 s a request. */
const LEASE_MS = Math.ceil(CLAIM_BATCH / CONCURRENCY) * TIMEOUT_MS + 30_000;
const RESPONSE_KEEP = 1024;
/** Response bytes read at most (the rest is dropped with the connection). */
const RESPONSE_READ_MAX = 64 * 1024;

/** The event as sent: `{ type, timestamp, data }`; data carries the event's subject and id too. */
export function eventPayload(e: EventRow): Record<string, unknown> {
  return { type: e.type, timestamp: e.createdAt.toISOString(), data: { ...e.data, subject: e.subject, event_id: e.id } };
}

/**
 * In the dispatcher's transaction: one pending delivery per (event, enabled endpoint of its org subscribed to its
 * type or `*`, created before the event). Unique per (event, endpoint), so a dispatch pass that is redone adds nothing.
 */
export async function fanOutToWebhooks(tx: DbOrTx, batch: EventRow[]): Promise<number> {
  if (!batch.length) return 0;
  const orgIds = [...new Set(batch.map((e) => e.orgId))];
  const endpoints = await tx
    .select({ id: webhooks.id, orgId: webhooks.orgId, eventTypes: webhooks.eventTypes, createdAt: webhooks.createdAt })
    .from(webhooks)
    .where(and(inArray(webhooks.orgId, orgIds), eq(webhooks.enabled, true), isNull(webhooks.deletedAt)));
  if (!endpoints.length) return 0;
  const now = new Date();
  const rows = batch.flatMap((e) =>
    endpoints
      .filter(
        // Only events that happened after the endpoint existed (a new endpoint is not sent the org's backlog).
        (w) => w.orgId === e.orgId && e.createdAt >= w.createdAt && (w.eventTypes.includes('*') || w.eventTypes.includes(e.type)),
      )
      .map((w) => ({
        id: newId('webhookDelivery'),
        orgId: e.orgId,
        webhookId: w.id,
        eventId: e.id,
        eventType: e.type,
        payload: eventPayload(e),
        nextAttemptAt: now,
      })),
  );
  if (!rows.length) return 0;
  const made = await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing().returning({ id: webhookDeliveries.id });
  return made.length;
}

// ── sending ───────────────────────────────────────────────────────────────────────────────────────────────────

// DNS answers are checked again as the socket connects (a host that passed when saved may now point inside).
const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: TIMEOUT_MS };
const agents = {
  open: { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) },
  guarded: { http: new http.Agent({ ...agentOptions, lookup: guardedLookup }), https: new https.Agent({ ...agentOptions, lookup: guardedLookup }) },
};

export interface Outcome {
  status: number | null;
  body: string;
  latencyMs: number;
}

/** One guarded request (also how an `http` agent is sent its run): never throws; a network error has status null. */
export function post(url: URL, headers: Record<string, string>, body: string, allowPrivate: boolean, method: 'POST' | 'PUT' = 'POST'): Promise<Outcome> {
  const started = performance.now();
  const done = (status: number | null, text: string): Outcome => ({ status, body: text, latencyMs: Math.round(performance.now() - started) });
  return new Promise((resolve) => {
    const lib = url.protocol === 'https:' ? https : http;
    const pool = allowPrivate ? agents.open : agents.guarded;
    const req = lib.request(
      url,
      {
        method,
        agent: url.protocol === 'https:' ? pool.https : pool.http,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Opsbase-Webhooks/1',
        },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (c: Buffer) => {
          if (read < RESPONSE_KEEP) chunks.push(c);
          read += c.length;
          if (read > RESPONSE_READ_MAX) res.destroy();
        });
        const finish = () => resolve(done(res.statusCode ?? null, Buffer.concat(chunks).subarray(0, RESPONSE_KEEP).toString('utf8')));
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    req.on('error', (err: Error & { code?: string }) => {
      const what = err.name === 'AbortError' || err.name === 'TimeoutError' ? `timed out after ${TIMEOUT_MS / 1000} s` : err.message;
      resolve(done(null, `request failed: ${what}`.slice(0, RESPONSE_KEEP)));
    });
    req.end(body);
  });
}

// ── the loop ──────────────────────────────────────────────────────────────────────────────────────────────────

interface Claimed {
  delivery: DeliveryRow;
  webhook: WebhookRow;
}

async function claim(services: AppServices, now: Date, limit: number): Promise<Claimed[]> {
  return services.database.db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (!due.length) return [];
    const ids = due.map((d) => d.id);
    await tx
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(now.getTime() + LEASE_MS) })
      .where(inArray(webhookDeliveries.id, ids));
    const hooks = await tx
      .select()
      .from(webhooks)
      .where(inArray(webhooks.id, [...new Set(due.map((d) => d.webhookId))]));
    const byId = new Map(hooks.map((w) => [w.id, w]));
    return due.flatMap((d) => {
      const webhook = byId.get(d.webhookId);
      return webhook ? [{ delivery: d, webhook }] : [];
    });
  });
}

async function notifyDisabled(db: DbOrTx, w: WebhookRow, reason: string) {
  await db.insert(notifications).values({
    id: newId('notification'),
    orgId: w.orgId,
    userId: null,
    type: 'webhook.disabled',
    title: 'Webhook endpoint disabled',
    body: `${w.url}: ${reason}. Fix the endpoint, then enable it again (PATCH /webhooks/${w.id} enabled: true).`,
    data: { webhook_id: w.id, url: w.url, reason },
  });
}

/** Disables the endpoint (once) with a reason and an org-wide notification. */
async function disable(db: DbOrTx, w: WebhookRow, reason: string, now: Date) {
  const [changed] = await db
    .update(webhooks)
    .set({ enabled: false, disabledReason: reason, updatedAt: now })
    .where(and(eq(webhooks.id, w.id), eq(webhooks.enabled, true)))
    .returning({ id: webhooks.id });
  if (changed) await notifyDisabled(db, w, reason);
}

interface Success {
  id: string;
  outcome: Outcome;
}

/**
 * One attempt. A plain success (the endpoint was not failing) is returned for the batch's single UPDATE
 * (recordSuccesses); every other outcome is written here.
 */
async function attempt(services: AppServices, c: Claimed, now: Date): Promise<'retry' | 'failed' | 'succeeded' | Success> {
  const { delivery: d, webhook: w } = c;
  const db = services.database.db;
  const finish = (status: 'failed', reason: string) =>
    db
      .update(webhookDeliveries)
      .set({ status, lastResponse: reason, nextAttemptAt: null })
      .where(eq(webhookDeliveries.id, d.id))
      .then(() => status);
  if (w.deletedAt) return finish('failed', 'not sent: the webhook was deleted');
  if (!w.enabled) return finish('failed', `not sent: the webhook is disabled (${w.disabledReason ?? 'disabled'})`);

  const allowPrivate = services.config.OPSBASE_ALLOW_PRIVATE_NETWORK;
  const body = JSON.stringify(d.payload);
  let outcome: Outcome;
  const check = await checkOutboundUrl(w.url, { allowPrivate });
  if (!check.ok) outcome = { status: null, body: `not sent: ${check.message}`, latencyMs: 0 };
  else {
    // The signature's timestamp is the real send time (receivers check it against their clock).
    const signature = new Webhook(webhookSecret(w, services.masterKey)).sign(d.id, new Date(), body);
    const sentAt = Math.floor(Date.now() / 1000);
    outcome = await post(check.url, { 'webhook-id': d.id, 'webhook-timestamp': String(sentAt), 'webhook-signature': signature }, body, allowPrivate);
  }
  const attempts = d.attempts + 1;
  const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
  const gone = outcome.status === 410;
  const retry = !ok && !gone && attempts < MAX_ATTEMPTS;
  const status = ok ? 'succeeded' : retry ? 'pending' : 'failed';
  if (ok && !w.failingSince) return { id: d.id, outcome };
  await db.transaction(async (tx) => {
    await tx
      .update(webhookDeliveries)
      .set({
        status,
        attempts,
        lastStatusCode: outcome.status,
        lastResponse: outcome.body,
        lastLatencyMs: outcome.latencyMs,
        lastAttemptAt: now,
        nextAttemptAt: retry ? new Date(now.getTime() + RETRY_DELAYS_MS[attempts - 1]) : null,
        deliveredAt: ok ? now : null,
      })
      .where(eq(webhookDeliveries.id, d.id));
    if (ok) {
      if (w.failingSince) await tx.update(webhooks).set({ failingSince: null }).where(eq(webhooks.id, w.id));
      return;
    }
    if (gone) return disable(tx, w, 'the endpoint answered 410 Gone', now);
    const [row] = await tx
      .update(webhooks)
      .set({ failingSince: sql`coalesce(${webhooks.failingSince}, ${now.toISOString()}::timestamptz)` })
      .where(eq(webhooks.id, w.id))
      .returning({ failingSince: webhooks.failingSince });
    if (row?.failingSince && now.getTime() - row.failingSince.getTime() >= DISABLE_AFTER_MS) {
      await disable(tx, w, 'deliveries failed continuously for 5 days', now);
    }
  });
  return ok ? 'succeeded' : retry ? 'retry' : 'failed';
}

/** Writes a batch's plain successes in one statement. */
async function recordSuccesses(services: AppServices, done: Success[], now: Date) {
  if (!done.length) return;
  const values: SQL[] = done.map((s) => sql`(${s.id}, ${s.outcome.status}::int, ${s.outcome.body}::text, ${s.outcome.latencyMs}::int)`);
  await services.database.db.execute(sql`
    update webhook_deliveries d
       set status = 'succeeded', attempts = d.attempts + 1, last_status_code = v.code, last_response = v.body,
           last_latency_ms = v.latency, last_attempt_at = ${now.toISOString()}::timestamptz, next_attempt_at = null,
           delivered_at = ${now.toISOString()}::timestamptz
      from (values ${sql.join(values, sql`, `)}) as v(id, code, body, latency)
     where d.id = v.id`);
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

export interface DeliverResult {
  attempted: number;
  succeeded: number;
  retrying: number;
  failed: number;
}

/**
 * Delivers every due delivery (due at `now`, default the clock), until none is left; exported for tests, which
 * pass `now` instead of waiting for retries.
 */
export async function deliverDue(services: AppServices, opts: { now?: Date; limit?: number } = {}): Promise<DeliverResult> {
  const result: DeliverResult = { attempted: 0, succeeded: 0, retrying: 0, failed: 0 };
  const limit = opts.limit ?? CLAIM_BATCH;
  for (;;) {
    const now = opts.now ?? new Date();
    const claimed = await claim(services, now, limit);
    const successes: Success[] = [];
    await pool(claimed, CONCURRENCY, async (c) => {
      try {
        const r = await attempt(services, c, now);
        result.attempted++;
        if (typeof r === 'object') successes.push(r);
        else if (r === 'succeeded') result.succeeded++;
        else if (r === 'retry') result.retrying++;
        else result.failed++;
      } catch (err) {
        // Left leased: retried when the lease runs out.
        services.log.warn({ err: (err as Error).message, delivery: c.delivery.id }, 'webhook delivery failed to record');
      }
    });
    try {
      await recordSuccesses(services, successes, now);
      result.succeeded += successes.length;
    } catch (err) {
      // Left leased: sent again when the lease runs out (at least once).
      services.log.warn({ err: (err as Error).message, deliveries: successes.length }, 'webhook deliveries failed to record');
    }
    if (claimed.length < limit) return result;
  }
}

const TICK_MS = 1000;

/** The worker's loop: a pass every second (a pass itself goes on while it keeps finding full batches). */
export function startWebhookDeliverer(services: AppServices, everyMs = TICK_MS): Loop {
  return startLoop('webhook delivery', services.log, everyMs, async () => {
    const r = await deliverDue(services);
    if (r.attempted) services.log.debug(r, 'webhooks delivered');
  });
}

/** Finished deliveries (succeeded or failed) are kept this long by default (OPSBASE_RETENTION_WEBHOOK_DELIVERIES_DAYS). */
export const DELIVERY_RETENTION_DAYS = 30;

/**
 * Prunes up to `limit` finished deliveries older than the retention (the maintenance job calls it until a call
 * prunes fewer). Pending ones stay until they finish. Ids are time-ordered, so the primary key bounds the scan.
 */
export async function pruneDeliveries(db: DbOrTx, now = Date.now(), days = DELIVERY_RETENTION_DAYS, limit = 10_000): Promise<number> {
  const floor = idFloor('webhookDelivery', now - days * 86_400_000);
  const { rows } = await db.execute<{ n: number }>(
    sql`with gone as (
          delete from webhook_deliveries where id in (
            select id from webhook_deliveries where id < ${floor} and status <> 'pending' limit ${limit})
          returning 1)
        select count(*)::int as n from gone`,
  );
  return rows[0]?.n ?? 0;
}
