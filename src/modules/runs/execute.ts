// Executing one attempt of a run (the `runs.execute` job): take the task under the agent's lease, run the agent's
// runtime with the run's time limit and a cancel signal heard from any instance, then end the run exactly once.
// A worker killed mid-run leaves the run `running`: its job's lease lapses, another worker takes the job and this
// runs again as attempt 2 (or, with no attempt left, the reaper ends the run timed_out). The hold is settled by
// whichever attempt — or the reaper — ends the run; finish.ts makes that happen once.
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { DbOrTx } from '../../db/client.ts';
import type { AppServices } from '../../core/services.ts';
import { agents } from '../../db/schema/agents.ts';
import { runs } from '../../db/schema/runs.ts';
import { tasks } from '../../db/schema/tasks.ts';
import { newId } from '../../core/ids.ts';
import { executePrepared } from '../../db/prepared.ts';
import type { JobRun } from '../../jobs/define.ts';
import { extendHold } from '../billing/holds.ts';
import { insertEventsSql, recordEvent } from '../events/record.ts';
import { type SystemPrompt, systemPromptFor } from '../agents/prompt.ts';
import type { AgentRow } from '../agents/service.ts';
import type { TaskRow } from '../tasks/service.ts';
import { appendRunEvents, insertRunEventsSql, type NewRunEvent } from './events.ts';
import { afterRunEnded, finishRun, type RunOutcome } from './finish.ts';
import { finishSucceededFast } from './finish-fast.ts';
import { httpRuntime } from './runtimes/http.ts';
import { llmRuntime } from './runtimes/llm.ts';
import { processRuntime } from './runtimes/process.ts';
import { RunFailure, type Runtime } from './runtimes/types.ts';
import type { RunRow } from './service.ts';
import { BLOCK_AFTER_FAILURES } from './retry.ts';
import { RUNS_CHANNEL, runSignals } from './signals.ts';
import { runTimeoutSeconds } from './start.ts';

const RUNTIMES: Record<string, Runtime> = { llm: llmRuntime, http: httpRuntime, process: processRuntime };

/** The task, claimed for the agent until the run's time is up: in progress, leased to `agent:<id>`. */
async function takeTask(db: DbOrTx, taskId: string, agentId: string, seconds: number) {
  const holder = `agent:${agentId}`;
  const [row] = await db
    .update(tasks)
    .set({
      status: 'in_progress',
      assignedByClaim: sql`${tasks.assigneeId} is null or ${tasks.assignedByClaim}`,
      assigneeType: 'agent',
      assigneeId: agentId,
      leaseHolder: holder,
      leaseExpiresAt: sql`now() + make_interval(secs => ${seconds})`,
      completedAt: null,
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(tasks.id, taskId),
        isNull(tasks.archivedAt),
        // Startable, or already this agent's (a retried attempt), or held by a lease that ran out, or blocked by its
        // own failed runs (a person runs it by hand: retry.ts).
        or(
          sql`${tasks.status} in ('backlog', 'todo', 'in_review')`,
          and(eq(tasks.status, 'blocked'), sql`${tasks.runFailures} >= ${BLOCK_AFTER_FAILURES}`),
          and(eq(tasks.status, 'in_progress'), or(eq(tasks.leaseHolder, holder), isNull(tasks.leaseExpiresAt), lt(tasks.leaseExpiresAt, sql`now()`))),
        ),
      ),
    )
    .returning();
  return row;
}

type Begun =
  | { kind: 'done'; status: string }
  | { kind: 'end'; run: RunRow; outcome: RunOutcome }
  | { kind: 'go'; run: RunRow; agent: AgentRow; task: TaskRow; seconds: number; systemPrompt?: Promise<SystemPrompt> };

/** Task rows a run may take (`tasks` as it is named in `from`): takeTask's conditions, in SQL. */
const takeable = (holder: string) => sql`(archived_at is null and (status in ('backlog', 'todo', 'in_review')
  or (status = 'blocked' and run_failures >= ${BLOCK_AFTER_FAILURES})
  or (status = 'in_progress' and (lease_holder = ${holder} or lease_expires_at is null or lease_expires_at < now()))))`;

/** The run, its agent and its task by the run's id: prepared (one per handle), it skips the ORM's build and the plan. */
const startingRuns = new WeakMap<object, ReturnType<typeof buildStartingRun>>();
const buildStartingRun = (db: DbOrTx) =>
  db
    .select({ run: runs, agent: agents, task: tasks })
    .from(runs)
    .innerJoin(agents, eq(agents.id, runs.agentId))
    .innerJoin(tasks, eq(tasks.id, runs.taskId))
    .where(eq(runs.id, sql.placeholder('id')))
    .prepare('run_starting');
