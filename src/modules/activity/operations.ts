import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import * as activity from './service.ts';

const ActorType = z.enum(['user', 'agent', 'system']);
const Name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_.:-]+$/i, 'letters, digits, `_`, `.`, `:` and `-`');

const Activity = z
  .object({
    id: z.string(),
    org_id: z.string().nullable(),
    actor_type: ActorType,
    actor_id: z.string().nullable(),
    action: z.string(),
    entity_type: z.string(),
    entity_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    request_id: z.string().nullable(),
    created_at: Timestamp,
  })
  .meta({ id: 'Activity' });

const columns = ['created_at', 'actor_type', 'actor_id', 'action', 'entity_type', 'entity_id'];

export const listActivity = defineOperation({
  id: 'activity.list',
  method: 'GET',
  path: '/activity-log',
  summary: "The org's activity log, newest first",
  scopes: ['activity:read'],
  input: PageInput.extend({
    actor_type: ActorType.optional(),
    actor_id: z.string().max(64).optional(),
    action: z.string().max(100).optional(),
    entity_type: z.string().max(100).optional(),
    entity_id: z.string().max(64).optional(),
  }),
  output: listOf(Activity),
  cli: { columns },
  handler: (ctx, input) => activity.listActivity(ctx, input),
});

export const createActivity = defineOperation({
  id: 'activity.create',
  method: 'POST',
  path: '/activity-log',
  summary: 'Record an activity (the caller is the actor)',
  scopes: ['activity:write'],
  input: z.object({
    action: Name,
    entity_type: Name,
    entity_id: z.string().max(64).nullish(),
    metadata: z
      .record(z.string(), z.unknown())
      .default({})
      .refine((m) => JSON.stringify(m).length <= 16_384, 'metadata must be at most 16 KiB of JSON'),
  }),
  output: Activity,
  cli: { args: ['action', 'entity_type'], columns },
  handler: (ctx, input) => activity.createActivity(ctx, input),
});

export const activityStats = defineOperation({
  id: 'activity.stats',
  method: 'GET',
  path: '/activity-log/stats',
  summary: 'Counts of activity by action, actor type and entity type',
  scopes: ['activity:read'],
  input: z.object({ days: z.coerce.number().int().min(1).max(365).default(30) }),
  output: z.object({
    period_days: z.number().int(),
    total: z.number().int(),
    last_24h: z.number().int(),
    in_period: z.number().int(),
    by_action: z.record(z.string(), z.number().int()),
    by_actor_type: z.record(z.string(), z.number().int()),
    by_entity_type: z.record(z.string(), z.number().int()),
  }),
  handler: (ctx, input) => activity.activityStats(ctx, input),
});

export const activityOperations = [listActivity, createActivity, activityStats];
