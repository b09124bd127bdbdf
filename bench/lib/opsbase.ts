// Shared by benchmarks that run the real Opsbase server: child processes with cleanup on success, failure and
// Ctrl-C alike; temp data dirs whose embedded PostgreSQL is stopped even if its server was killed; `opsbase serve`
// on an embedded PostgreSQL in a fresh temp data dir; fixture servers (bench/lib/*-server.ts) that print
// `listening <port>`; an API key for a server; the connection string of its embedded PostgreSQL (for baselines
// measured on the same database); and CPU time of a process tree.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

export interface Child {
  label: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process has exited. */
  exited: Promise<number | string>;
  /** The last lines it printed, for error messages. */
  tail: string[];
}

export function startChild(label: string, args: string[], env: NodeJS.ProcessEnv, echo: boolean): Child {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, signal) => res(code ?? signal ?? 'unknown')));
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (echo && line.trim()) process.stderr.write(`[${label}] ${line.length > 600 ? `${line.slice(0, 600)}… (${line.length} chars)` : line}\n`);
      }
    });
  }
  return { label, proc, exited, tail };
}

export function describeExit(child: Child, code: number | string): Error {
  return new Error(`${child.label} exited early (${code}); its last output:\n${child.tail.join('\n') || '(none)'}`);
}

/** SIGTERM (the servers shut down gracefully), then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: Child, graceMs: number): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((res) => {
    timer = setTimeout(() => res('timeout'), graceMs);
  });
  const outcome = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    console.error(`${child.label} did not stop within ${graceMs / 1000} s of SIGTERM; killing it`);
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
export function onCleanup(fn: () => Promise<void> | void) {
  cleanups.push(fn);
}
export async function cleanUp() {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup failed: ${(err as Error).message}`);
    }
  }
}

/** Ctrl-C / SIGTERM stop the children and remove the temp dirs before exiting. */
export function cleanUpOnSignals() {
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the servers`);
    void cleanUp().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** If a killed server left its embedded PostgreSQL running, stop that too (fast shutdown). */
function stopOrphanPostgres(dataDir: string) {
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    if (pid > 0) process.kill(pid, 'SIGINT');
  } catch {
    /* already gone */
  }
}

/**
 * A fresh temp dir for an embedded PostgreSQL (in `<dir>/pg`), removed at cleanup after stopping a PostgreSQL still
 * running in it. Call it before starting anything that uses the dir: cleanups run last-registered first.
 */
export function tempDataDir(prefix = 'opsbase-bench-'): string {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => {
    stopOrphanPostgres(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });
  return dataDir;
}

/**
 * `node <script> [args…]` for a fixture server that prints `listening <port>` once it accepts connections on
 * 127.0.0.1 (bench/lib/hello-server.ts, bench/lib/paid-server.ts); stopped at cleanup (SIGTERM, SIGKILL after
 * `graceMs`).
 */
export async function startListening(
  label: string,
  script: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; echo?: boolean; timeoutMs?: number; graceMs?: number } = {},
): Promise<{ base: string; child: Child }> {
  const child = startChild(label, [script, ...args], opts.env ?? { ...process.env }, opts.echo ?? false);
  onCleanup(() => stopChild(child, opts.graceMs ?? 5_000));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${label} did not start within ${timeoutMs / 1000} s; its last output:\n${child.tail.join('\n') || '(none)'}`)),
      timeoutMs,
    );
    // Registered after startChild's own listener, so the line is in `tail` by now.
    child.proc.stdout?.on('data', () => {
      const line = child.tail.find((l) => l.startsWith('listening '));
      if (line) {
        clearTimeout(timer);
        res(Number(line.split(' ')[1]));
      }
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      rej(describeExit(child, code));
    });
  });
  return { base: `http://127.0.0.1:${port}`, child };
}

export interface Opsbase {
  base: string;
  child: Child;
  dataDir: string;
  /** The embedded PostgreSQL's `opsbase` database (the server's own). */
  databaseUrl: () => string;
}

/**
 * `opsbase <command>` (serve by default) on an embedded PostgreSQL in a fresh temp data dir, ready to serve.
 * `nodeArgs` go to Node before the script (e.g. `--cpu-prof`); `env` is added to this process's environment.
 */
