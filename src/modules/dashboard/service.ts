// Figures about the org's agents for the dashboard, each one SQL statement over runs and tasks (grouped per agent,
// never a query per agent): how efficiently they work, and how much work waits for them.
import { sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { iso } from '../../core/schemas.ts';

const ratio = (a: number, b: number, scale = 1) => (b > 0 ? Math.round((a / b) * scale * 1000) / 1000 : null);
const DAY_MS = 86_400_000;

export async function agentEfficiency(ctx: Ctx, input: { since?: string }) {
  const since = input.since ? new Date(input.since) : new Date(Date.now() - 30 * DAY_MS);
  const { rows } = await ctx.db.execute<{
    id: string;
    name: string;
    status: string;
    runs: string;
    succeeded: string;
    finished: string;
    tokens_in: string;
    tokens_out: string;
    credits: string;
    tasks_done: string;
    median_ms: number | null;
  }>(sql`
    select a.id, a.name, a.status,
           count(r.id) as runs,
           count(r.id) filter (where r.status = 'succeeded') as succeeded,
           count(r.id) filter (where r.status not in ('queued', 'running')) as finished,
           coalesce(sum(r.tokens_in), 0) as tokens_in,
           coalesce(sum(r.tokens_out), 0) as tokens_out,
           coalesce(sum(r.credits_spent), 0) as credits,
           count(distinct r.task_id) filter (where r.status = 'succeeded') as tasks_done,
           percentile_cont(0.5) within group (order by extract(epoch from r.finished_at - r.started_at) * 1000)
             filter (where r.finished_at is not null and r.started_at is not null) as median_ms
      from agents a
      left join runs r on r.agent_id = a.id and r.queued_at >= ${since}
     where a.org_id = ${requireOrg(ctx)}
     group by a.id
    having a.status <> 'offline' or count(r.id) > 0
     order by count(r.id) desc, a.name
     limit 500`);
  const data = rows.map((r) => {
    const tokens = Number(r.tokens_in) + Number(r.tokens_out);
    return {
      agent_id: r.id,
      name: r.name,
      status: r.status,
      runs: Number(r.runs),
      succeeded: Number(r.succeeded),
      success_rate: ratio(Number(r.succeeded), Number(r.finished)),
      tokens_in: Number(r.tokens_in),
      tokens_out: Number(r.tokens_out),
      tokens,
      credits: Number(r.credits),
      tasks_done: Number(r.tasks_done),
      tasks_per_1k_tokens: ratio(Number(r.tasks_done), tokens, 1000),
      median_duration_ms: r.median_ms === null ? null : Math.round(Number(r.median_ms)),
    };
  });
  return { data, meta: { since: since.toISOString() } };
}

export async function agentQueueHealth(ctx: Ctx) {
  const orgId = requireOrg(ctx);
  const { rows } = await ctx.db.execute<{
    id: string;
    name: string;
    status: string;
    max_concurrent_runs: number;
    last_heartbeat_at: Date | null;
    heartbeat_due_at: Date | null;
    interval_sec: number | null;
    queued_tasks: string;
    blocked_tasks: string;
    oldest_task_at: Date | null;
    queued_runs: string;
    running_runs: string;
    oldest_run_at: Date | null;
  }>(sql`
    select a.id, a.name, a.status, a.max_concurrent_runs, a.last_heartbeat_at, a.heartbeat_due_at, a.interval_sec,
           coalesce(t.queued, 0) as queued_tasks, coalesce(t.blocked, 0) as blocked_tasks, t.oldest as oldest_task_at,
           coalesce(r.queued, 0) as queued_runs, coalesce(r.running, 0) as running_runs, r.oldest as oldest_run_at
      from agents a
      left join (
        select t.assignee_id, count(*) as queued, min(t.created_at) as oldest,
               count(*) filter (where exists (select 1 from task_dependencies d join tasks b on b.id = d.depends_on_id
                                              where d.task_id = t.id and b.status not in ('done', 'cancelled'))) as blocked
          from tasks t
         where t.org_id = ${orgId} and t.assignee_type = 'agent' and t.status = 'todo' and t.archived_at is null
         group by t.assignee_id) t on t.assignee_id = a.id
      left join (
        select agent_id, count(*) filter (where status = 'queued') as queued, count(*) filter (where status = 'running') as running,
               min(queued_at) filter (where status = 'queued') as oldest
          from runs
         where org_id = ${orgId} and status in ('queued', 'running')
         group by agent_id) r on r.agent_id = a.id
     where a.org_id = ${orgId} and a.status <> 'offline'
     order by t.oldest nulls last, a.name
     limit 500`);
  const { rows: pool } = await ctx.db.execute<{ n: string; oldest: Date | null }>(sql`
    select count(*) as n, min(created_at) as oldest from tasks
     where org_id = ${orgId} and assignee_id is null and status = 'todo' and archived_at is null`);
  const now = Date.now();
  const wait = (d: Date | null) => (d ? Math.max(0, Math.round((now - new Date(d).getTime()) / 1000)) : null);
  const data = rows.map((r) => ({
    agent_id: r.id,
    name: r.name,
    status: r.status,
    queued_tasks: Number(r.queued_tasks),
    blocked_tasks: Number(r.blocked_tasks),
    oldest_task_wait_seconds: wait(r.oldest_task_at),
    queued_runs: Number(r.queued_runs),
    running_runs: Number(r.running_runs),
    oldest_run_wait_seconds: wait(r.oldest_run_at),
    max_concurrent_runs: r.max_concurrent_runs,
    interval_sec: r.interval_sec,
    last_heartbeat_at: iso(r.last_heartbeat_at && new Date(r.last_heartbeat_at)),
    next_heartbeat_at: r.interval_sec === null ? null : iso(r.heartbeat_due_at && new Date(r.heartbeat_due_at)),
  }));
  return {
    data,
    meta: { generated_at: new Date(now).toISOString(), unassigned_tasks: Number(pool[0].n), oldest_unassigned_wait_seconds: wait(pool[0].oldest) },
  };
}
