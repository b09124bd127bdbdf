// The loop runner of the worker's outbox relays (event dispatch, webhook delivery) and of the job engine's own tick
// and claims: a pass repeated every `everyMs`. Passes never overlap; a failed pass is logged and the next one runs.
// `wake()` runs a pass now (or right after the one in progress) — for work announced by a NOTIFY — so the
// interval is only the fallback for a missed notification. With `coalesceMs`, a wake runs the pass that much later
// instead, and every wake meanwhile joins it: work announced in bursts goes in one pass.
import type { Logger } from 'pino';

export interface Loop {
  /** Runs a pass as soon as possible: now when idle, or again right after the pass in progress. */
  wake: () => void;
  /** Stops scheduling passes and waits for one in progress. */
  stop: () => Promise<void>;
}

export function startLoop(name: string, log: Logger, everyMs: number, pass: () => Promise<unknown>, opts: { coalesceMs?: number } = {}): Loop {
  const coalesceMs = opts.coalesceMs ?? 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inPass = false;
  let again = false;
  /** A woken pass is waiting out coalesceMs. */
  let soon = false;
  const passSoon = () => {
    if (soon) return;
    soon = true;
    clearTimeout(timer);
    timer = setTimeout(tick, coalesceMs);
  };
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    clearTimeout(timer);
    inPass = true;
    again = false;
    soon = false;
    running = pass().then(
      () => {},
      (err: unknown) => log.warn({ err: (err as Error).message, loop: name }, `${name} failed; retrying`),
    );
    void running.then(() => {
      inPass = false;
      if (stopped) return;
      if (again && coalesceMs) passSoon();
      else if (again) tick();
      else timer = setTimeout(tick, everyMs);
    });
  };
  timer = setTimeout(tick, everyMs);
  return {
    wake: () => {
      if (stopped) return;
      if (inPass) again = true;
      else if (coalesceMs) passSoon();
      else tick();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
