// The `opsbase` CLI end to end: the real command spawned as a process against a real server — commands derived
// from the registry, `--json` output, tables, exit codes, and login / logout with the saved config file.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerApiCommands } from '../src/cli/commands.ts';
import { cliWords } from '../src/core/operation.ts';
import { operations } from '../src/operations.ts';
import pg from 'pg';
import { verifyPassword } from '../src/core/crypto.ts';
import { freshDatabase, startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { MAIN, type Run, runProcess } from './helpers/run-process.ts';

const ESC = '\u001b[';

let app: TestApp;
const dirs: string[] = [];

/** A fresh, empty $XDG_CONFIG_HOME per test, so saved logins never leak between tests. */
function configHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsbase-cli-'));
  dirs.push(dir);
  return dir;
}

/** Runs `opsbase …` as a process. stdin is a pipe (not a TTY), as in scripts and CI. */
function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Run> {
  const base: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url };
  delete base.OPSBASE_API_KEY;
  delete base.FORCE_COLOR;
  const merged = { ...base, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return runProcess(args, merged as NodeJS.ProcessEnv, MAIN, input);
}

/** `opsbase …` as tenant `t` with its API key. */
const as = (t: Tenant, args: string[], env: Record<string, string | undefined> = {}) =>
  cli(args, { OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: configHome(), ...env });

function okJson(run: Run): any {
  assert.equal(run.code, 0, `exit 0 expected; stderr: ${run.stderr}`);
  assert.equal(run.stderr, '');
  assert.ok(run.stdout.endsWith('}\n'), 'exactly the JSON body, newline-terminated');
  return JSON.parse(run.stdout);
}

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

// util-linux `script` gives the CLI a real terminal, to check the prompts (and that a password is not echoed).
const hasScript = process.platform === 'linux' && existsSync('/usr/bin/script');

