import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, Timestamp } from '../../core/schemas.ts';
import * as webhooks from './service.ts';

export const Webhook = z
  .object({
    id: z.string(),
    org_id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().describe('Why it was disabled (410 Gone, failing for 5 days, by a user)'),
    failing_since: Timestamp.nullable().describe('Start of the current run of failed deliveries (null: healthy)'),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Webhook' });

const WebhookWithSecret = Webhook.extend({
  secret: z.string().describe('The signing secret (`whsec_…`), shown only in this response. Store it now.'),
}).meta({ id: 'WebhookWithSecret' });

export const WebhookDelivery = z
  .object({
    id: z.string().describe('Also the `webhook-id` header of the request'),
    org_id: z.string(),
    webhook_id: z.string(),
    event_id: z.string().nullable(),
    event_type: z.string(),
    payload: z.record(z.string(), z.unknown()).describe('The JSON body sent: `{ type, timestamp, data }`'),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    next_attempt_at: Timestamp.nullable(),
    last_status_code: z.number().int().nullable(),
    last_response: z.string().nullable().describe('The first 1 KiB of the last response body, or the network error'),
    last_latency_ms: z.number().int().nullable(),
    last_attempt_at: Timestamp.nullable(),
    created_at: Timestamp,
    delivered_at: Timestamp.nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

const columns = ['id', 'url', 'event_types', 'enabled', 'disabled_reason'];
const deliveryColumns = ['id', 'event_type', 'status', 'attempts', 'last_status_code', 'last_latency_ms', 'created_at'];
const id = IdParam('Webhook');
const Url = z.string().trim().min(1).max(2000).describe('An http(s) URL; private, loopback and link-local hosts are refused');
const EventTypes = z.array(z.string().min(1).max(100)).min(1).max(100).describe('Event types (see GET /events/types), or `*` for all');
const DeliveryFilters = PageInput.extend({
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  event_type: z.string().max(100).optional(),
});

export const createWebhook = defineOperation({
  id: 'webhooks.create',
  method: 'POST',
  path: '/webhooks',
  summary: 'Create a webhook endpoint (the signing secret is shown once)',
  scopes: ['webhooks:write'],
  input: z.object({ url: Url, event_types: EventTypes, description: z.string().max(500).nullish() }),
  output: WebhookWithSecret,
  cli: { columns: [...columns, 'secret'] },
  handler: (ctx, input) => webhooks.createWebhook(ctx, input),
});

export const listWebhooks = defineOperation({
  id: 'webhooks.list',
  method: 'GET',
  path: '/webhooks',
  summary: "The org's webhook endpoints",
  scopes: ['webhooks:read'],
  input: PageInput,
  output: listOf(Webhook),
  cli: { columns },
  handler: (ctx, input) => webhooks.listWebhooks(ctx, input),
});

export const getWebhook = defineOperation({
  id: 'webhooks.get',
  method: 'GET',
  path: '/webhooks/:id',
  summary: 'Get a webhook endpoint',
  scopes: ['webhooks:read'],
  input: z.object({ id }),
  output: Webhook,
  cli: { columns },
  handler: (ctx, input) => webhooks.getWebhook(ctx, input.id),
});

export const updateWebhook = defineOperation({
  id: 'webhooks.update',
  method: 'PATCH',
  path: '/webhooks/:id',
  summary: 'Update a webhook endpoint (url, event types, description, enabled)',
  scopes: ['webhooks:write'],
  input: z.object({
    id,
    url: Url.optional(),
    event_types: EventTypes.optional(),
    description: z.string().max(500).nullish(),
    enabled: z.boolean().optional(),
  }),
  output: Webhook,
  cli: { columns },
  handler: (ctx, input) => webhooks.updateWebhook(ctx, input),
});

export const rotateWebhookSecret = defineOperation({
  id: 'webhooks.rotate_secret',
  method: 'POST',
  path: '/webhooks/:id/rotate-secret',
  summary: 'A new signing secret (shown once); the old one stops signing now',
  destructive: true,
  scopes: ['webhooks:write'],
  status: 200,
  input: z.object({ id }),
  output: WebhookWithSecret,
  cli: { columns: ['id', 'url', 'secret'] },
  handler: (ctx, input) => webhooks.rotateWebhookSecret(ctx, input.id),
});

export const testWebhook = defineOperation({
  id: 'webhooks.test',
  method: 'POST',
  path: '/webhooks/:id/test',
  summary: 'Send a `webhook.test` delivery to the endpoint now',
  scopes: ['webhooks:write'],
  status: 202,
  input: z.object({ id }),
  output: WebhookDelivery,
  cli: { columns: deliveryColumns },
  handler: (ctx, input) => webhooks.testWebhook(ctx, input.id),
});

export const webhookDeliveries = defineOperation({
  id: 'webhooks.deliveries',
  method: 'GET',
  path: '/webhooks/:id/deliveries',
  summary: "A webhook's deliveries: status, attempts, latency, response code and the first 1 KiB of the body",
  scopes: ['webhooks:read'],
  input: DeliveryFilters.extend({ id }),
  output: listOf(WebhookDelivery),
  cli: { columns: deliveryColumns },
  handler: (ctx, input) => webhooks.listWebhookDeliveries(ctx, input),
});

export const replayDelivery = defineOperation({
  id: 'webhook_deliveries.replay',
  method: 'POST',
  path: '/webhook-deliveries/:id/replay',
  summary: 'Send a delivery again now (a new delivery with the same payload)',
  scopes: ['webhooks:write'],
  status: 202,
  input: z.object({ id: IdParam('Webhook delivery') }),
  output: WebhookDelivery,
  cli: { columns: deliveryColumns },
  handler: (ctx, input) => webhooks.replayDelivery(ctx, input.id),
});

export const deleteWebhook = defineOperation({
  id: 'webhooks.delete',
  method: 'DELETE',
  path: '/webhooks/:id',
  summary: 'Delete a webhook endpoint (no further deliveries)',
  scopes: ['webhooks:write'],
  input: z.object({ id }),
  output: Deleted,
  handler: (ctx, input) => webhooks.deleteWebhook(ctx, input.id),
});

export const devWebhookDeliveries = defineOperation({
  id: 'dev.webhook_deliveries',
  method: 'GET',
  path: '/dev/webhook-deliveries',
  summary: "The org's webhook deliveries across endpoints (debugging): status, attempts, latency, response code, body",
  scopes: ['webhooks:read'],
  input: DeliveryFilters.extend({ webhook_id: z.string().max(64).optional().describe('Only this endpoint') }),
  output: listOf(WebhookDelivery),
  cli: { columns: ['id', 'webhook_id', ...deliveryColumns.slice(1)] },
  handler: (ctx, input) => webhooks.listAllDeliveries(ctx, input),
});

// Delete last: tests that walk the registry in order act on one endpoint.
export const webhookOperations = [
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  rotateWebhookSecret,
  testWebhook,
  webhookDeliveries,
  replayDelivery,
  deleteWebhook,
  devWebhookDeliveries,
];
