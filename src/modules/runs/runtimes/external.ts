// What an agent outside the server (the `http` and `process` runtimes) is given for a run: the run, the task and
// itself as JSON, and how to talk back — the API's URL and a run token. The run token is the agent's own API key
// (agents/identity.ts): reporting on the run needs nothing more (runs.report / complete / fail accept the run's own
// agent whatever its scopes), and anything else it does — commenting on the task, creating tasks — acts as the agent
// with exactly its scopes, in the activity log under its name. No second kind of credential to issue, store or revoke:
// taking the agent offline disables it everywhere at once.
import type { AppServices } from '../../../core/services.ts';
import { agentCredential } from '../../agents/identity.ts';
import { presentTask } from '../../tasks/service.ts';
import type { RuntimeContext } from './types.ts';

/** Default silence allowed between an http agent's reports before its run times out (runtime_config.lease_sec). */
export const DEFAULT_LEASE_SECONDS = 60;

export function leaseSeconds(agent: { runtimeConfig: Record<string, unknown> | null }): number {
  const s = agent.runtimeConfig?.lease_sec;
  return typeof s === 'number' ? s : DEFAULT_LEASE_SECONDS;
}

/** The API's base URL as an agent reaches it: OPSBASE_PUBLIC_URL, else this server's own port on localhost. */
export function apiBaseUrl(services: AppServices): string {
  const base = services.config.OPSBASE_PUBLIC_URL ?? `http://localhost:${services.config.PORT}`;
  return `${base.replace(/\/+$/, '')}/api/v1`;
}

export async function runToken(rt: Pick<RuntimeContext, 'services' | 'agent'>): Promise<string> {
  const token = await agentCredential(rt.services.database.db, rt.services.masterKey, rt.agent.id);
  if (!token) throw new Error(`agent ${rt.agent.id} has no credential`);
  return token;
}

/** The JSON an external agent gets for a run (the http body, the process's stdin). */
export function runEnvelope(rt: Pick<RuntimeContext, 'services' | 'run' | 'task' | 'agent' | 'timeoutMs'>, token: string) {
  const api = apiBaseUrl(rt.services);
  const runPath = `${api}/runs/${rt.run.id}`;
  return {
    type: 'run',
    run: {
      id: rt.run.id,
      attempt: rt.run.attempt,
      timeout_sec: Math.round(rt.timeoutMs / 1000),
      deadline: new Date(Date.now() + rt.timeoutMs).toISOString(),
      ...(rt.agent.runtime === 'http' && { lease_sec: leaseSeconds(rt.agent) }),
    },
    task: presentTask(rt.task),
    agent: { id: rt.agent.id, name: rt.agent.name, role: rt.agent.role, title: rt.agent.title, instructions: rt.agent.instructions },
    api: {
      url: api,
      token,
      report: `${runPath}/report`,
      complete: `${runPath}/complete`,
      fail: `${runPath}/fail`,
    },
  };
}
