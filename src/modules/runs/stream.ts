// Reading a run's events: a page as JSON, or a live stream that first replays what the client missed (after its
// Last-Event-ID) and then follows the run — woken by the run's NOTIFY signal from whichever instance wrote the
// events, and re-reading the table, so it never depends on which instance the run executes on.
import type { Ctx } from '../../core/context.ts';
import type { EventStream } from '../../http/sse.ts';
import { FINAL_RUN_STATUSES } from '../../db/schema/runs.ts';
import { runEventsAfter } from './events.ts';
import { findRun } from './service.ts';
import { runSignals } from './signals.ts';

/** Looks again this often even without a signal (a listener reconnecting may miss one). */
const RECHECK_MS = 5_000;

export async function listRunEvents(ctx: Ctx, input: { id: string; after?: number; limit: number }) {
  const run = await findRun(ctx, input.id);
  const data = await runEventsAfter(ctx.db, run.id, input.after ?? 0, input.limit + 1);
  const has_more = data.length > input.limit;
  const page = has_more ? data.slice(0, input.limit) : data;
  return { data: page, meta: { last_seq: page.at(-1)?.seq ?? input.after ?? 0, has_more, status: run.status } };
}

export async function streamRunEvents(ctx: Ctx, input: { id: string; after?: number }, open: () => EventStream) {
  const run = await findRun(ctx, input.id);
  const signals = await runSignals(ctx.services);
  const stream = open();
  const resume = Number(stream.lastEventId);
  let after = Number.isInteger(resume) && resume >= 0 && stream.lastEventId !== null ? resume : (input.after ?? 0);
  let wake: () => void = () => {};
  const unsubscribe = signals.subscribe('e', run.id, () => wake());
  stream.closed.addEventListener('abort', () => wake(), { once: true });
  try {
    while (!stream.closed.aborted) {
      const events = await runEventsAfter(ctx.db, run.id, after, 500);
      for (const e of events) stream.send(e.type, e, e.seq);
      if (events.length) after = events.at(-1)!.seq;
      if (events.length === 500) continue;
      const now = await findRun(ctx, run.id);
      if (FINAL_RUN_STATUSES.includes(now.status) && now.lastSeq <= after) {
        stream.send('end', { status: now.status, last_seq: after });
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        wake = done;
      });
    }
  } finally {
    unsubscribe();
  }
}