/** `opsbase <args>` on a terminal, answering each prompt when it appears; what the terminal showed. */
async function onTerminal(args: string[], env: Record<string, string>, answers: [prompt: string, answer: string][]) {
  const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} ${MAIN} ${args.join(' ')}`, '/dev/null'], {
    env: { ...process.env, OPSBASE_API_URL: app.url, NO_COLOR: '1', ...env },
  });
  let out = '';
  const sent = new Set<string>();
  child.stdout.on('data', (d) => {
    out += d;
    for (const [prompt, answer] of answers) {
      if (out.includes(prompt) && !sent.has(prompt)) {
        sent.add(prompt);
        child.stdin.write(`${answer}\r`);
      }
    }
  });
  const timer = setTimeout(() => child.kill(), 60_000);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, out };
}

before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('every registry operation is a command, with its args positional and every other input field an option (an upload\'s file: --file)', () => {
  const program = new Command('opsbase').option('--json').option('--api-url <url>').option('--api-key <key>');
  registerApiCommands(program);
  // Signed webhooks (rawBody) are for the payment provider, not a terminal: no command.
  const webhook = program.commands.find((c) => c.name() === 'billing')?.commands.find((c) => c.name() === 'webhook');
  assert.equal(webhook, undefined, 'billing.webhook is not a command');
  for (const op of operations.filter((o) => !o.rawBody)) {
    let cmd: Command | undefined = program;
    for (const word of cliWords(op)) cmd = cmd?.commands.find((c) => c.name() === word);
    assert.ok(cmd, `command for ${op.id}`);
    assert.deepEqual(
      cmd.registeredArguments.map((a) => a.name()),
      op.cli.args.map((a) => a.replaceAll('_', '-')),
      `${op.id} positional arguments`,
    );
    const flags = new Set(cmd.options.map((o) => o.long));
    for (const field of Object.keys(op.input.shape)) {
      if (op.cli.args.includes(field)) continue;
      // An upload's base64 field is for JSON clients: the CLI sends the file itself (`--file`, or `cli.upload.from`).
      if (field === op.upload?.field) {
        assert.ok(!flags.has(`--${field.replaceAll('_', '-')}`) && (flags.has('--file') || flags.has(`--${op.cli.upload?.from}`)), `${op.id} takes a file`);
        continue;
      }
      // A field may have a shorter flag of the operation's choosing (`--folder` for `folder_id`).
      const flag = op.cli.flags?.[field] ?? field.replaceAll('_', '-');
      assert.ok(flags.has(`--${flag}`), `${op.id} has --${flag}`);
    }
  }
  const members = program.commands.find((c) => c.name() === 'orgs')?.commands.find((c) => c.name() === 'members');
  assert.ok(members?.description(), 'group commands are described');
});

test('`opsbase --help` describes every command group in words; a group lists its commands', async () => {
  const help = await cli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  const groups = [...new Set(operations.filter((o) => !o.rawBody && o.id.includes('.')).map((o) => cliWords(o)[0]))];
  for (const group of groups) {
    // `documents|docs`: a group with an alias lists both names.
    const line = help.stdout.split('\n').find((l) => l.trimStart().startsWith(`${group} `) || l.trimStart().startsWith(`${group}|`));
    assert.ok(line, `${group} is listed`);
    assert.doesNotMatch(line, / operations$/, `${group} has a description of its own`);
  }
  const billing = await cli(['billing', '--help']);
  assert.match(billing.stdout, /Plan, subscription, usage/);
  assert.match(billing.stdout, /tiers\s/);
  assert.match(billing.stdout, /change-plan/);
});

describe('api commands', () => {
  test('--json whoami prints exactly the API body; the human form is a field/value table', async () => {
    const t = await app.tenant('Cli');
    const api = await app.request('GET', '/api/v1/whoami', { key: t.key });
    assert.equal(api.status, 200);
    const [before, after, human] = await Promise.all([as(t, ['--json', 'whoami']), as(t, ['whoami', '--json']), as(t, ['whoami'])]);
    assert.deepEqual(okJson(before), api.body);
    assert.deepEqual(okJson(after), api.body, 'global options also work after the command');

    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`org\\.id\\s+│\\s+${t.orgId}`));
    assert.match(human.stdout, /key\.scopes\s+│\s+\*/);
    assert.ok(!human.stdout.includes(ESC), 'NO_COLOR: no escape codes');
  });

  test('search prints a heading and a table of hits per type that matched; nothing matched says so', async () => {
    const t = await app.tenant('CliSearch');
    const task = await app.request('POST', '/api/v1/tasks', { key: t.key, body: { title: 'Chase the quokka invoice' } });
    assert.equal(task.status, 201, JSON.stringify(task.body));
    const found = await as(t, ['search', 'quokka']);
    assert.equal(found.code, 0, found.stderr);
    assert.match(found.stdout, /^task \(1\)$/m);
    assert.match(found.stdout, /Chase the quokka invoice\s+│\s+\/tasks\/\d+/);
    assert.doesNotMatch(found.stdout, /^document/m, 'types without a hit are left out');
    const none = await as(t, ['search', 'zzqqxx']);
    assert.match(none.stdout, /nothing matched/);
  });

  test('keys create / list / get / update: options from the schema, masked table, a fresh Idempotency-Key per run', async () => {
    const t = await app.tenant();
    const created = okJson(await as(t, ['keys', 'create', '--name', 'ci', '--scopes', 'tasks:read,tasks:write', '--json']));
    assert.equal(created.name, 'ci');
    assert.deepEqual(created.scopes, ['tasks:read', 'tasks:write']);
    assert.match(created.secret, /^obk_live_/);
    const stored = await app.request('GET', `/api/v1/keys/${created.id}`, { key: t.key });
    assert.deepEqual(stored.body.scopes, ['tasks:read', 'tasks:write']);

    // The same command again must create a second key, not replay the first response.
    const again = okJson(await as(t, ['keys', 'create', '--name', 'ci', '--scopes', 'tasks:read,tasks:write', '--json']));
    assert.notEqual(again.id, created.id);

    const list = await as(t, ['keys', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const header = list.stdout.split('\n').find((l) => l.includes('masked'));
    assert.ok(header && /id\s+│\s+name\s+│\s+masked\s+│\s+scopes/.test(header), 'columns from op.cli.columns');
    const row = list.stdout.split('\n').find((l) => l.includes(created.id));
    assert.ok(row, 'the new key is listed');
    assert.ok(row.includes(created.masked) && row.includes('tasks:read,tasks:write'), row);
    assert.ok(!list.stdout.includes(created.secret), 'never the secret');

    const one = await as(t, ['keys', 'get', created.id]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`masked\\s+│\\s+${created.masked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    const updated = okJson(await as(t, ['keys', 'update', created.id, '--no-active', '--description', 'nightly', '--json']));
    assert.equal(updated.active, false);
    assert.equal(updated.description, 'nightly');
    assert.equal(updated.name, 'ci', 'fields not given are not sent');
    assert.deepEqual(updated.scopes, ['tasks:read', 'tasks:write']);
    const cleared = okJson(await as(t, ['keys', 'update', created.id, '--no-description', '--active', '--json']));
    assert.equal(cleared.description, null);
    assert.equal(cleared.active, true);
  });

  test('lists page with --limit and hint the next --cursor', async () => {
    const t = await app.tenant();
    for (const name of ['a', 'b']) assert.equal((await app.request('POST', '/api/v1/keys', { key: t.key, body: { name } })).status, 201);
    const first = await as(t, ['keys', 'list', '--limit', '1']);
    assert.equal(first.code, 0, first.stderr);
    const cursor = /more: --cursor (\S+)/.exec(first.stderr)?.[1];
    assert.ok(cursor, `a next-page hint on stderr: ${first.stderr}`);
    const page2 = okJson(await as(t, ['keys', 'list', '--limit', '1', '--cursor', cursor, '--json']));
    assert.equal(page2.data.length, 1);
    assert.ok(!first.stdout.includes(page2.data[0].id), 'the second page holds another key');
  });

  test('keys rotate <id> --grace-hours: the number is sent and the old secret keeps working', async () => {
    const t = await app.tenant();
    const key = (await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'rot' } })).body;
    const rotated = okJson(await as(t, ['keys', 'rotate', key.id, '--grace-hours', '24', '--json']));
    assert.equal(rotated.id, key.id);
    assert.notEqual(rotated.secret, key.secret);
    const hours = (Date.parse(rotated.previous_secret_expires_at) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `grace ≈ 24 h, got ${hours}`);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: key.secret })).status, 200, 'old secret still valid in grace');

    const short = okJson(await as(t, ['keys', 'rotate', key.id, '--grace-hours', '2', '--json']));
    const h2 = (Date.parse(short.previous_secret_expires_at) - Date.now()) / 3_600_000;
    assert.ok(h2 > 1.9 && h2 <= 2, `--grace-hours 2 reaches the server, got ${h2}`);
  });

  test('orgs members list --json, and a JSON option (activity create --metadata)', async () => {
    const t = await app.tenant();
    const members = okJson(await as(t, ['--json', 'orgs', 'members', 'list']));
    const me = members.data.find((m: any) => m.user_id === t.userId);
    assert.equal(me?.role, 'owner');
    assert.equal(members.meta.has_more, false);

    const act = okJson(await as(t, ['activity', 'create', 'deploy.finished', 'service', '--metadata', '{"build":42}', '--json']));
    assert.equal(act.action, 'deploy.finished');
    assert.equal(act.metadata.build, 42, 'the JSON option arrives as an object');
  });

  test('API errors: stderr `error <code>: … (request …)`, exit 3 for 401/403, 1 for 404/400; --json puts the envelope on stderr', async () => {
    const t = await app.tenant();
    const reader = (await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'r', scopes: ['tasks:read'] } })).body;
    const [bad, badJson, forbidden, missing, invalid] = await Promise.all([
      as(t, ['whoami'], { OPSBASE_API_KEY: 'obk_live_not_a_real_key' }),
      as(t, ['whoami', '--json'], { OPSBASE_API_KEY: 'obk_live_not_a_real_key' }),
      as(t, ['keys', 'list'], { OPSBASE_API_KEY: reader.secret }),
      as(t, ['keys', 'get', 'key_nope']),
      as(t, ['keys', 'create', '--name', 'x', '--scopes', 'not a scope']),
    ]);
    assert.equal(bad.code, 3);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^error unauthorized: .+ \(request req_\S+\)\n/);

    assert.equal(badJson.code, 3);
    assert.equal(badJson.stdout, '');
    const envelope = JSON.parse(badJson.stderr);
    assert.equal(envelope.error, 'unauthorized');
    assert.match(envelope.request_id, /^req_/);

    assert.equal(forbidden.code, 3);
    assert.match(forbidden.stderr, /^error forbidden: /);

    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error not_found: .+\(request req_\S+\)/);

    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^error invalid_request: /);
  });

  test('usage errors exit 2: missing positional, missing required option, bad number, bad JSON, unknown option', async () => {
    const t = await app.tenant();
    const cases: [string[], RegExp][] = [
      [['keys', 'get'], /missing required argument 'id'/],
      [['keys', 'get', 'key_a', '--id', 'key_b'], /give id once: as the argument or as --id/],
      [['keys', 'create'], /required option '--name <value>' not specified/],
      [['keys', 'rotate', 'key_x', '--grace-hours', 'soon'], /Not a number/],
      [['activity', 'create', 'a', 'b', '--metadata', '{oops'], /Not valid JSON/],
      [['keys', 'list', '--bogus'], /unknown option '--bogus'/],
      [['keys'], /Usage: opsbase keys/],
      [['login'], /pass --email/],
    ];
    const runs = await Promise.all(cases.map(([args]) => as(t, args)));
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i];
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    }
  });

  test('a positional argument may be given as an option: `agents create --name writer` is `agents create writer`', async () => {
    const t = await app.tenant();
    const [byOption, byArgument] = await Promise.all([
      as(t, ['--json', 'agents', 'create', '--name', 'writer', '--role', 'Content writer']),
      as(t, ['--json', 'agents', 'create', 'editor', '--role', 'Editor']),
    ]);
    assert.equal(byOption.code, 0, byOption.stderr);
    assert.equal(byArgument.code, 0, byArgument.stderr);
    assert.deepEqual([JSON.parse(byOption.stdout).name, JSON.parse(byOption.stdout).role], ['writer', 'Content writer']);
    assert.equal(JSON.parse(byArgument.stdout).name, 'editor');
    const got = await as(t, ['--json', 'agents', 'get', '--id', 'writer']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).id, JSON.parse(byOption.stdout).id);
    const help = await as(t, ['agents', 'create', '--help']);
    assert.match(help.stdout, /Usage: opsbase agents create \[options\] <name>/, 'the usage still shows the argument');
  });

  test('an unreachable server exits 5 and says how to start one', async () => {
    const t = await app.tenant();
    const url = `http://127.0.0.1:${await deadPort()}`;
    const run = await as(t, ['whoami'], { OPSBASE_API_URL: url });
    assert.equal(run.code, 5);
    assert.ok(run.stderr.includes(`server at ${url} is unreachable`), run.stderr);
    assert.ok(run.stderr.includes('npx opsbase start'), run.stderr);
    const flag = await as(t, ['--json', '--api-url', url, 'whoami']);
    assert.equal(flag.code, 5);
    assert.equal(JSON.parse(flag.stderr).error, 'network', '--api-url wins over OPSBASE_API_URL');
  });

  test('NO_COLOR is respected (and colour is used when allowed)', async () => {
    const t = await app.tenant();
    const [coloured, plain] = await Promise.all([
      as(t, ['keys', 'list'], { NO_COLOR: undefined, FORCE_COLOR: '1' }),
      as(t, ['keys', 'list'], { NO_COLOR: '1', FORCE_COLOR: '1' }),
    ]);
    assert.ok(coloured.stdout.includes(ESC), 'FORCE_COLOR: headers are styled');
    assert.equal(plain.code, 0);
    assert.ok(!plain.stdout.includes(ESC) && !plain.stderr.includes(ESC), 'NO_COLOR wins');
  });
});

