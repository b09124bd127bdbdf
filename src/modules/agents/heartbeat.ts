// Heartbeats on the queue engine (issue 11): no timer in any one process. Every few seconds a scheduled system job
// (the sweep — a singleton, whichever worker takes it) moves each due agent's `heartbeat_due_at` one interval on and,
// in the same transaction, enqueues one `agents.heartbeat` job for it with the agent's id as singleton key. The
// conditional update (SKIP LOCKED) hands each due agent to exactly one sweep, and the singleton key coalesces wakes:
// with any number of workers an agent wakes once per interval, and never twice at once.
//
// A wake: the idle check first (no model call). No work → status `idle`. Work → claim the next task and start a paid
// run exactly as `tasks.run` does (queueRunPaid), as many as its free run slots allow — never more than
// `max_concurrent_runs` open at once: the slot count is re-read under the agent's row lock each time.
import { eq, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import type { AppServices } from '../../core/services.ts';
import type { Db } from '../../db/client.ts';
import { agents } from '../../db/schema/agents.ts';
import { tasks } from '../../db/schema/tasks.ts';
import type { JobDefinition } from '../../jobs/define.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { enforceBudget } from '../runs/budget.ts';
import { queueRunPaid } from '../runs/queue-paid.ts';
import { runTimeoutSeconds } from '../runs/start.ts';
import { claimTask, urgency } from '../tasks/claim.ts';
import { idleCheck, openRuns, startable, WAKEABLE } from './idle.ts';

/** How long a claimed task may wait in the queue for a worker beyond its run's own time limit. */
const QUEUE_WAIT_SECONDS = 600;
const wakeable = sql.raw(`(${WAKEABLE.map((s) => `'${s}'`).join(', ')})`);

/** The sweep: enqueues a wake for every agent whose heartbeat is due (up to `limit`); returns how many. */
export async function sweepHeartbeats(db: Db, wake: JobDefinition<{ agent_id: string }>, limit = 500): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ id: string }>(sql`
      update agents set heartbeat_due_at = now() + make_interval(secs => interval_sec)
       where id in (select id from agents
                     where interval_sec is not null and status in ${wakeable}
                       and (heartbeat_due_at is null or heartbeat_due_at <= now())
                     order by heartbeat_due_at nulls first limit ${limit}
                       for update skip locked)
      returning id`);
    for (const r of rows) await enqueueJob(tx, wake, { agent_id: r.id }, { singletonKey: r.id });
    return rows.length;
  });
}

/** Under the agent's row lock: a free run slot and its next startable task, claimed for it; else null. */
async function claimNextFor(ctx: Ctx, agentId: string): Promise<string | null> {
  const [agent] = await ctx.db.select().from(agents).where(eq(agents.id, agentId)).for('update');
  if (!agent || !(WAKEABLE as readonly string[]).includes(agent.status)) return null;
  if ((await openRuns(ctx.db, agent.id)) >= agent.maxConcurrentRuns) return null;
  const [task] = await ctx.db
    .select()
    .from(tasks)
    .where(startable(agent.orgId, agent.id))
    .orderBy(...urgency)
    .limit(1)
    .for('update', { skipLocked: true });
  if (!task) return null;
  const lease = runTimeoutSeconds(task, agent) + QUEUE_WAIT_SECONDS;
  await claimTask(ctx, { id: task.id, assignee: `agent:${agent.id}`, lease_seconds: lease });
  return task.id;
}

export interface WakeResult {
  reason: string;
  runs: string[];
  error?: string;
}

/** One heartbeat of one agent (the `agents.heartbeat` job). */
export async function wakeAgent(services: AppServices, agentId: string, job: { id: string; attempt: number }): Promise<WakeResult> {
  const db = services.database.db;
  const [agent] = await db.select().from(agents).where(eq(agents.id, agentId));
  if (!agent) return { reason: 'gone', runs: [] };
  const check = await idleCheck(db, agent);
  await db
    .update(agents)
    .set({
      lastHeartbeatAt: new Date(),
      ...(check.reason === 'no_work' && { status: sql`case when ${agents.status} = 'active' then 'idle' else ${agents.status} end` }),
    })
    .where(eq(agents.id, agent.id));
  if (check.reason === 'over_budget') await enforceBudget(services, agent.id);
  if (check.reason !== 'ready') return { reason: check.reason, runs: [] };
  const started: string[] = [];
  for (let slot = 0; slot < agent.maxConcurrentRuns - check.open_runs; slot++) {
    try {
      const run = await queueRunPaid(services, { orgId: agent.orgId, agentId: agent.id }, `heartbeat:${job.id}:${job.attempt}:${slot}`, (ctx) =>
        claimNextFor(ctx, agent.id),
      );
      if (!run) break;
      started.push(run.id);
    } catch (err) {
      // Out of credits, over budget, the task blocked meanwhile: this wake stops; the next one looks again.
      if (!(err instanceof AppError)) throw err;
      if (err.code === 'quota_exceeded') await enforceBudget(services, agent.id);
      return { reason: err.code, runs: started, error: err.message };
    }
  }
  return { reason: started.length ? 'started' : 'no_work', runs: started };
}
