// `npm run bench -- http`: requests/s and p50/p99 latency of (a) a bare Fastify hello-world and (b) an
// authenticated `GET /api/v1/whoami` on the real Opsbase server (embedded PostgreSQL, fresh data dir), each
// with 64 connections for 10 s after an uncounted 2 s warm-up. The load generator (autocannon) runs in this
// process; each server is a separate child process. Last line: `ratio http: <whoami req/s / hello req/s>`.
// Targets (issue 2): ratio >= 0.35 and whoami p99 < 25 ms. Any non-2xx response or socket error fails the run.
// Also printed: CPU time per request of each server (and of the embedded PostgreSQL under it) and of the load
// generator, read from /proc: unlike requests/s, it holds steady when other work shares the machine.
//
// Options (for profiling; the defaults are the benchmark): --duration S, --warmup S, --connections N,
// --log-level L (the server's LOG_LEVEL, default warn), --cpu-prof DIR (write the server's V8 CPU profile there).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RATIO_TARGET = 0.35;
const P99_TARGET_MS = 25;

// ---------------------------------------------------------------------------------------------------------
// Child processes, and cleanup that runs on success, failure and Ctrl-C alike.

interface Child {
  label: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process has exited. */
  exited: Promise<number | string>;
  /** The last lines it printed, for error messages. */
  tail: string[];
}