describe('login and logout', () => {
  const savedFile = (home: string) => join(home, 'opsbase', 'config.json');

  test('login saves a 0600 session; later commands use it (and --org-id); an expired token is refreshed; logout ends it', async () => {
    const t = await app.tenant();
    const home = configHome();
    // A pre-existing, too-open file must be tightened.
    mkdirSync(join(home, 'opsbase'), { recursive: true });
    writeFileSync(savedFile(home), '{}', { mode: 0o644 });
    chmodSync(savedFile(home), 0o644);

    const login = await cli(['login', '--email', t.email, '--password', t.password], { XDG_CONFIG_HOME: home });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in as /);
    assert.equal(statSync(savedFile(home)).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'opsbase')).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(savedFile(home), 'utf8'));
    assert.equal(saved.api_url, app.url);
    assert.equal(saved.user_id, t.userId);
    assert.equal(saved.email, t.email);
    assert.match(saved.token, /^obs_/);
    assert.ok(saved.refresh_token);

    const who = okJson(await cli(['--json', 'whoami'], { XDG_CONFIG_HOME: home }));
    assert.equal(who.user.id, t.userId);
    assert.equal(who.org.id, t.orgId);

    // --org-id picks another org of the same user (X-Org-Id).
    const other = await app.request('POST', '/api/v1/orgs', { key: t.sessionToken, body: { name: 'Second' } });
    assert.equal(other.status, 201);
    assert.equal(okJson(await cli(['--json', '--org-id', other.body.id, 'whoami'], { XDG_CONFIG_HOME: home })).org.id, other.body.id);

    // A session token the server no longer accepts: one refresh, saved, and the command succeeds.
    writeFileSync(savedFile(home), JSON.stringify({ ...saved, token: 'obs_expired_or_unknown' }));
    assert.equal(okJson(await cli(['--json', 'whoami'], { XDG_CONFIG_HOME: home })).user.id, t.userId);
    const refreshed = JSON.parse(readFileSync(savedFile(home), 'utf8'));
    assert.match(refreshed.token, /^obs_/);
    assert.notEqual(refreshed.token, 'obs_expired_or_unknown');
    assert.notEqual(refreshed.refresh_token, saved.refresh_token);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: refreshed.token })).status, 200);

    const logout = await cli(['logout'], { XDG_CONFIG_HOME: home });
    assert.equal(logout.code, 0, logout.stderr);
    const after = JSON.parse(readFileSync(savedFile(home), 'utf8'));
    assert.equal(after.token, undefined);
    assert.equal(after.refresh_token, undefined);
    assert.equal(after.api_url, app.url, 'the server is remembered');
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: refreshed.token })).status, 401, 'the session ended on the server');
    const anon = await cli(['whoami'], { XDG_CONFIG_HOME: home });
    assert.equal(anon.code, 3);
    assert.match(anon.stderr, /^error unauthorized: /);
  });

  test('on a terminal, login asks for the missing email and password without echoing the password', {
    skip: !hasScript && 'needs util-linux script',
  }, async () => {
    const t = await app.tenant();
    const home = configHome();
    const { code, out } = await onTerminal(['login'], { XDG_CONFIG_HOME: home }, [
      ['Email: ', t.email],
      ['Password: ', t.password],
    ]);
    assert.equal(code, 0, out);
    assert.ok(out.includes(t.email), 'the email is echoed');
    assert.ok(!out.includes(t.password), 'the password is not');
    assert.match(out, /Logged in as /);
    assert.match(JSON.parse(readFileSync(savedFile(home), 'utf8')).token, /^obs_/);
  });

  test('login --password-stdin reads the password from stdin; without a password and without a terminal: exit 2, say how', async () => {
    const t = await app.tenant();
    const home = configHome();
    const login = await cli(['login', '--email', t.email, '--password-stdin'], { XDG_CONFIG_HOME: home }, `${t.password}\n`);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Logged in as /);
    const saved = JSON.parse(readFileSync(savedFile(home), 'utf8'));
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: saved.token })).body.user.id, t.userId);

    const other = configHome();
    const cases: [string[], string | undefined, RegExp][] = [
      [['login', '--email', t.email], undefined, /no password: pipe it in with --password-stdin/],
      [['login', '--email', t.email, '--password-stdin'], '', /--password-stdin read an empty password/],
      [['login', '--password-stdin'], t.password, /pass --email/],
      [['login', '--email', t.email, '--password-stdin', '--password', 'x'], t.password, /either --password-stdin or --password/],
    ];
    for (const [args, input, message] of cases) {
      const run = await cli(args, { XDG_CONFIG_HOME: other }, input);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.ok(!existsSync(savedFile(other)), 'nothing saved');
    }
  });

  test('a wrong password exits 3 and saves nothing', async () => {
    const t = await app.tenant();
    const home = configHome();
    const run = await cli(['login', '--email', t.email, '--password', 'wrong-password'], { XDG_CONFIG_HOME: home });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /^error unauthorized: /);
    assert.ok(!existsSync(savedFile(home)));
  });

  test('login --api-key checks and saves the key; logout forgets it', async () => {
    const t = await app.tenant();
    const home = configHome();
    const bad = await cli(['login', '--api-key', 'obk_live_typo'], { XDG_CONFIG_HOME: home });
    assert.equal(bad.code, 3);
    assert.ok(!existsSync(savedFile(home)), 'a rejected key is not saved');

    const login = await cli(['login', '--api-key', t.key], { XDG_CONFIG_HOME: home });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(JSON.parse(readFileSync(savedFile(home), 'utf8')).token, t.key);
    assert.equal(statSync(savedFile(home)).mode & 0o777, 0o600);
    assert.equal(okJson(await cli(['--json', 'whoami'], { XDG_CONFIG_HOME: home })).key.id, t.keyId);

    assert.equal((await cli(['logout'], { XDG_CONFIG_HOME: home })).code, 0);
    assert.equal(JSON.parse(readFileSync(savedFile(home), 'utf8')).token, undefined);
    assert.equal((await app.request('GET', '/api/v1/whoami', { key: t.key })).status, 200, 'logging out does not revoke the key');
  });

  test('a saved credential is only sent to the server it was saved for', async () => {
    const t = await app.tenant();
    const home = configHome();
    mkdirSync(join(home, 'opsbase'), { recursive: true });
    writeFileSync(savedFile(home), JSON.stringify({ api_url: 'http://elsewhere.invalid:4000', token: t.key }), { mode: 0o600 });
    const run = await cli(['whoami'], { XDG_CONFIG_HOME: home });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /saved login is for http:\/\/elsewhere\.invalid:4000/);
    // Without OPSBASE_API_URL the saved server is used (here unreachable: exit 5 proves where it went).
    const saved = await cli(['whoami'], { XDG_CONFIG_HOME: home, OPSBASE_API_URL: undefined });
    assert.equal(saved.code, 5);
    assert.match(saved.stderr, /elsewhere\.invalid/);
  });
});