function startingRun(db: DbOrTx) {
  let q = startingRuns.get(db);
  if (!q) {
    q = buildStartingRun(db);
    startingRuns.set(db, q);
  }
  return q;
}

/**
 * The start of an attempt in one statement, for the common case: a read (no lock), then one guarded write that
 * starts the run, takes its task, extends its hold, shows the agent running and records `run.started` and the run's
 * status event — instead of a transaction of ten round trips on every run's path to its model. The write's guards
 * re-check, on the rows as they are when it locks them, what the read found (the run still queued or running and not
 * cancelled, the agent not paused or offline, the task free to take); when any fails it changes nothing and this
 * answers null, and the locked path (`begin`) decides what to do, as it always did. A cancel committed after the write
 * is heard by the signal executeRun listens for. The write commits without waiting for the WAL flush, as begin's
 * transaction does: a start lost in a crash is redone by the job's next attempt. Both statements are prepared: their
 * parse and plan were 1.2 and 1.4 ms of each run's start (traced on 2 CPUs).
 */
async function beginFast(services: AppServices, runId: string, attempt: number, log: Logger): Promise<Begun | null> {
  const db = services.database.db;
  const [row] = await startingRun(db).execute({ id: runId });
  if (!row) return null;
  const { run, agent, task: before } = row;
  if ((run.status !== 'queued' && run.status !== 'running') || run.cancelRequestedAt || agent.status === 'paused' || agent.status === 'offline') return null;
  const seconds = runTimeoutSeconds(before, agent);
  const systemPrompt = run.runtime === 'llm' ? systemPromptFor(db, agent) : undefined;
  systemPrompt?.catch(() => {});
  const retried = run.status === 'running';
  const holder = `agent:${agent.id}`;
  const events: NewRunEvent[] = [
    ...(retried ? [{ type: 'log' as const, data: { level: 'warn', message: `The worker running attempt ${run.attempt} was lost; attempt ${attempt} takes over.` } }] : []),
    { type: 'status', data: { status: 'running', attempt } },
  ];
  const started = { run_id: run.id, task_id: before.id, agent_id: agent.id, attempt };
  const rows = await executePrepared<{ started_at: Date | string; last_seq: number; lease_expires_at: Date | string | null }>(db, 'run_begin', sql`
    with r as (
      update runs set status = 'running', attempt = ${attempt}, started_at = coalesce(started_at, clock_timestamp()),
             last_seq = last_seq + ${events.length}
       where id = ${run.id} and status in ('queued', 'running') and cancel_requested_at is null
         and exists (select 1 from agents where id = ${agent.id} and status not in ('paused', 'offline'))
         and exists (select 1 from tasks where id = ${before.id} and ${takeable(holder)})
      returning started_at, last_seq),
    t as (
      update tasks set status = 'in_progress', assigned_by_claim = (assignee_id is null or assigned_by_claim), assignee_type = 'agent',
             assignee_id = ${agent.id}, lease_holder = ${holder}, lease_expires_at = now() + make_interval(secs => ${seconds + 60}),
             completed_at = null, updated_at = now()
       where id = ${before.id} and exists (select 1 from r) and ${takeable(holder)}
      returning lease_expires_at),
    h as (
      update holds set expires_at = greatest(expires_at, now() + make_interval(secs => ${seconds * 2 + 600}))
       where id = ${run.holdId} and status = 'open' and exists (select 1 from r)),
    a as (
      update agents set status = 'running', last_heartbeat_at = now(), updated_at = now()
       where id = ${agent.id} and status in ('active', 'idle') and exists (select 1 from r)),
    e as (${insertEventsSql(sql`select ${newId('event')}, ${run.orgId}, 'run.started', ${run.id}, ${JSON.stringify(started)}::jsonb from r`)}),
    re as (${insertRunEventsSql(run, sql.raw('r'), events)})
    select r.started_at, r.last_seq, (select lease_expires_at from t) as lease_expires_at,
           pg_notify(${RUNS_CHANNEL}, ${`e:${run.id}`}), set_config('synchronous_commit', 'off', true) as async_commit
      from r`);
  const w = rows[0];
  if (!w) return null;
  const running: RunRow = { ...run, status: 'running', attempt, startedAt: new Date(w.started_at), lastSeq: Number(w.last_seq) };
  // The task changed between the run's guard and its own update (someone moved it just then): as begin would.
  if (w.lease_expires_at === null) {
    return { kind: 'end', run: running, outcome: { status: 'failed', reason: 'task_unavailable', message: `Task #${before.number} is not free to run.` } };
  }
  if (retried) log.warn({ run: run.id, attempt }, 'run resumed after its worker was lost');
  const task: TaskRow = {
    ...before,
    status: 'in_progress',
    assignedByClaim: before.assigneeId === null || before.assignedByClaim,
    assigneeType: 'agent',
    assigneeId: agent.id,
    leaseHolder: holder,
    leaseExpiresAt: new Date(w.lease_expires_at),
    completedAt: null,
  };
  return { kind: 'go', run: running, agent, task, seconds, systemPrompt };
}

