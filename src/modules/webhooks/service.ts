// Outbound webhooks (issue 4, scope 5): endpoints, their signing secrets (shown once, stored encrypted), and the
// delivery log (status, attempts, latency, response code and the first 1 KiB of the body; replays).
import { randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { decrypt, encrypt } from '../../core/crypto.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { checkOutboundUrl } from '../../core/net-guard.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import type { DbOrTx } from '../../db/client.ts';
import { type WebhookDeliveryStatus, webhookDeliveries, webhooks } from '../../db/schema/webhooks.ts';
import { recordActivity } from '../activity/record.ts';
import { EVENT_TYPES } from '../events/record.ts';

type WebhookRow = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export const TEST_EVENT_TYPE = 'webhook.test';

/** `whsec_` + base64 of 32 random bytes (the Standard Webhooks secret format). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function presentWebhook(w: WebhookRow) {
  return {
    id: w.id,
    org_id: w.orgId,
    url: w.url,
    description: w.description,
    event_types: w.eventTypes,
    enabled: w.enabled,
    disabled_reason: w.disabledReason,
    failing_since: iso(w.failingSince),
    created_at: w.createdAt.toISOString(),
    updated_at: w.updatedAt.toISOString(),
  };
}

export function presentDelivery(d: DeliveryRow) {
  return {
    id: d.id,
    org_id: d.orgId,
    webhook_id: d.webhookId,
    event_id: d.eventId,
    event_type: d.eventType,
    payload: d.payload,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    last_status_code: d.lastStatusCode,
    last_response: d.lastResponse,
    last_latency_ms: d.lastLatencyMs,
    last_attempt_at: iso(d.lastAttemptAt),
    created_at: d.createdAt.toISOString(),
    delivered_at: iso(d.deliveredAt),
  };
}

function assertEventTypes(types: string[]) {
  const known = new Set<string>(EVENT_TYPES);
  const unknown = types.filter((t) => t !== '*' && !known.has(t));
  if (unknown.length) {
    throw unprocessable(`Unknown event type(s): ${unknown.join(', ')}. See GET /events/types, or use \`*\` for every type.`, {
      field: 'event_types',
      unknown,
    });
  }
}

async function assertUrl(ctx: Ctx, url: string) {
  const check = await checkOutboundUrl(url, { allowPrivate: ctx.services.config.OPSBASE_ALLOW_PRIVATE_NETWORK });
  if (!check.ok) throw unprocessable(check.message, { field: 'url', reason: check.reason });
}

async function findWebhook(ctx: Ctx, id: string, opts: { forUpdate?: boolean } = {}): Promise<WebhookRow> {
  const q = ctx.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.orgId, requireOrg(ctx)), isNull(webhooks.deletedAt)));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Webhook');
  return row;
}

export interface CreateWebhookInput {
  url: string;
  event_types: string[];
  description?: string | null;
}

export async function createWebhook(ctx: Ctx, input: CreateWebhookInput) {
  assertEventTypes(input.event_types);
  await assertUrl(ctx, input.url);
  const secret = newWebhookSecret();
  const [row] = await ctx.db
    .insert(webhooks)
    .values({
      id: newId('webhook'),
      orgId: requireOrg(ctx),
      url: input.url,
      description: input.description ?? null,
      eventTypes: [...new Set(input.event_types)],
      secretEncrypted: encrypt(secret, ctx.services.masterKey),
    })
    .returning();
  await recordActivity(ctx, {
    action: 'webhook.created',
    entityType: 'webhook',
    entityId: row.id,
    metadata: { url: row.url, event_types: row.eventTypes },
  });
  return { ...presentWebhook(row), secret };
}

export async function listWebhooks(ctx: Ctx, input: PageInput) {
  return listNewestFirst(ctx.db, webhooks, input, [eq(webhooks.orgId, requireOrg(ctx)), isNull(webhooks.deletedAt)], presentWebhook);
}

export async function getWebhook(ctx: Ctx, id: string) {
  return presentWebhook(await findWebhook(ctx, id));
}

export interface UpdateWebhookInput {
  id: string;
  url?: string;
  event_types?: string[];
  description?: string | null;
  enabled?: boolean;
}

export async function updateWebhook(ctx: Ctx, input: UpdateWebhookInput) {
  await findWebhook(ctx, input.id, { forUpdate: true });
  if (input.event_types) assertEventTypes(input.event_types);
  if (input.url !== undefined) await assertUrl(ctx, input.url);
  const [row] = await ctx.db
    .update(webhooks)
    .set({
      ...(input.url !== undefined && { url: input.url }),
      ...(input.event_types !== undefined && { eventTypes: [...new Set(input.event_types)] }),
      ...(input.description !== undefined && { description: input.description }),
      ...(input.enabled !== undefined && { enabled: input.enabled }),
      // Enabling (again) starts afresh: no reason to be disabled, no failing run.
      ...(input.enabled === true && { disabledReason: null, failingSince: null }),
      ...(input.enabled === false && { disabledReason: 'disabled by a user' }),
      updatedAt: new Date(),
    })
    .where(eq(webhooks.id, input.id))
    .returning();
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'webhook.updated', entityType: 'webhook', entityId: input.id, metadata: { changed } });
  return presentWebhook(row);
}

export async function deleteWebhook(ctx: Ctx, id: string) {
  await findWebhook(ctx, id, { forUpdate: true });
  await ctx.db.update(webhooks).set({ deletedAt: new Date(), enabled: false, updatedAt: new Date() }).where(eq(webhooks.id, id));
  await recordActivity(ctx, { action: 'webhook.deleted', entityType: 'webhook', entityId: id });
  return { id, deleted: true as const };
}

export async function rotateWebhookSecret(ctx: Ctx, id: string) {
  await findWebhook(ctx, id, { forUpdate: true });
  const secret = newWebhookSecret();
  const [row] = await ctx.db
    .update(webhooks)
    .set({ secretEncrypted: encrypt(secret, ctx.services.masterKey), updatedAt: new Date() })
    .where(eq(webhooks.id, id))
    .returning();
  await recordActivity(ctx, { action: 'webhook.secret_rotated', entityType: 'webhook', entityId: id });
  return { ...presentWebhook(row), secret };
}

/** A delivery due now, for `webhook`. */
async function enqueue(db: DbOrTx, w: WebhookRow, e: { eventId: string | null; type: string; payload: Record<string, unknown> }) {
  const [row] = await db
    .insert(webhookDeliveries)
    .values({
      id: newId('webhookDelivery'),
      orgId: w.orgId,
      webhookId: w.id,
      eventId: e.eventId,
      eventType: e.type,
      payload: e.payload,
      nextAttemptAt: new Date(),
    })
    .returning();
  return row;
}

function assertEnabled(w: WebhookRow) {
  if (!w.enabled) {
    throw unprocessable(`This webhook is disabled (${w.disabledReason ?? 'disabled'}); enable it first (PATCH enabled: true).`, { field: 'enabled' });
  }
}

export async function testWebhook(ctx: Ctx, id: string) {
  const w = await findWebhook(ctx, id);
  assertEnabled(w);
  const now = new Date().toISOString();
  const row = await enqueue(ctx.db, w, {
    eventId: null,
    type: TEST_EVENT_TYPE,
    payload: { type: TEST_EVENT_TYPE, timestamp: now, data: { webhook_id: w.id, message: 'A test delivery from Opsbase.' } },
  });
  await recordActivity(ctx, { action: 'webhook.tested', entityType: 'webhook', entityId: id, metadata: { delivery_id: row.id } });
  return presentDelivery(row);
}

export interface DeliveryFilters extends PageInput {
  status?: WebhookDeliveryStatus;
  event_type?: string;
  webhook_id?: string;
}

async function listDeliveriesWhere(ctx: Ctx, input: DeliveryFilters) {
  return listNewestFirst(
    ctx.db,
    webhookDeliveries,
    input,
    [
      eq(webhookDeliveries.orgId, requireOrg(ctx)),
      input.webhook_id ? eq(webhookDeliveries.webhookId, input.webhook_id) : undefined,
      input.status ? eq(webhookDeliveries.status, input.status) : undefined,
      input.event_type ? eq(webhookDeliveries.eventType, input.event_type) : undefined,
    ],
    presentDelivery,
  );
}

export async function listWebhookDeliveries(ctx: Ctx, input: DeliveryFilters & { id: string }) {
  await findWebhook(ctx, input.id);
  return listDeliveriesWhere(ctx, { ...input, webhook_id: input.id });
}

export const listAllDeliveries = (ctx: Ctx, input: DeliveryFilters) => listDeliveriesWhere(ctx, input);

/** Sends a delivery's payload again, now, as a new delivery (its own id, attempts and log). */
export async function replayDelivery(ctx: Ctx, id: string) {
  const [d] = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.orgId, requireOrg(ctx))));
  if (!d) throw notFound('Webhook delivery');
  const [w] = await ctx.db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, d.webhookId), isNull(webhooks.deletedAt)));
  if (!w) throw unprocessable('The webhook of this delivery was deleted.', { field: 'id' });
  assertEnabled(w);
  const row = await enqueue(ctx.db, w, { eventId: null, type: d.eventType, payload: d.payload });
  await recordActivity(ctx, { action: 'webhook_delivery.replayed', entityType: 'webhook_delivery', entityId: row.id, metadata: { replay_of: id } });
  return presentDelivery(row);
}

/** The plaintext signing secret of a stored webhook (for the deliverer). */
export const webhookSecret = (w: Pick<WebhookRow, 'secretEncrypted'>, masterKey: Buffer) => decrypt(w.secretEncrypted, masterKey);