describe('init', () => {
  test('init --password-stdin creates the first owner with that password; no password and no terminal: exit 2', async () => {
    const db = await freshDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const env = { DATABASE_URL: db.url, OPSBASE_DATA_DIR: configHome() };
      const missing = await cli(['init', '--email', 'first@example.com', '--org', 'Acme'], env);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /no password: pipe it in with --password-stdin/);
      assert.deepEqual((await pool.query('select id from users')).rows, [], 'nothing created');

      const init = await cli(['--json', 'init', '--email', 'first@example.com', '--org', 'Acme', '--password-stdin'], env, 'first-pass-123\n');
      assert.equal(init.code, 0, init.stderr);
      const created = JSON.parse(init.stdout);
      assert.equal(created.user.email, 'first@example.com');
      const { rows } = await pool.query('select password_hash from users where id = $1', [created.user.id]);
      assert.ok(await verifyPassword('first-pass-123', rows[0].password_hash), 'the password read from stdin, less its newline');
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  test('on a terminal, init asks for the password without echoing it', { skip: !hasScript && 'needs util-linux script' }, async () => {
    const db = await freshDatabase();
    try {
      const env = { DATABASE_URL: db.url, OPSBASE_DATA_DIR: configHome() };
      const { code, out } = await onTerminal(['init', '--email', 'tty@example.com', '--org', 'Acme'], env, [
        ['Password for the first owner', 'tty-pass-123'],
      ]);
      assert.equal(code, 0, out);
      assert.match(out, /instance admin tty@example\.com/);
      assert.ok(!out.includes('tty-pass-123'), 'the password is not echoed');
    } finally {
      await db.drop();
    }
  });
});

// Paid operations (`cost > 0`) ask for `--yes`: no paid operation exists in the registry yet, and the CLI builds its
// commands from that registry, so this path is not exercised here (it would need a fake operation in the CLI).
