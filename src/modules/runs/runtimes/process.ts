// The `process` runtime: a command on the worker's host (only where OPSBASE_ALLOW_PROCESS_AGENTS=true, checked when
// the agent is saved and again at every run). It gets the run as JSON on stdin (external.ts), and in its environment
// the API's URL, the run token and the run's id — nothing else of the server's (no database URL, no master key).
// Each stdout line is an event: a JSON object `{type, data}` (log, message, tool_call, tool_result, usage, result) or
// plain text (a log line); stderr lines are warnings. Exit 0 succeeds (the result: the last `result` event, else the
// stdout's tail); anything else fails. The command runs in a process group of its own, killed whole at the timeout,
// on cancel or when the worker stops. Its pid is recorded on the run while it runs, so a worker that dies leaves no
// orphan: the next worker on that host (at start, at its next run of this kind, or the reaper) kills the group.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { AppServices } from '../../../core/services.ts';
import { runs } from '../../../db/schema/runs.ts';
import type { NewRunEvent } from '../events.ts';
import { REPORTED_EVENT_TYPES } from '../schemas.ts';
import { apiBaseUrl, runEnvelope, runToken } from './external.ts';
import { RunFailure, type Runtime } from './types.ts';

/** The server's environment the command inherits: enough to find programs and locales, no secrets. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
const MAX_LINE = 64 * 1024;
const MAX_EVENTS = 10_000;
const TAIL = 4_000;
/** After SIGTERM, how long the group has before SIGKILL. */
const GRACE_MS = 2_000;

interface ProcessConfig {
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** A live process's parent pid and start time (Linux /proc); null when there is no such process. */
function procInfo(pid: number): { ppid: number; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19] };
  } catch {
    return null;
  }
}

const HAS_PROC = procInfo(process.pid) !== null;

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * Kills the process groups of runs on this host whose worker is gone (the command was orphaned: its parent is no
 * longer the worker that spawned it) or whose run has ended; clears what is settled. Returns the groups killed.
 */
export async function killLeftoverProcesses(services: AppServices): Promise<number> {
  const db = services.database.db;
  const rows = await db
    .select({ id: runs.id, status: runs.status, process: runs.process })
    .from(runs)
    .where(and(eq(runs.runtime, 'process'), isNotNull(runs.process), sql`${runs.process}->>'host' = ${hostname()}`));
  let killed = 0;
  for (const r of rows) {
    const rec = r.process;
    if (!rec) continue;
    const now = procInfo(rec.pid);
    // The pid now names another process: the group it led is gone (a pid is not reused while it names a group).
    if (now && rec.start !== null && now.start !== rec.start) {
      await db.update(runs).set({ process: null }).where(eq(runs.id, r.id));
      continue;
    }
    // Without /proc (not Linux), judge by whether the worker that spawned it still lives.
    const orphaned = HAS_PROC ? !now || now.ppid !== rec.parent : !signalable(rec.parent);
    const ended = r.status !== 'running' && r.status !== 'queued';
    if (!orphaned && !ended) continue; // its worker is alive and on it
    killGroup(rec.pid, 'SIGKILL');
    if (now) killed++;
    await db.update(runs).set({ process: null }).where(eq(runs.id, r.id));
    services.log.warn({ run: r.id, pid: rec.pid }, 'killed the leftover process group of a run whose worker is gone');
  }
  return killed;
}

/** Splits a stream into lines (a line longer than MAX_LINE is cut there). */
function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void) {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    if (partial.length > MAX_LINE) {
      parts.push(partial);
      partial = '';
    }
    for (const p of parts) onLine(p.replace(/\r$/, '').slice(0, MAX_LINE));
  });
  stream.on('end', () => {
    if (partial) onLine(partial.slice(0, MAX_LINE));
  });
}

/** A stdout line as an event: `{type, data}` of a reportable type or `result`, else a plain log line. */
function parseLine(line: string): NewRunEvent | { type: 'result'; data: Record<string, unknown> } {
  if (line.startsWith('{')) {
    try {
      const v = JSON.parse(line) as { type?: unknown; data?: unknown };
      const data = v.data && typeof v.data === 'object' && !Array.isArray(v.data) ? (v.data as Record<string, unknown>) : {};
      if (v.type === 'result') return { type: 'result', data };
      if ((REPORTED_EVENT_TYPES as readonly unknown[]).includes(v.type)) return { type: v.type as NewRunEvent['type'], data };
    } catch {
      // not JSON after all: a log line
    }
  }
  return { type: 'log', data: { stream: 'stdout', message: line } };
}

const tokens = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

