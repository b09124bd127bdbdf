// A worker process (system-worker.ts: what `opsbase worker` runs) on a test's database, for tests that kill one
// mid-job. Its JSON stdout lines (`ready`, `started`) are collected as they come.
import { type ChildProcess, spawn } from 'node:child_process';

export interface WorkerProc {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  output: () => string;
  exited: Promise<unknown>;
}

export function spawnSystemWorker(databaseUrl: string, leaseSeconds: number, env: Record<string, string> = {}): WorkerProc {
  const proc = spawn(process.execPath, ['test/helpers/system-worker.ts', String(leaseSeconds)], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: WorkerProc = { proc, lines: [], output: () => text, exited: new Promise((r) => proc.once('exit', r)) };
  let text = '';
  let partial = '';
  proc.stderr?.on('data', (d) => (text += d));
  proc.stdout?.on('data', (chunk) => {
    text += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) if (l.startsWith('{')) p.lines.push(JSON.parse(l));
  });
  return p;
}
