// A paid operation that exists only in tests (issue 3: until the first real paid operations land, the tests
// register one of their own through the same registry). It writes an activity row, and fails on request.
import { z } from 'zod';
import { AppError } from '../../src/core/errors.ts';
import { defineOperation, type Operation } from '../../src/core/operation.ts';
import { recordActivity } from '../../src/modules/activity/record.ts';

export const PAID_COST = 2;

export const paidOp = defineOperation({
  id: 'test.paid',
  method: 'POST',
  path: '/test/paid',
  summary: 'A paid test operation',
  cost: PAID_COST,
  scopes: ['test:write'],
  input: z.object({ fail: z.boolean().default(false), note: z.string().max(100).optional() }),
  output: z.object({ ok: z.literal(true), activity_id: z.string() }),
  cli: { columns: ['ok', 'activity_id'] },
  handler: async (ctx, input) => {
    const row = await recordActivity(ctx, { action: 'test.paid', entityType: 'test', metadata: { note: input.note ?? null } });
    // After the write: the failure must roll the write back and release the hold.
    if (input.fail) throw new AppError('unprocessable', 'The test operation was asked to fail.');
    return { ok: true as const, activity_id: row.id };
  },
}) as unknown as Operation;

/** Lets a test hold `test.slow` mid-action: the handler waits for `release()` before it writes. */
export const slowGate = {
  release: () => {},
  wait(): Promise<void> {
    return new Promise((resolve) => {
      slowGate.release = resolve;
    });
  },
};

/** A paid operation whose hold expires after 1 s, and whose handler waits for `slowGate.release()`. */
export const slowPaidOp = defineOperation({
  id: 'test.slow',
  method: 'POST',
  path: '/test/slow',
  summary: 'A slow paid test operation',
  cost: PAID_COST,
  holdTtlSeconds: 1,
  scopes: ['test:write'],
  input: z.object({}),
  output: z.object({ ok: z.literal(true), activity_id: z.string() }),
  handler: async (ctx) => {
    await slowGate.wait();
    const row = await recordActivity(ctx, { action: 'test.paid', entityType: 'test', metadata: { slow: true } });
    return { ok: true as const, activity_id: row.id };
  },
}) as unknown as Operation;
