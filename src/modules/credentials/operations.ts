import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import * as vault from './service.ts';

export const CredentialName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'letters, digits, `_`, `.` and `-`, starting with a letter or `_` (e.g. STRIPE_KEY)')
  .describe('The name it is referred to by (e.g. STRIPE_KEY)');

export const Credential = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    integration: z.string().nullable().describe('The integration this is a secret field of, if any'),
    created_by: z.string().nullable(),
    updated_by: z.string().nullable(),
    last_read_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Credential' });

const columns = ['name', 'description', 'integration', 'updated_at', 'last_read_at'];

export const listCredentials = defineOperation({
  id: 'credentials.list',
  method: 'GET',
  path: '/credentials',
  summary: 'Credential names and metadata (never the values)',
  scopes: ['credentials:read'],
  input: PageInput.extend({ integration: z.string().max(40).optional().describe('Only the secret fields of this integration') }),
  output: listOf(Credential),
  cli: { columns },
  handler: (ctx, input) => vault.listCredentials(ctx, input),
});

export const putCredential = defineOperation({
  id: 'credentials.put',
  method: 'POST',
  path: '/credentials',
  summary: 'Store a credential, or replace the value of the one with this name (owners and admins)',
  description: 'The value is encrypted (AES-256-GCM under the master key) and never shown again except through credentials.get.',
  scopes: ['credentials:write'],
  input: z.object({
    name: CredentialName,
    value: z.string().min(1).max(65_536).describe('The secret (write-only)'),
    description: z.string().trim().max(500).nullish(),
  }),
  output: Credential.extend({ created: z.boolean().describe('false: an existing value was replaced') }),
  cli: { args: ['name'], columns: ['name', 'created', 'updated_at'], stdin: 'value' },
  handler: (ctx, input) => vault.putCredential(ctx, input),
});

export const getCredential = defineOperation({
  id: 'credentials.get',
  method: 'GET',
  path: '/credentials/:name',
  summary: 'A credential with its decrypted value (owners, admins, or a key with credentials:read; every read is logged)',
  scopes: ['credentials:read'],
  input: z.object({ name: CredentialName }),
  output: Credential.extend({ value: z.string() }).meta({ id: 'CredentialWithValue' }),
  cli: { columns: ['name', 'value'] },
  handler: (ctx, input) => vault.getCredential(ctx, input.name),
});

export const deleteCredential = defineOperation({
  id: 'credentials.delete',
  method: 'DELETE',
  path: '/credentials/:name',
  summary: 'Delete a credential (owners and admins)',
  scopes: ['credentials:write'],
  input: z.object({ name: CredentialName }),
  output: z.object({ id: z.string(), name: z.string(), deleted: z.literal(true) }),
  handler: (ctx, input) => vault.deleteCredential(ctx, input.name),
});

export const credentialOperations = [listCredentials, putCredential, getCredential, deleteCredential];
