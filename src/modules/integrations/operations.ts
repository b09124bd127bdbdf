import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import { INTEGRATION_KINDS } from './catalogue.ts';
import * as integrations from './service.ts';

const Kind = z
  .string()
  .min(1)
  .max(40)
  .describe(`One of ${INTEGRATION_KINDS.join(', ')}`);
const Status = z.enum(['not_configured', 'configured', 'ok', 'failing']);

export const Integration = z
  .object({
    kind: z.string(),
    name: z.string(),
    category: z.string(),
    description: z.string(),
    status: Status.describe('`configured`: saved but not tested since its last change'),
    settings: z.record(z.string(), z.unknown()).describe('The non-secret fields as saved'),
    secrets_set: z.array(z.string()).describe('Secret fields that have a value in the vault (never the values)'),
    fields: z.array(
      z.object({
        name: z.string(),
        label: z.string(),
        type: z.enum(['string', 'url', 'integer', 'boolean']),
        secret: z.boolean(),
        required: z.boolean(),
        default: z.union([z.string(), z.number(), z.boolean()]).nullable(),
        description: z.string().nullable(),
      }),
    ),
    one_of: z.array(z.string()).nullable().describe('At least one of these fields must be set'),
    last_checked_at: Timestamp.nullable(),
    last_error: z.string().nullable(),
    configured_at: Timestamp.nullable(),
    updated_at: Timestamp.nullable(),
  })
  .meta({ id: 'Integration' });

const columns = ['kind', 'name', 'status', 'last_checked_at', 'last_error'];

export const listIntegrations = defineOperation({
  id: 'integrations.list',
  method: 'GET',
  path: '/integrations',
  summary: 'The integration catalogue with the status of each in this org',
  scopes: ['integrations:read'],
  input: z.object({}),
  output: listOf(Integration),
  cli: { columns },
  handler: (ctx) => integrations.listIntegrations(ctx),
});

export const integrationStatus = defineOperation({
  id: 'integrations.status',
  method: 'GET',
  path: '/integrations/:kind/status',
  summary: 'One integration: its fields, whether it is configured, its last test',
  scopes: ['integrations:read'],
  input: z.object({ kind: Kind }),
  output: Integration,
  cli: { columns },
  handler: (ctx, input) => integrations.integrationStatus(ctx, input.kind),
});

export const configureIntegration = defineOperation({
  id: 'integrations.configure',
  method: 'POST',
  path: '/integrations/:kind/configure',
  summary: 'Save an integration’s fields (owners and admins; secret fields go to the vault)',
  description:
    'Fields left out keep their value; `null` clears one. Secret fields are stored as credentials named `<kind>.<field>`. ' +
    'The status becomes `configured` until the next integrations.test.',
  scopes: ['integrations:write'],
  status: 200,
  input: z.object({ kind: Kind, fields: z.record(z.string().max(64), z.unknown()).describe('Field name → value (see `fields` of the integration)') }),
  output: Integration,
  cli: { columns },
  handler: (ctx, input) => integrations.configureIntegration(ctx, input),
});

export const testIntegration = defineOperation({
  id: 'integrations.test',
  method: 'POST',
  path: '/integrations/:kind/test',
  summary: 'Test the connection: calls the service with the saved configuration and records ok or failing',
  scopes: ['integrations:write'],
  status: 200,
  transaction: false,
  input: z.object({ kind: Kind }),
  output: z
    .object({
      kind: z.string(),
      ok: z.boolean(),
      status: z.enum(['ok', 'failing']),
      message: z.string().describe('What the service said (secrets removed)'),
      latency_ms: z.number().int(),
      checked_at: Timestamp,
    })
    .meta({ id: 'IntegrationTest' }),
  cli: { columns: ['kind', 'ok', 'message', 'latency_ms'] },
  handler: (ctx, input) => integrations.testIntegration(ctx, input.kind),
});

export const integrationOperations = [listIntegrations, integrationStatus, configureIntegration, testIntegration];
