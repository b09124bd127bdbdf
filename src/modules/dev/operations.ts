// Developer tools: the org's recent API requests (BizBasics "debugging logs") and its outgoing mail.
import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { KeyRequest } from '../keys/operations.ts';
import { EMAIL_STATUSES } from '../../db/schema/users.ts';
import { Timestamp } from '../../core/schemas.ts';
import { listEmails } from './emails.ts';
import { listApiRequests } from './service.ts';

export const apiRequestLog = defineOperation({
  id: 'dev.api_requests',
  method: 'GET',
  path: '/dev/api-requests',
  summary: "The org's recent API requests (method, path, status, latency, key)",
  scopes: ['logs:read'],
  input: PageInput.extend({
    status: z.coerce.number().int().min(100).max(599).optional(),
    method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']).optional(),
    key_id: z.string().max(64).optional(),
  }),
  output: listOf(KeyRequest),
  cli: { columns: ['time', 'method', 'path', 'status', 'latency_ms', 'key_id'] },
  handler: (ctx, input) => listApiRequests(ctx, input),
});

const Email = z
  .object({
    id: z.string(),
    scope: z.enum(['org', 'instance']).describe('`instance`: mail of no org (password resets), listed for instance admins only'),
    to: z.string(),
    subject: z.string(),
    text: z.string().describe('The body as sent, links included'),
    status: z.enum(EMAIL_STATUSES).describe('queued (waiting to be sent) · sending · sent · failed · unsent (written while no SMTP server was configured; never sent)'),
    attempts: z.number().int(),
    last_error: z.string().nullable().describe("The mail server's last refusal or the connection error"),
    last_attempt_at: Timestamp.nullable(),
    message_id: z.string().nullable(),
    sent_at: Timestamp.nullable(),
    created_at: Timestamp,
  })
  .meta({ id: 'Email' });

export const emailLog = defineOperation({
  id: 'dev.emails',
  method: 'GET',
  path: '/dev/emails',
  summary: "The org's outgoing mail (invites, password resets) with its delivery status, newest first",
  description:
    'Messages hold live links and tokens (invites), so only those who may invite (`members:write`: owners and admins) read them. ' +
    'Without OPSBASE_SMTP_URL nothing is sent and messages stay `queued`: open the link from here instead.',
  scopes: ['members:write'],
  input: PageInput.extend({
    status: z.enum(EMAIL_STATUSES).optional(),
    to: z.string().max(320).optional().describe('Only mail to this address'),
  }),
  output: listOf(Email),
  cli: { columns: ['id', 'to', 'subject', 'status', 'attempts', 'sent_at', 'created_at'] },
  handler: (ctx, input) => listEmails(ctx, input),
});

export const devOperations = [apiRequestLog, emailLog];
