// What the task-run tests share: a funded tenant, API calls, running a task and waiting for its run to end, and
// checking that the run's credit was settled exactly once with the ledger's invariant intact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Tenant, TestApp } from './harness.ts';
import { sql } from './db.ts';
import { invariantViolations, ledgerState, waitForPosting } from './ledger.ts';
import { until } from './until.ts';
import { type Api, apiOf, funded as fundedIn, ok } from './funded.ts';

export const FINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export { ok };

export function runHelpers(app: () => TestApp) {
  const api: Api = (...args) => apiOf(app())(...args);
  /** A tenant with `credits` credits (granted by the instance admin). */
  const funded = (name: string, credits = 100): Promise<Tenant> => fundedIn(app(), name, credits);

  const waitForRun = (t: Tenant, runId: string, ms = 30_000) =>
    until(
      `run ${runId} to end`,
      async () => {
        const r = (await api(t, 'GET', `/runs/${runId}`)).body;
        return FINAL.includes(r.status) ? r : undefined;
      },
      ms,
    );

  const startRun = async (t: Tenant, task: { number: number }) => {
    const queued = await ok(await api(t, 'POST', `/tasks/${task.number}/run`, {}), 202);
    assert.equal(queued.status, 'queued');
    return queued;
  };

  return {
    api,
    funded,
    waitForRun,
    startRun,
    runAndWait: async (t: Tenant, task: { number: number }) => waitForRun(t, (await startRun(t, task)).id),
    available: async (t: Tenant) => (await ok(await api(t, 'GET', '/wallet'), 200)).available as number,
    events: async (t: Tenant, runId: string) => (await api(t, 'GET', `/runs/${runId}/events`)).body.data as any[],
    /** The run's one hold is settled (`committed` or `released`), the ledger holds, and `available` moved by `spent`. */
    assertSettledOnce: async (t: Tenant, runId: string, status: 'committed' | 'released', before: number) => {
      const holds = await sql(app(), `select h.status from holds h join runs r on r.hold_id = h.id where r.id = $1`, [runId]);
      assert.deepEqual(
        holds.map((h) => h.status),
        [status],
      );
      await waitForPosting(app().app.services.database.pool, t.orgId);
      const after = (await ok(await api(t, 'GET', '/wallet'), 200)).available as number;
      assert.equal(after, before - (status === 'committed' ? 1 : 0), `exactly ${status === 'committed' ? 'one credit' : 'nothing'} spent`);
      assert.deepEqual(invariantViolations(await ledgerState(app().app.services.database.pool, t.orgId)), []);
    },
  };
}

/** Is there a live (not zombie) process with this pid? (Linux /proc) */
export function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
