// Run signals across instances (DESIGN §7): one NOTIFY channel carries "run X has new events" (`e:<run id>`) to the
// live streams and "run X was cancelled" (`c:<run id>`) to the worker executing it, whichever instances they are on.
// Each instance LISTENs once (its shared listener) and fans signals out to in-process subscribers by run id.
import { sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';

export const RUNS_CHANNEL = 'opsbase_runs';
type Kind = 'e' | 'c';

/** Sent when the caller's transaction commits (or at once, outside one). */
export async function signalRun(db: DbOrTx, kind: Kind, runId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${RUNS_CHANNEL}, ${`${kind}:${runId}`})`);
}

class RunSignals {
  private readonly subs = new Map<string, Set<() => void>>();
  readonly ready: Promise<void>;
  constructor(services: AppServices) {
    this.ready = services.listener.on(RUNS_CHANNEL, (payload) => {
      for (const fn of this.subs.get(payload) ?? []) fn();
    });
  }
  /** Calls `fn` on every signal of this kind for the run until the returned function is called. */
  subscribe(kind: Kind, runId: string, fn: () => void): () => void {
    const key = `${kind}:${runId}`;
    let set = this.subs.get(key);
    if (!set) {
      set = new Set();
      this.subs.set(key, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.subs.delete(key);
    };
  }
}

const hubs = new WeakMap<AppServices, RunSignals>();

export async function runSignals(services: AppServices): Promise<RunSignals> {
  let hub = hubs.get(services);
  if (!hub) {
    hub = new RunSignals(services);
    hubs.set(services, hub);
  }
  await hub.ready;
  return hub;
}
