import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import * as events from './service.ts';

export const DomainEvent = z
  .object({
    id: z.string(),
    org_id: z.string(),
    type: z.string(),
    subject: z.string().nullable().describe('What the event is about (a user, key, job, org … id)'),
    data: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
    dispatched_at: Timestamp.nullable().describe('When it was fanned out to notifications and webhooks (null: pending or parked)'),
    dispatch_attempts: z.number().int().describe('Failed fan-outs so far (a failing event is retried with backoff, then parked)'),
    dispatch_error: z.string().nullable().describe('Why the last fan-out failed'),
    next_dispatch_at: Timestamp.nullable().describe('When a failed event is tried again'),
    parked_at: Timestamp.nullable().describe('When the dispatcher gave up on it (after its last attempt): it is never fanned out'),
  })
  .meta({ id: 'Event' });

const EventTypeInfo = z.object({ type: z.string(), description: z.string() }).meta({ id: 'EventType' });

export const listEventTypes = defineOperation({
  id: 'events.types',
  method: 'GET',
  path: '/events/types',
  summary: 'The catalog of event types, with what each means',
  scopes: ['events:read'],
  input: z.object({}),
  output: z.object({ data: z.array(EventTypeInfo) }),
  cli: { columns: ['type', 'description'] },
  handler: async () => events.listEventTypes(),
});

export const listEvents = defineOperation({
  id: 'events.list',
  method: 'GET',
  path: '/events',
  summary: "The org's domain events, newest first",
  scopes: ['events:read'],
  input: PageInput.extend({
    type: z.string().max(100).optional().describe('Only events of this type, e.g. `key.created`'),
    subject: z.string().max(200).optional().describe('Only events about this subject id'),
    state: z
      .enum(['pending', 'dispatched', 'parked'])
      .optional()
      .describe('`parked`: events whose fan-out kept failing and was given up (see dispatch_error)'),
  }),
  output: listOf(DomainEvent),
  cli: { columns: ['id', 'type', 'subject', 'created_at', 'dispatched_at', 'parked_at'] },
  handler: (ctx, input) => events.listEvents(ctx, input),
});

export const eventOperations = [listEventTypes, listEvents];
