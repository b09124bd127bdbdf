// Developer tools: the org's recent API requests (BizBasics "debugging logs").
import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { KeyRequest } from '../keys/operations.ts';
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

export const devOperations = [apiRequestLog];