/** Starts the attempt in one transaction: the run running, its task taken, its hold kept, the agent running. */
async function begin(services: AppServices, runId: string, attempt: number, log: Logger): Promise<Begun> {
  return services.database.db.transaction(async (tx): Promise<Begun> => {
    // The run (locked), its agent and its task in one round trip; and, in the same statement, no waiting for the WAL
    // flush at commit: a start lost in a crash is redone by the job's next attempt, which a crash brings anyway. What
    // must be durable — the charge and the outcome — is written when the run ends.
    const [row] = await tx
      .select({ run: runs, agent: agents, task: tasks, asyncCommit: sql<string>`set_config('synchronous_commit', 'off', true)` })
      .from(runs)
      .leftJoin(agents, eq(agents.id, runs.agentId))
      .innerJoin(tasks, eq(tasks.id, runs.taskId))
      .where(eq(runs.id, runId))
      .for('update', { of: runs });
    const run = row?.run;
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return { kind: 'done', status: run?.status ?? 'missing' };
    const end = (outcome: RunOutcome): Begun => ({ kind: 'end', run, outcome });
    if (run.cancelRequestedAt) return end({ status: 'cancelled', reason: 'cancelled', message: 'Cancelled before it started.' });
    const { agent, task: before } = row;
    if (!agent || agent.status === 'paused' || agent.status === 'offline') {
      const why = agent ? `Agent ${agent.name} is ${agent.status}.` : 'The agent no longer exists.';
      return end({ status: 'failed', reason: 'agent_unavailable', message: why });
    }
    const seconds = runTimeoutSeconds(before, agent);
    // An llm run's system prompt (template and rules) is read on another connection while this transaction goes on,
    // so the model call does not wait for it after the start. Nothing awaits it when the run does not go ahead.
    const systemPrompt = run.runtime === 'llm' ? systemPromptFor(services.database.db, agent) : undefined;
    systemPrompt?.catch(() => {});
    const task = await takeTask(tx, run.taskId, agent.id, seconds + 60);
    if (!task) return end({ status: 'failed', reason: 'task_unavailable', message: `Task #${before.number} is ${before.status} and not free to run.` });
    if (run.holdId) await extendHold(tx, run.holdId, seconds * 2 + 600);
    const retried = run.status === 'running';
    const [started] = await tx
      .update(runs)
      .set({ status: 'running', attempt, startedAt: sql`coalesce(${runs.startedAt}, clock_timestamp())` })
      .where(eq(runs.id, run.id))
      .returning();
    await tx
      .update(agents)
      .set({ status: 'running', lastHeartbeatAt: new Date(), updatedAt: new Date() })
      .where(and(eq(agents.id, agent.id), sql`status in ('active', 'idle')`));
    await recordEvent(tx, { orgId: run.orgId, type: 'run.started', subject: run.id, data: { run_id: run.id, task_id: task.id, agent_id: agent.id, attempt } });
    await appendRunEvents(tx, run, [
      ...(retried ? [{ type: 'log' as const, data: { level: 'warn', message: `The worker running attempt ${run.attempt} was lost; attempt ${attempt} takes over.` } }] : []),
      { type: 'status', data: { status: 'running', attempt } },
    ]);
    if (retried) log.warn({ run: run.id, attempt }, 'run resumed after its worker was lost');
    return { kind: 'go', run: started, agent, task, seconds, systemPrompt };
  });
}

export async function executeRun(services: AppServices, job: JobRun<{ run_id: string }>): Promise<unknown> {
  // Listening for a cancel before the attempt starts: one that commits before begin() reads the run is seen there,
  // one that commits after is heard here — nothing falls between the two.
  const cancel = new AbortController();
  const signals = await runSignals(services);
  const unsubscribe = signals.subscribe('c', job.payload.run_id, () => cancel.abort(new Error('cancelled')));
  try {
    return await attempt(services, job, cancel);
  } finally {
    unsubscribe();
  }
}