export async function startOpsbase(
  opts: { command?: string; logLevel?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Promise<Opsbase> {
  // Registered first, so it runs last: after the server (and its embedded PostgreSQL) has stopped.
  const dataDir = tempDataDir();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPSBASE_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: opts.logLevel ?? 'warn',
    // The limit in force is the smallest of the instance's, the plan's and the key's: lift the instance's so the
    // bench key's own 1,000,000/min is the one that binds.
    OPSBASE_RATE_LIMIT_PER_MINUTE: '1000000',
    ...opts.env,
  };
  // Always the embedded PostgreSQL in the temp dir, whatever this shell points at.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = startChild('opsbase', [...(opts.nodeArgs ?? []), join(ROOT, 'src', 'main.ts'), opts.command ?? 'serve'], env, true);
  onCleanup(() => stopChild(child, 20_000));

  const base = `http://127.0.0.1:${port}`;
  let exitCode: number | string | undefined;
  void child.exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exitCode !== undefined) throw describeExit(child, exitCode);
    try {
      const res = await fetch(`${base}/api/ready`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`the Opsbase server was not ready within 60 s; its last output:\n${child.tail.join('\n')}`);
    await sleep(150);
  }
  const databaseUrl = () => {
    const pgPort = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
    const password = readFileSync(join(dataDir, 'pg-password'), 'utf8').trim();
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/opsbase`;
  };
  return { base, child, dataDir, databaseUrl };
}

/** startOpsbase's options for a server that writes its V8 CPU profile into `dir` when it stops (none without one). */
export function cpuProfile(dir: string | undefined): { nodeArgs: string[] } {
  if (!dir) return { nodeArgs: [] };
  mkdirSync(resolve(dir), { recursive: true });
  console.log(`the server's CPU profile will be written to ${resolve(dir)}`);
  return { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] };
}

export async function api(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 2000)}`);
  return JSON.parse(text);
}

/**
 * Registers a user, creates an org and an API key with every scope and a rate limit that cannot bind; the key's
 * secret and the org's id.
 */
export async function createTenant(base: string): Promise<{ key: string; orgId: string; session: string }> {
  const suffix = Math.random().toString(36).slice(2, 10);
  const session = await api(base, 'POST', '/api/v1/auth/register', {
    username: `bench_${suffix}`,
    email: `bench_${suffix}@example.com`,
    password: `bench-password-${suffix}`,
    terms_accepted: true,
    privacy_accepted: true,
  });
  const auth = { authorization: `Bearer ${session.token}` };
  const org = await api(base, 'POST', '/api/v1/orgs', { name: 'Bench' }, auth);
  // 1,000,000/min is the most the API accepts; over the ~12 s `bench http` uses the key it binds only above ~80k req/s.
  const key = await api(
    base,
    'POST',
    '/api/v1/keys',
    { name: 'bench', scopes: ['*'], rate_limit_per_minute: 1_000_000 },
    { ...auth, 'x-org-id': org.id },
  );
  return { key: key.secret as string, orgId: org.id as string, session: session.token as string };
}

/** createTenant's API key alone. */
export async function createApiKey(base: string): Promise<string> {
  return (await createTenant(base)).key;
}

/**
 * CPU time (ms) used so far by `pid` and, separately, by all its live descendants (the embedded PostgreSQL under a
 * server), from /proc (Linux only; undefined elsewhere). Unlike throughput, CPU per job holds steady when other
 * work shares the machine.
 */
export function treeCpu(pid: number): { self: number; children: number } | undefined {
  const TICK_MS = 10; // USER_HZ is 100 on every Linux
  const procs = new Map<number, { ppid: number; ticks: number }>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        procs.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        /* exited meanwhile */
      }
    }
  } catch {
    return undefined;
  }
  const root = procs.get(pid);
  if (!root) return undefined;
  const inTree = new Set([pid]);
  let children = 0;
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, info] of procs) {
      if (!inTree.has(p) && inTree.has(info.ppid)) {
        inTree.add(p);
        children += info.ticks;
        grew = true;
      }
    }
  }
  return { self: root.ticks * TICK_MS, children: children * TICK_MS };
}
