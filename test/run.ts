// `npm test`: starts one PostgreSQL for the whole run (embedded, or TEST_DATABASE_URL), migrates a template
// database once, then runs every test file with node:test. Each test app clones the template (fast, isolated).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../src/db/client.ts';
import { startEmbedded } from '../src/db/embedded.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { createLogger } from '../src/http/logger.ts';

const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync('test')
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test', f));

let adminUrl = process.env.TEST_DATABASE_URL;
let stop = async () => {};
let dataDir: string | undefined;
if (!adminUrl) {
  dataDir = mkdtempSync(join(tmpdir(), 'opsbase-test-'));
  // A throwaway cluster: durability settings off make the suite several times faster.
  const pg = await startEmbedded({
    dataDir,
    log,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
  });
  adminUrl = pg.url;
  stop = pg.stop;
}

const template = `opsbase_tpl_${process.pid}`;
const admin = connect(adminUrl, { max: 2 });
await admin.pool.query(`drop database if exists ${template}`);
await admin.pool.query(`create database ${template}`);
const tplUrl = new URL(adminUrl);
tplUrl.pathname = `/${template}`;
const tpl = connect(tplUrl.toString(), { max: 2 });
await runMigrations(tpl);
await tpl.close();

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=3', '--test-timeout=120000', ...files], {
    stdio: 'inherit',
    env: {
      ...process.env,
      OPSBASE_TEST_ADMIN_URL: adminUrl,
      OPSBASE_TEST_TEMPLATE: template,
      // One master key for the run, so no test writes a key file into the working tree.
      OPSBASE_MASTER_KEY: process.env.OPSBASE_MASTER_KEY ?? randomBytes(32).toString('hex'),
    },
  });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});

await admin.pool.query(`drop database if exists ${template} with (force)`).catch(() => {});
await admin.close();
await stop();
if (dataDir) rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
