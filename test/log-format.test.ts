// Server logs: short readable lines on a terminal, JSON when stdout is not one or when LOG_FORMAT=json — checked on
// the real `opsbase serve` (util-linux `script` gives it a terminal) — with secrets redacted either way.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { createLogger, prettyStream } from '../src/http/logger.ts';
import { freshDatabase } from './helpers/harness.ts';
import { MAIN } from './helpers/run-process.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the pretty form: time, level, message, fields; secrets redacted; an error with its stack', () => {
  let out = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += chunk;
      done();
    },
  });
  const log = createLogger('info', prettyStream(sink));
  log.info({ method: 'GET', path: '/api/v1/whoami', status: 200, ms: 1.5, token: 'obs_secret' }, 'request');
  log.error({ err: new Error('boom') }, 'failed');
  log.debug('below the level');
  // Colour or not depends on the terminal running the tests; the words must be right either way.
  const lines = stripVTControlCharacters(out).split('\n');
  assert.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} INFO {2}request method=GET path=\/api\/v1\/whoami status=200 ms=1\.5 token=\[redacted\]$/);
  assert.match(lines[1], /^\d\d:\d\d:\d\d\.\d{3} ERROR failed$/);
  assert.equal(lines[2], 'Error: boom');
  assert.match(lines[3], /^\s+at /);
  assert.ok(!out.includes('obs_secret') && !out.includes('below the level'));
});

/** `opsbase serve` until it says it is running (then SIGTERM); its first line of stdout. */
async function firstLine(env: Record<string, string>, tty: boolean): Promise<string> {
  const db = await freshDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbase-log-'));
  dirs.push(dataDir);
  const full = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: db.url,
    OPSBASE_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    NO_COLOR: '1',
    ...env,
  };
  const command = `${process.execPath} ${MAIN} serve`;
  const child = tty
    ? spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { env: full })
    : spawn(process.execPath, [MAIN, 'serve'], { env: full });
  let out = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up line within 60 s: ${out}`)), 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        const line = out.split(/\r?\n/).find((l) => l.includes('opsbase is running'));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
    });
  } finally {
    // `script` passes the signal's effect on through the terminal it made.
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    await db.drop();
  }
}

const hasScript = process.platform === 'linux' && existsSync('/usr/bin/script');

test('opsbase serve: pretty lines on a terminal, JSON through a pipe and with LOG_FORMAT=json', {
  skip: !hasScript && 'needs util-linux script',
}, async () => {
  const [tty, pipe, forced] = await Promise.all([firstLine({}, true), firstLine({}, false), firstLine({ LOG_FORMAT: 'json' }, true)]);
  assert.match(tty, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}opsbase is running url=http:\/\/localhost:\d+ /);
  for (const line of [pipe, forced]) {
    const entry = JSON.parse(line);
    assert.equal(entry.msg, 'opsbase is running');
    assert.equal(entry.level, 30);
  }
});