async function attempt(services: AppServices, job: JobRun<{ run_id: string }>, cancel: AbortController): Promise<unknown> {
  const { payload, log } = job;
  const begun = (await beginFast(services, payload.run_id, job.job.attempt, log)) ?? (await begin(services, payload.run_id, job.job.attempt, log));
  if (begun.kind === 'done') return { status: begun.status };
  if (begun.kind === 'end') {
    const ended = await finishRun(services, begun.run.id, begun.outcome);
    return { status: ended?.status ?? 'already finished' };
  }
  const { run, agent, task, seconds, systemPrompt } = begun;
  const timeout = AbortSignal.timeout(seconds * 1000);
  const signal = AbortSignal.any([cancel.signal, timeout, job.signal]);
  let outcome: RunOutcome;
  try {
    const runtime = RUNTIMES[run.runtime];
    if (!runtime) throw new RunFailure('configuration', `No runtime \`${run.runtime}\` on this worker.`);
    const out = await runtime({
      services,
      run,
      task,
      agent,
      systemPrompt,
      signal,
      timeoutMs: seconds * 1000,
      log: log.child({ run: run.id }),
      emit: async (...events) => {
        await appendRunEvents(services.database.db, run, events, { durable: false });
      },
      emitProgress: async (progress, ...events) => {
        await appendRunEvents(services.database.db, run, events, { progress, durable: false });
      },
    });
    outcome = { status: 'succeeded', result: out.result, usage: out.usage, steps: out.steps, ruleIds: out.ruleIds, model: out.model, events: out.events };
  } catch (err) {
    // The worker itself is stopping (not the run's fault): leave the run running for the next attempt.
    if (job.signal.aborted && !cancel.signal.aborted && !timeout.aborted) throw err;
    const f = err instanceof RunFailure ? err : null;
    const facts = { usage: f?.usage, steps: f?.steps, ruleIds: f?.ruleIds, events: f?.events };
    if (cancel.signal.aborted) outcome = { status: 'cancelled', reason: 'cancelled', message: 'Cancelled while running.', ...facts };
    else if (timeout.aborted) {
      outcome = { status: 'timed_out', reason: 'timeout', message: `The run passed its time limit of ${seconds} s.`, ...facts };
    } else if (f) outcome = { status: f.status, reason: f.reason, message: f.message, ...facts };
    else {
      log.error({ err, run: run.id }, 'run failed unexpectedly');
      outcome = { status: 'failed', reason: 'internal', message: `The run failed: ${(err as Error).message ?? String(err)}` };
    }
  }
  const final = withEarlierAttempts(run, outcome);
  const fast = final.status === 'succeeded' ? await finishSucceededFast(services, run, final) : null;
  if (fast) await afterRunEnded(services, fast, { checkBudget: true });
  const ended = fast ?? (await finishRun(services, run.id, final));
  return { status: ended?.status ?? 'already finished' };
}

/**
 * An attempt's usage on top of what earlier attempts recorded before their worker was lost: the model calls they made
 * were spent, and a retried run must not count only its last attempt's.
 */
function withEarlierAttempts(run: RunRow, outcome: RunOutcome): RunOutcome {
  if (!run.tokensIn && !run.tokensOut && !run.steps) return outcome;
  const u = outcome.usage;
  const input = run.tokensIn + (u?.input_tokens ?? 0);
  const output = run.tokensOut + (u?.output_tokens ?? 0);
  return {
    ...outcome,
    usage: u ? { input_tokens: input, output_tokens: output, total_tokens: input + output } : undefined,
    steps: outcome.steps === undefined ? undefined : run.steps + outcome.steps,
  };
}

/**
 * Keeps a run's task lease (and the agent's liveness) fresh: http agents call this through runs.report. The lease
 * only ever moves later: a heartbeat never cuts short the lease the run took for its whole time limit.
 */
export async function renewRunLease(
  services: AppServices,
  run: { id: string; taskId: string; agentId: string | null },
  seconds: number,
  db: DbOrTx = services.database.db,
) {
  await db
    .update(tasks)
    .set({ leaseExpiresAt: sql`greatest(${tasks.leaseExpiresAt}, now() + make_interval(secs => ${seconds}))` })
    .where(and(eq(tasks.id, run.taskId), eq(tasks.leaseHolder, `agent:${run.agentId}`), gt(tasks.leaseExpiresAt, sql`now()`)));
  if (run.agentId) await db.update(agents).set({ lastHeartbeatAt: new Date() }).where(eq(agents.id, run.agentId));
}

