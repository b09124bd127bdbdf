// The paid no-op of `npm run bench -- credits`: cost 1, does nothing else. Phase (b) runs it through runPaid
// directly (the service layer), phase (c) over HTTP (paid-server.ts registers it with the real operations).
import { z } from 'zod';
import { defineOperation, type Operation } from '../../src/core/operation.ts';

export const benchPaid = defineOperation({
  id: 'bench.paid',
  method: 'POST',
  path: '/bench/paid',
  summary: 'A paid no-op for the credits benchmark',
  cost: 1,
  scopes: [],
  status: 200,
  input: z.object({}),
  output: z.object({ ok: z.literal(true) }),
  handler: async () => ({ ok: true as const }),
}) as unknown as Operation;
