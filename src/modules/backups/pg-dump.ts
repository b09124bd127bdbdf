// The pg_dump path: when a `pg_dump` of the server's own major version is on the PATH (a pg_dump older than the
// server refuses to dump it; a newer one writes archives the server's pg_restore cannot read), backups are written
// in its custom format instead of the built-in one. The embedded server is PostgreSQL 18; Debian 12's pg_dump is 15,
// so by default the built-in path runs.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The major version of a PostgreSQL client tool on the PATH (`pg_dump (PostgreSQL) 15.14` → 15), or null. */
export async function toolMajor(tool: 'pg_dump' | 'pg_restore'): Promise<number | null> {
  try {
    const { stdout } = await run(tool, ['--version'], { timeout: 5000 });
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export const serverMajor = (serverVersionNum: number) => Math.floor(serverVersionNum / 10_000);

/** The connection as libpq arguments and environment: the password goes in PGPASSWORD, never on a command line. */
function libpq(databaseUrl: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(databaseUrl);
  const args = ['--host', u.hostname, '--port', u.port || '5432', '--dbname', decodeURIComponent(u.pathname.slice(1))];
  if (u.username) args.push('--username', decodeURIComponent(u.username));
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return { args, env };
}

function exec(tool: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const line of d.toString().split('\n').filter(Boolean)) log(line);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} exited with ${code}: ${stderr.trim().slice(-500)}`))));
  });
}

/** `pg_dump --format=custom` of the whole database (its own consistent snapshot) into `file`. */
export async function pgDump(databaseUrl: string, file: string, log: (line: string) => void): Promise<void> {
  const { args, env } = libpq(databaseUrl);
  await exec('pg_dump', [...args, '--format=custom', '--no-owner', '--no-privileges', '--file', file], env, log);
}

/** `pg_restore` of a custom-format archive into an empty database, in one transaction. */
export async function pgRestore(databaseUrl: string, file: string, log: (line: string) => void): Promise<void> {
  const { args, env } = libpq(databaseUrl);
  await exec('pg_restore', [...args, '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', file], env, log);
}

/** Custom-format pg_dump archives start with these bytes. */
export const PG_DUMP_MAGIC = 'PGDMP';
