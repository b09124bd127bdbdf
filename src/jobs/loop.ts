// A pass repeated every `everyMs` by each worker process, for background work that needs second resolution
// (pg-boss schedules have minute resolution). Passes never overlap; a failed pass is logged and the next one runs.
import type { Logger } from 'pino';

export interface Loop {
  /** Stops scheduling passes and waits for one in progress. */
  stop: () => Promise<void>;
}

export function startLoop(name: string, log: Logger, everyMs: number, pass: () => Promise<unknown>): Loop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = pass().then(
      () => {},
      (err: unknown) => log.warn({ err: (err as Error).message, loop: name }, `${name} failed; retrying`),
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, everyMs);
    });
  };
  timer = setTimeout(tick, everyMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