export const processRuntime: Runtime = async (rt) => {
  const { services, run, signal } = rt;
  const db = services.database.db;
  if (!services.config.OPSBASE_ALLOW_PROCESS_AGENTS) {
    throw new RunFailure('configuration', 'This instance no longer allows process agents (OPSBASE_ALLOW_PROCESS_AGENTS=true): the command was not run.');
  }
  // An earlier attempt's command, if its worker died on this host, goes first.
  await killLeftoverProcesses(services);
  const config = rt.agent.runtimeConfig as unknown as ProcessConfig;
  const token = await runToken(rt);
  const env: Record<string, string> = {};
  for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  Object.assign(env, config.env ?? {}, {
    OPSBASE_API_URL: apiBaseUrl(services),
    // The run token is the agent's API key: the `opsbase` CLI, run by the command, acts as the agent.
    OPSBASE_API_KEY: token,
    OPSBASE_RUN_TOKEN: token,
    OPSBASE_RUN_ID: run.id,
    OPSBASE_TASK_ID: rt.task.id,
  });

  const child = spawn(config.command, config.args ?? [], { cwd: config.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', (err) => resolve(err));
  });
  if (spawned || child.pid === undefined) {
    throw new RunFailure('configuration', `Could not start \`${config.command}\`: ${spawned?.message ?? 'no process'}.`);
  }
  const pid = child.pid;
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
  await db
    .update(runs)
    .set({ process: { pid, host: hostname(), parent: process.pid, start: procInfo(pid)?.start ?? null } })
    .where(eq(runs.id, run.id));
  await rt.emit({ type: 'log', data: { level: 'info', message: `Started \`${config.command}\` (pid ${pid}).`, pid } });

  // Events are written in the order the lines came, a batch at a time, never two writes at once.
  const buffer: NewRunEvent[] = [];
  let emitted = 0;
  let writing = Promise.resolve();
  const usage = { input_tokens: 0, output_tokens: 0 };
  let usageChanged = false;
  const flush = async () => {
    while (buffer.length) {
      await rt.emit(...buffer.splice(0, 200));
      if (usageChanged) {
        usageChanged = false;
        await db
          .update(runs)
          .set({ tokensIn: run.tokensIn + usage.input_tokens, tokensOut: run.tokensOut + usage.output_tokens })
          .where(eq(runs.id, run.id));
      }
    }
  };
  const push = (e: NewRunEvent) => {
    if (emitted === MAX_EVENTS) buffer.push({ type: 'log', data: { level: 'warn', message: `More than ${MAX_EVENTS} events: the rest are dropped.` } });
    if (emitted++ >= MAX_EVENTS) return;
    buffer.push(e);
    writing = writing.then(flush).catch((err: Error) => rt.log.warn({ err: err.message }, 'process run events not written'));
  };
  let result: string | null = null;
  let tail = '';
  lines(child.stdout, (line) => {
    const e = parseLine(line);
    if (e.type === 'result') {
      result = typeof e.data.result === 'string' ? e.data.result : JSON.stringify(e.data);
      return;
    }
    if (e.type === 'usage') {
      usage.input_tokens += tokens(e.data.input_tokens);
      usage.output_tokens += tokens(e.data.output_tokens);
      usageChanged = true;
    }
    if (e.type === 'log' && e.data.stream === 'stdout') tail = `${tail}${line}\n`.slice(-TAIL);
    push(e);
  });
  let errTail = '';
  lines(child.stderr, (line) => {
    errTail = `${errTail}${line}\n`.slice(-1000);
    push({ type: 'log', data: { level: 'warn', stream: 'stderr', message: line } });
  });
  child.stdin.on('error', () => {}); // a command that never reads its stdin
  child.stdin.end(`${JSON.stringify(runEnvelope(rt, token))}\n`);

  // Timeout, cancel or the worker stopping: the whole group gets SIGTERM, then SIGKILL.
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), GRACE_MS);
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const { code, sig } = await exited;
  signal.removeEventListener('abort', stop);
  clearTimeout(killTimer);
  // Whatever it left behind in its group goes with it.
  killGroup(pid, 'SIGKILL');
  await new Promise<void>((resolve) => {
    if (child.stdout.readableEnded && child.stderr.readableEnded) return resolve();
    const t = setTimeout(resolve, 1000);
    child.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
  await writing;
  await db.update(runs).set({ process: null }).where(eq(runs.id, run.id));

  const used = { ...usage, total_tokens: usage.input_tokens + usage.output_tokens };
  if (signal.aborted) throw new RunFailure('aborted', `Stopped: ${(signal.reason as Error)?.message ?? 'aborted'}.`, { usage: used });
  if (code !== 0) {
    const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
    throw new RunFailure('exit_code', `\`${config.command}\` ${how}.${errTail ? ` stderr: ${errTail.trim().slice(-500)}` : ''}`, { usage: used });
  }
  return { result: result ?? (tail.trim() || `\`${config.command}\` exited 0.`), usage: used };
};
