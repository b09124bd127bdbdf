import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, Scope, Timestamp } from '../../core/schemas.ts';
import * as keys from './service.ts';

export const ApiKey = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    scopes: z.array(z.string()),
    active: z.boolean(),
    masked: z.string().describe('Prefix and last 4 characters of the current secret'),
    prefix: z.string(),
    last4: z.string(),
    rate_limit_per_minute: z.number().int().nullable(),
    status: z.enum(['active', 'inactive', 'revoked', 'expired']),
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'ApiKey' });

const ApiKeyWithSecret = ApiKey.extend({
  secret: z.string().describe('The full key, shown only in this response. Store it now.'),
}).meta({ id: 'ApiKeyWithSecret' });

const RotatedKey = ApiKeyWithSecret.extend({
  previous_secret_expires_at: Timestamp.nullable().describe('Until when the previous secret keeps working (null: already dead)'),
}).meta({ id: 'RotatedKey' });

const KeyRequest = z
  .object({
    id: z.string(),
    time: Timestamp,
    method: z.string(),
    path: z.string(),
    route: z.string().nullable(),
    status: z.number().int(),
    latency_ms: z.number().int(),
    key_id: z.string().nullable(),
    user_id: z.string().nullable(),
    ip: z.string().nullable(),
    request_id: z.string(),
  })
  .meta({ id: 'ApiRequest' });

const columns = ['id', 'name', 'masked', 'scopes', 'status', 'last_used_at'];
const id = IdParam('API key');
const RateLimit = z.number().int().min(1).max(1_000_000).nullable().describe('Requests per minute; null = the server default');

export const createKey = defineOperation({
  id: 'keys.create',
  method: 'POST',
  path: '/keys',
  summary: 'Create an API key (the secret is shown once)',
  scopes: ['keys:write'],
  input: z.object({
    name: z.string().trim().min(1).max(100),
    description: z.string().max(500).nullish(),
    scopes: z.array(Scope).max(100).default(['*']).describe('Scopes, e.g. `tasks:read`; default `*`'),
    expires_at: z.iso
      .datetime({ offset: true })
      .nullish()
      .refine((v) => !v || Date.parse(v) > Date.now(), 'must be in the future'),
    rate_limit_per_minute: RateLimit.optional(),
  }),
  output: ApiKeyWithSecret,
  cli: { columns: [...columns, 'secret'] },
  handler: (ctx, input) => keys.createKey(ctx, input),
});

export const listKeys = defineOperation({
  id: 'keys.list',
  method: 'GET',
  path: '/keys',
  summary: 'List API keys (masked)',
  scopes: ['keys:read'],
  input: PageInput,
  output: listOf(ApiKey),
  cli: { columns },
  handler: (ctx, input) => keys.listKeys(ctx, input),
});

export const getKey = defineOperation({
  id: 'keys.get',
  method: 'GET',
  path: '/keys/:id',
  summary: 'Get an API key',
  scopes: ['keys:read'],
  input: z.object({ id }),
  output: ApiKey,
  cli: { columns },
  handler: (ctx, input) => keys.getKey(ctx, input.id),
});

export const updateKey = defineOperation({
  id: 'keys.update',
  method: 'PATCH',
  path: '/keys/:id',
  summary: 'Update an API key (name, description, scopes, active)',
  scopes: ['keys:write'],
  input: z.object({
    id,
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(500).nullish(),
    scopes: z.array(Scope).max(100).optional(),
    active: z.boolean().optional(),
    rate_limit_per_minute: RateLimit.optional(),
  }),
  output: ApiKey,
  cli: { columns },
  handler: (ctx, input) => keys.updateKey(ctx, input),
});

export const deleteKey = defineOperation({
  id: 'keys.delete',
  method: 'DELETE',
  path: '/keys/:id',
  summary: 'Delete an API key (it stops working at once)',
  scopes: ['keys:write'],
  input: z.object({ id }),
  output: Deleted,
  handler: (ctx, input) => keys.deleteKey(ctx, input.id),
});

export const revokeKey = defineOperation({
  id: 'keys.revoke',
  method: 'POST',
  path: '/keys/:id/revoke',
  summary: 'Revoke an API key: unusable immediately, on every instance',
  destructive: true,
  scopes: ['keys:write'],
  status: 200,
  input: z.object({ id }),
  output: ApiKey,
  cli: { columns },
  handler: (ctx, input) => keys.revokeKey(ctx, input.id),
});

export const rotateKey = defineOperation({
  id: 'keys.rotate',
  method: 'POST',
  path: '/keys/:id/rotate',
  summary: 'Rotate: a new secret; the old one keeps working for `grace_hours` (default 24)',
  scopes: ['keys:write'],
  status: 200,
  input: z.object({ id, grace_hours: z.number().min(0).max(720).default(24) }),
  output: RotatedKey,
  cli: { columns: ['id', 'name', 'secret', 'previous_secret_expires_at'] },
  handler: (ctx, input) => keys.rotateKey(ctx, input.id, input.grace_hours),
});

export const rollKey = defineOperation({
  id: 'keys.roll',
  method: 'POST',
  path: '/keys/:id/roll',
  summary: 'Roll: a new secret; the old one stops working now',
  destructive: true,
  scopes: ['keys:write'],
  status: 200,
  input: z.object({ id }),
  output: RotatedKey,
  cli: { columns: ['id', 'name', 'secret'] },
  handler: (ctx, input) => keys.rollKey(ctx, input.id),
});

export const keyUsage = defineOperation({
  id: 'keys.usage',
  method: 'GET',
  path: '/keys/:id/usage',
  summary: "A key's request log: time, method, path, status, latency",
  scopes: ['keys:read'],
  input: PageInput.extend({ id }),
  output: listOf(KeyRequest),
  cli: { columns: ['time', 'method', 'path', 'status', 'latency_ms'] },
  handler: (ctx, input) => keys.keyUsage(ctx, input),
});

export const keyOperations = [createKey, listKeys, getKey, updateKey, deleteKey, revokeKey, rotateKey, rollKey, keyUsage];
export { KeyRequest };