function startChild(label: string, args: string[], env: NodeJS.ProcessEnv, echo: boolean): Child {
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

function describeExit(child: Child, code: number | string): Error {
  return new Error(`${child.label} exited early (${code}); its last output:\n${child.tail.join('\n') || '(none)'}`);
}

/** SIGTERM (the servers shut down gracefully), then SIGKILL if it has not exited within `graceMs`. */
async function stopChild(child: Child, graceMs: number): Promise<void> {
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

const cleanups: (() => Promise<void> | void)[] = [];
async function cleanUp() {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup failed: ${(err as Error).message}`);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

// ---------------------------------------------------------------------------------------------------------
// The two servers.

async function startHello(): Promise<{ url: string; child: Child }> {
  const child = startChild('hello', [join(ROOT, 'bench', 'lib', 'hello-server.ts'), '0'], { ...process.env }, false);
  cleanups.push(() => stopChild(child, 5_000));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`hello-world server did not start within 15 s:\n${child.tail.join('\n')}`)), 15_000);
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
  return { url: `http://127.0.0.1:${port}/`, child };
}

interface Opsbase {
  base: string;
  child: Child;
}

async function startOpsbase(logLevel: string, cpuProfDir: string | undefined): Promise<Opsbase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-bench-'));
  // Registered first, so it runs last: after the server (and its embedded PostgreSQL) has stopped.
  cleanups.push(() => {
    stopOrphanPostgres(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, OPSBASE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: logLevel };
  // Always the embedded PostgreSQL in the temp dir, whatever this shell points at.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const nodeFlags = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = startChild('opsbase', [...nodeFlags, join(ROOT, 'src', 'main.ts'), 'serve'], env, true);
  cleanups.push(() => stopChild(child, 20_000));

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
  return { base, child };
}

async function api(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Registers a user, creates an org and an API key with every scope and a rate limit that cannot bind. */
async function createApiKey(base: string): Promise<string> {
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
  // 1,000,000/min is the most the API accepts; at the ~12 s this key is used for it binds only above ~80k req/s.
  const key = await api(
    base,
    'POST',
    '/api/v1/keys',
    { name: 'bench', scopes: ['*'], rate_limit_per_minute: 1_000_000 },
    { ...auth, 'x-org-id': org.id },
  );
  return key.secret as string;
}

// ---------------------------------------------------------------------------------------------------------
// Load and report.

interface Figures {
  label: string;
  rps: number;
  total: number;
  p50: number;
  p99: number;
  avg: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU time per request of the server process and of its descendants (the embedded PostgreSQL), in µs. */
  cpu?: { server: number; children: number };
  /** CPU time per request of the load generator (this process), in µs. */
  loadgenCpu: number;
}

/**
 * CPU time (ms) used so far by `pid` and, separately, by all its live descendants, from /proc (Linux only).
 * Per-request CPU stays meaningful when other work on the machine skews requests/s.
 */
function treeCpu(pid: number): { self: number; children: number } | undefined {
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

async function measure(
  label: string,
  url: string,
  headers: Record<string, string>,
  server: Child,
  opts: { connections: number; duration: number; warmup: number },
): Promise<Figures> {
  if (opts.warmup > 0) await autocannon({ url, headers, connections: opts.connections, duration: opts.warmup });
  const pid = server.proc.pid ?? -1;
  const cpuBefore = treeCpu(pid);
  const loadgenBefore = process.cpuUsage();
  const r = await autocannon({ url, headers, connections: opts.connections, duration: opts.duration });
  const loadgen = process.cpuUsage(loadgenBefore);
  const cpuAfter = treeCpu(pid);
  const perRequestUs = (ms: number) => (ms * 1000) / Math.max(1, r.requests.total);
  return {
    label,
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    avg: r.latency.average,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    cpu:
      cpuBefore && cpuAfter
        ? { server: perRequestUs(cpuAfter.self - cpuBefore.self), children: perRequestUs(Math.max(0, cpuAfter.children - cpuBefore.children)) }
        : undefined,
    loadgenCpu: (loadgen.user + loadgen.system) / Math.max(1, r.requests.total),
  };
}

function report(f: Figures) {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    `${f.label.padEnd(44)} ${n(f.rps).padStart(7)} req/s  p50 ${f.p50} ms  p99 ${f.p99} ms  (avg ${f.avg.toFixed(2)} ms, max ${f.max} ms)  ` +
      `${n(f.total)} requests, ${f.errors} errors, ${f.timeouts} timeouts, ${f.non2xx} non-2xx`,
  );
  const cpu = f.cpu
    ? `server ${Math.round(f.cpu.server)} µs` + (f.cpu.children > 0 ? ` + its PostgreSQL ${Math.round(f.cpu.children)} µs` : '')
    : 'server (not measurable here)';
  console.log(`${''.padEnd(44)} CPU per request: ${cpu}; load generator ${Math.round(f.loadgenCpu)} µs`);
}

export default async function http(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      'log-level': { type: 'string', default: 'warn' },
      'cpu-prof': { type: 'string' },
    },
  });
  const opts = { duration: Number(values.duration), warmup: Number(values.warmup), connections: Number(values.connections) };
  for (const [k, v] of Object.entries(opts)) {
    if (!Number.isFinite(v) || v < 0 || (k !== 'warmup' && v === 0)) throw new Error(`--${k} must be a positive number (got ${v})`);
  }
  const cpuProfDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the servers`);
    void cleanUp().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const version = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  console.log(
    `http: ${opts.connections} connections, ${opts.duration} s per target after a ${opts.warmup} s warm-up ` +
      `(autocannon ${version}, Node ${process.version}, ${availableParallelism()} CPUs, server LOG_LEVEL=${values['log-level']})`,
  );

  const [load1] = loadavg();
  if (load1 > 0.5) console.log(`note: load average ${load1.toFixed(2)} before the run; other work on this machine may skew requests/s`);
  const started = Date.now();
  let hello: Figures;
  let whoami: Figures;
  try {
    const h = await startHello();
    hello = await measure('(a) hello-world  GET / (bare Fastify)', h.url, {}, h.child, opts);
    await stopChild(h.child, 5_000);

    const o = await startOpsbase(values['log-level']!, cpuProfDir);
    const secret = await createApiKey(o.base);
    const headers = { authorization: `Bearer ${secret}` };
    const me = await api(o.base, 'GET', '/api/v1/whoami', undefined, headers);
    if (!me.key?.id) throw new Error(`whoami did not answer for the key: ${JSON.stringify(me)}`);
    whoami = await measure('(b) whoami       GET /api/v1/whoami (API key)', `${o.base}/api/v1/whoami`, headers, o.child, opts);
    // autocannon drops its connections when time is up, but the server still works off what it had queued; let
    // it finish (a probe queues behind it for the pool) before SIGTERM, so shutdown does not race live requests.
    await (await fetch(`${o.base}/api/ready`)).arrayBuffer();
  } finally {
    await cleanUp();
    if (cpuProfDir) console.log(`server CPU profile written to ${cpuProfDir}`);
  }

  report(hello);
  report(whoami);
  const bad = [hello, whoami].filter((f) => f.non2xx > 0 || f.errors > 0);
  if (bad.length) {
    throw new Error(
      `${bad.map((f) => `${f.label.replace(/\s+/g, ' ')}: ${f.non2xx} non-2xx responses, ${f.errors} errors`).join('; ')}: the figures are not valid`,
    );
  }
  const ratio = whoami.rps / hello.rps;
  console.log(`target whoami/hello >= ${RATIO_TARGET}: ${ratio >= RATIO_TARGET ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`);
  console.log(`target whoami p99 < ${P99_TARGET_MS} ms: ${whoami.p99 < P99_TARGET_MS ? 'PASS' : 'FAIL'} (${whoami.p99} ms)`);
  console.log(`total run time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`ratio http: ${ratio.toFixed(2)}`);
}
