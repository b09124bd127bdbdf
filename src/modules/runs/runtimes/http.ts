// The `http` runtime: the run is sent to the agent's URL (runs/runtimes/external.ts says what it carries), signed like
// a webhook (Standard Webhooks, with the agent's signing secret) and behind the private-network guard. The agent
// answers 2xx at once and does the work on its own time, reporting through the API: runs.report (events, and a
// heartbeat that keeps the run's lease), then runs.complete or runs.fail, which end the run themselves. This side
// only waits — woken by the run's NOTIFY signal from whichever instance took the report — until the run has ended,
// the agent fell silent for longer than its lease (timed_out, refunded), or the run's timeout or a cancel stops it.
// A worker that dies while waiting loses nothing: the next attempt finds the run delivered and waits on.
import { eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { checkOutboundUrl } from '../../../core/net-guard.ts';
import { runs } from '../../../db/schema/runs.ts';
import { agentSigningSecret } from '../../agents/identity.ts';
import { post } from '../../webhooks/deliver.ts';
import { runSignals } from '../signals.ts';
import { leaseSeconds, runEnvelope, runToken } from './external.ts';
import { RunFailure, type Runtime, type RuntimeContext } from './types.ts';

/** Looks at the run this often even without a signal (a listener reconnecting may miss one). */
const RECHECK_MS = 5_000;

/** Where the run stands: ended (by the agent through the API, or a cancel), or how long its lease has left. */
async function standing(rt: RuntimeContext) {
  const [row] = await rt.services.database.db
    .select({
      status: runs.status,
      leaseMs: sql<number | null>`(extract(epoch from ${runs.leaseExpiresAt} - now()) * 1000)::float8`,
    })
    .from(runs)
    .where(eq(runs.id, rt.run.id));
  return { status: row?.status ?? 'missing', leaseMs: row?.leaseMs === null || row?.leaseMs === undefined ? null : Number(row.leaseMs) };
}

async function deliver(rt: RuntimeContext) {
  const config = rt.agent.runtimeConfig as { url: string; method?: 'POST' | 'PUT' };
  const allowPrivate = rt.services.config.OPSBASE_ALLOW_PRIVATE_NETWORK;
  const check = await checkOutboundUrl(config.url, { allowPrivate });
  if (!check.ok) throw new RunFailure('configuration', `The agent's URL is refused: ${check.message}`);
  const body = JSON.stringify(runEnvelope(rt, await runToken(rt)));
  // webhook-id is the run's id: a run delivered again (its worker died before it was acknowledged) is the same message.
  const signature = new Webhook(agentSigningSecret(rt.services.masterKey, rt.agent.id)).sign(rt.run.id, new Date(), body);
  const headers = { 'webhook-id': rt.run.id, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signature };
  const out = await post(check.url, headers, body, allowPrivate, config.method ?? 'POST');
  if (out.status === null || out.status < 200 || out.status >= 300) {
    const what = out.status === null ? out.body : `HTTP ${out.status}${out.body ? `: ${out.body.slice(0, 300)}` : ''}`;
    throw new RunFailure('agent_unreachable', `The agent did not accept the run (${what}).`);
  }
  const seconds = leaseSeconds(rt.agent);
  // The lease starts now; the agent keeps it with runs.report. (If it already completed the run, nothing matches.)
  await rt.services.database.db
    .update(runs)
    .set({ leaseExpiresAt: sql`now() + make_interval(secs => ${seconds})` })
    .where(sql`${runs.id} = ${rt.run.id} and ${runs.status} = 'running'`);
  await rt.emit({ type: 'log', data: { level: 'info', message: `Delivered to ${check.url.origin} (HTTP ${out.status}); waiting for the agent's reports.`, lease_sec: seconds } });
}

export const httpRuntime: Runtime = async (rt) => {
  const { signal } = rt;
  const signals = await runSignals(rt.services);
  let wake = () => {};
  const unsubscribe = signals.subscribe('e', rt.run.id, () => wake());
  try {
    const first = await standing(rt);
    // A retried attempt whose run was delivered already waits on (the agent is at work); otherwise deliver it now.
    if (first.leaseMs === null) await deliver(rt);
    for (;;) {
      signal.throwIfAborted();
      const now = await standing(rt);
      // Ended through the API (runs.complete / runs.fail) or by someone else: finishRun already settled it, and the
      // outcome execute.ts makes of this changes nothing (a run ends once).
      if (now.status !== 'running') throw new RunFailure('ended', `The run already ended: ${now.status}.`);
      if (now.leaseMs !== null && now.leaseMs <= 0) {
        throw new RunFailure('agent_silent', `The agent reported nothing for ${leaseSeconds(rt.agent)} s (its lease): timed out.`, { status: 'timed_out' });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(50, Math.min(RECHECK_MS, (now.leaseMs ?? RECHECK_MS) + 50)));
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    unsubscribe();
  }
};
