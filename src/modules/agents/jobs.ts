// Agents' background work: the heartbeat sweep (every 5 s: agents a new month gives budget again resume, then agents
// due get one wake each) and the wake itself.
// Intervals are at least 60 s, so a wake is at most 5 s late.
import { defineJob } from '../../jobs/define.ts';
import { sweepHeartbeats, wakeAgent } from './heartbeat.ts';
import { resumeBudgetPaused } from './resume.ts';

export const heartbeatJob = defineJob<{ agent_id: string }>({
  type: 'agents.heartbeat',
  timeout: 120,
  max_attempts: 3,
  backoff: 5,
  handler: ({ services, payload, job }) => wakeAgent(services, payload.agent_id, job),
});

export const heartbeatSweepJob = defineJob({
  type: 'agents.heartbeat_sweep',
  schedule: '*/5 * * * * *',
  timeout: 60,
  // The next sweep is 5 s away: a failed one is not retried.
  max_attempts: 1,
  backoff: 0,
  handler: async ({ services }) => {
    // First the agents a new month gives budget again, so this very sweep wakes them.
    const resumed = await resumeBudgetPaused(services);
    return { resumed: resumed.length, woken: await sweepHeartbeats(services.database.db, heartbeatJob) };
  },
});

export const agentJobs = [heartbeatSweepJob, heartbeatJob];
