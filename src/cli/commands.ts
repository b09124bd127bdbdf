// Every operation of the registry as an `opsbase` command (DESIGN §3): `keys.rotate` → `opsbase keys rotate <id>
// --grace-hours 24`. Positional arguments come from `op.cli.args`, options from the operation's zod input (via its
// JSON Schema), so a new operation is a new command with no CLI code. Plus `login` and `logout`.
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline/promises';
import { type Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { commandWords, type Operation } from '../core/operation.ts';
import { findOperation, operations } from '../operations.ts';
import { routePath, toOperationRequest } from '../core/http-request.ts';
import { type ApiResult, exitCodeFor, type GlobalOptions, NetworkError, request, resolveTarget, type Target } from './client.ts';
import { clearCredential, readSaved, writeSaved } from './config-file.ts';
import { printApiError, printHuman, printJson, printLocalError } from './render.ts';

const GROUPS: Record<string, string> = {
  auth: 'Accounts and sessions through the raw API (`opsbase login` also saves the session)',
  users: 'Users of this instance (instance admins) and your own account',
  orgs: 'Orgs you belong to, their members and invites',
  'orgs members': 'Members of the current org and their roles',
  'orgs invites': 'Invitations to join the current org by email',
  keys: 'API keys of the current org',
  queue: 'The job queue: submit jobs, claim them from your own workers, schedules and stats',
  'queue jobs': 'Jobs of the queue: list and inspect',
  'queue schedules': 'Recurring job schedules',
  activity: 'The activity log of the current org',
  dev: "Developer tools: the org's recent API requests",
  health: 'Server probes: health, readiness, version',
};

// ---- usage errors exit 2 -------------------------------------------------------------------------------------

/** Commander exits 1 on its own usage errors; the contract says 2 (0 ok, 1 API, 2 usage, 3 auth, 4 payment, 5 network). */
function usageExit(err: CommanderError): never {
  process.exit(err.exitCode === 0 || err.code === 'commander.error' ? err.exitCode : 2);
}

function applyUsageExit(cmd: Command) {
  cmd.exitOverride(usageExit);
  for (const sub of cmd.commands) applyUsageExit(sub);
}

// ---- input fields from the JSON Schema -----------------------------------------------------------------------

interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  description?: string;
  format?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

type Kind = 'string' | 'number' | 'boolean' | 'list' | 'json' | 'any';

interface Field {
  name: string;
  kind: Kind;
  /** For lists: how each comma-separated item is parsed. */
  item?: Kind;
  nullable: boolean;
  required: boolean;
  help: string;
}

const branches = (s: JsonSchema): JsonSchema[] => (s.anyOf ?? s.oneOf ?? [s]).flatMap((b) => (b.anyOf || b.oneOf ? branches(b) : [b]));

function typesOf(s: JsonSchema): string[] {
  return branches(s).flatMap((b) => {
    if (Array.isArray(b.type)) return b.type;
    if (b.type) return [b.type];
    if (b.const !== undefined) return [b.const === null ? 'null' : typeof b.const];
    return (b.enum ?? []).map((v) => (v === null ? 'null' : typeof v));
  });
}

function kindOf(s: JsonSchema): { kind: Kind; item?: Kind; nullable: boolean } {
  const all = typesOf(s);
  const types = [...new Set(all.filter((t) => t !== 'null').map((t) => (t === 'integer' ? 'number' : t)))];
  const nullable = all.includes('null');
  if (types.length !== 1) return { kind: 'any', nullable };
  const [t] = types;
  if (t === 'string' || t === 'number' || t === 'boolean') return { kind: t, nullable };
  if (t === 'array') {
    const items = branches(s).find((b) => b.items)?.items;
    const item = items ? kindOf(items).kind : 'any';
    return item === 'string' || item === 'number' ? { kind: 'list', item, nullable } : { kind: 'json', nullable };
  }
  return { kind: t === 'object' ? 'json' : 'any', nullable };
}

function fieldOf(name: string, s: JsonSchema, required: boolean): Field {
  const { kind, item, nullable } = kindOf(s);
  const enums = branches(s).flatMap((b) => b.enum ?? []);
  const format = branches(s).find((b) => b.format)?.format;
  const notes = [
    required ? 'required' : undefined,
    s.description ?? branches(s).find((b) => b.description)?.description,
    format ? (FORMATS[format] ?? format) : undefined,
    enums.length ? `one of: ${enums.join(', ')}` : undefined,
    kind === 'list' ? 'comma-separated' : kind === 'json' ? 'JSON' : undefined,
    // Shown, never sent: the server applies its own defaults when a field is left out.
    s.default !== undefined ? `server default: ${JSON.stringify(s.default)}` : undefined,
    nullable && kind !== 'boolean' ? `--no-${kebab(name)} sends null` : undefined,
  ];
  return { name, kind, item, nullable, required, help: notes.filter(Boolean).join('; ') };
}

const FORMATS: Record<string, string> = { 'date-time': 'ISO 8601 date-time, e.g. 2030-01-31T12:00:00Z', uri: 'URL' };

const kebab = (name: string) => name.replaceAll('_', '-');

function parseScalar(kind: Kind | undefined, value: string): unknown {
  if (kind === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
    return n;
  }
  if (kind === 'json' || kind === 'any') {
    try {
      return JSON.parse(value);
    } catch {
      // Free-form fields take plain text too; objects must be JSON.
      if (kind === 'any') return value;
      throw new InvalidArgumentError('Not valid JSON.');
    }
  }
  return value;
}

function parserFor(f: Field) {
  if (f.kind !== 'list') return (value: string) => parseScalar(f.kind, value);
  // `--scopes a,b` or `--scopes a --scopes b`; an empty value is an empty list.
  return (value: string, previous: unknown) => {
    const items = value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
      .map((v) => parseScalar(f.item, v));
    return Array.isArray(previous) ? [...previous, ...items] : items;
  };
}

const PLACEHOLDER: Record<Kind, string> = { string: 'value', number: 'number', boolean: '', list: 'list', json: 'json', any: 'value' };

function addOption(cmd: Command, f: Field, reserved: Set<string>, opId: string) {
  const flag = `--${kebab(f.name)}`;
  // Program-wide options are parsed before the command's own, so a field with the same name could never be set.
  if (reserved.has(flag)) throw new Error(`${opId}: input field \`${f.name}\` clashes with the global option ${flag}; rename the field`);
  const option = new Option(f.kind === 'boolean' ? flag : `${flag} <${PLACEHOLDER[f.kind]}>`, f.help);
  if (f.kind !== 'boolean') option.argParser(parserFor(f));
  if (f.required) option.makeOptionMandatory();
  cmd.addOption(option);
  if (f.kind === 'boolean') cmd.addOption(new Option(`--no-${kebab(f.name)}`, `send ${f.name}: false`));
  else if (f.nullable) cmd.addOption(new Option(`--no-${kebab(f.name)}`).hideHelp());
}

// ---- running a request ---------------------------------------------------------------------------------------

function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Prints a response the way the flags ask and sets the exit code. */
function report(res: ApiResult, globals: GlobalOptions, columns: string[] | undefined, target?: Target) {
  if (res.status < 400) {
    if (globals.json) printJson(res.text);
    else printHuman(res.body, columns);
    return;
  }
  printApiError(res, globals.json, res.status === 401 ? target?.authHint : undefined);
  process.exitCode = exitCodeFor(res.status);
}

/** Failures of the CLI itself: 5 when the server cannot be reached, 1 for anything else (e.g. a corrupt config). */
async function guard(globals: GlobalOptions, fn: () => Promise<void>) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof NetworkError) {
      printLocalError('network', err.message, globals.json);
      process.exitCode = 5;
    } else {
      printLocalError('cli', (err as Error).message, globals.json);
      process.exitCode = 1;
    }
  }
}

async function ask(question: string, hidden = false): Promise<string> {
  let muted = false;
  // readline echoes what is typed through its output; muting that output hides a password.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = hidden;
    return await answer;
  } finally {
    rl.close();
    if (hidden) process.stderr.write('\n');
  }
}

/** Paid operations spend credits: say how many and get a yes, from `--yes` or from the person at the terminal. */
async function confirmCost(op: Operation, cmd: Command, yes: unknown): Promise<boolean> {
  if (op.cost <= 0 || yes) return true;
  const what = `\`${commandWords(op.id).join(' ')}\` costs ${op.cost} credit${op.cost === 1 ? '' : 's'}`;
  if (!process.stdin.isTTY) cmd.error(`${what}: pass --yes to confirm.`, { exitCode: 2 });
  const answer = await ask(`${what}. Continue? [y/N] `);
  if (/^y(es)?$/i.test(answer.trim())) return true;
  console.error('Cancelled; nothing was spent.');
  process.exitCode = 2;
  return false;
}

/** `--watch`: the same request every `seconds`, the screen redrawn (on a terminal), until Ctrl-C or an error. */
async function watch(
  value: unknown,
  cmd: Command,
  run: () => Promise<ApiResult>,
  globals: GlobalOptions,
  columns: string[] | undefined,
  target: Target,
) {
  const seconds = value === true ? 2 : Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.5) cmd.error('error: --watch takes a number of seconds (at least 0.5).', { exitCode: 2 });
  for (;;) {
    const res = await run();
    if (process.stdout.isTTY && !globals.json) process.stdout.write('\x1b[2J\x1b[H');
    report(res, globals, columns, target);
    if (res.status >= 400) return;
    if (process.stdout.isTTY && !globals.json) console.log(`\nevery ${seconds} s — Ctrl-C to stop`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }
}

// ---- one command per operation -------------------------------------------------------------------------------

function group(parent: Command, words: string[]): Command {
  const name = words[words.length - 1];
  const existing = parent.commands.find((c) => c.name() === name);
  if (existing) return existing;
  return parent.command(name).description(GROUPS[words.join(' ')] ?? `${words.join(' ')} operations`);
}

function addOperationCommand(program: Command, op: Operation, reserved: Set<string>) {
  const words = commandWords(op.id);
  let parent = program;
  for (let i = 1; i < words.length; i++) parent = group(parent, words.slice(0, i));

  const cmd = parent
    .command(words[words.length - 1])
    .summary(op.summary)
    .description(op.description ? `${op.summary}\n\n${op.description}` : op.summary);
  const schema = z.toJSONSchema(op.input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  // Positional arguments are always required; commander says so with `<name>`.
  const args = op.cli.args.map((name) => fieldOf(name, props[name] ?? {}, false));
  const options = Object.entries(props)
    .filter(([name]) => !op.cli.args.includes(name))
    .map(([name, s]) => fieldOf(name, s, required.has(name)));

  for (const f of args) cmd.argument(`<${kebab(f.name)}>`, f.help, parserFor(f));
  for (const f of options) addOption(cmd, f, reserved, op.id);
  if (op.cost > 0) cmd.option('-y, --yes', `spend ${op.cost} credits without asking`);
  if (op.cli.watch && op.readOnly) cmd.option('-w, --watch [seconds]', 'redraw every N seconds (default 2) until Ctrl-C');

  cmd.action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const globals = globalsOf(command);
    const given = command.opts();
    const input: Record<string, unknown> = {};
    args.forEach((f, i) => {
      input[f.name] = params[i];
    });
    for (const f of options) {
      const value = given[new Option(`--${kebab(f.name)}`).attributeName()];
      if (value === undefined) continue; // not given: the server's default applies
      input[f.name] = value === false && f.kind !== 'boolean' ? null : value;
    }
    if (!(await confirmCost(op, command, given.yes))) return;
    await guard(globals, async () => {
      const target = resolveTarget(globals);
      const { path, query, body } = toOperationRequest(op, input);
      if (op.cli.watch && given.watch !== undefined)
        return watch(given.watch, command, () => request(target, op.method, path, { query, body }), globals, op.cli.columns, target);
      report(await request(target, op.method, path, { query, body }), globals, op.cli.columns, target);
    });
  });
}

// ---- login / logout ------------------------------------------------------------------------------------------

interface LoginBody {
  token: string;
  refresh_token?: string;
  user?: { id?: string; email?: string };
}

async function loginWithPassword(command: Command, globals: GlobalOptions, opts: { email?: string; password?: string }) {
  const op = findOperation('auth.login');
  if (!op) throw new Error('this server build has no `auth.login` operation');
  const interactive = !!process.stdin.isTTY;
  if ((!opts.email || !opts.password) && !interactive) {
    command.error('error: pass --email and --password (or --api-key obk_…); prompts need a terminal.', { exitCode: 2 });
  }
  const email = opts.email || (await ask('Email: ')).trim();
  const password = opts.password || (await ask('Password: ', true));
  const target: Target = { ...resolveTarget(globals), token: undefined, savedSession: false };
  const res = await request(target, 'POST', routePath(op), { body: { email, password } });
  if (res.status >= 400) return report(res, globals, undefined);
  const body = res.body as LoginBody;
  const path = writeSaved({
    api_url: target.apiUrl,
    token: body.token,
    refresh_token: body.refresh_token,
    user_id: body.user?.id,
    email: body.user?.email ?? email,
    ...(globals.orgId ? { org_id: globals.orgId } : {}),
  });
  if (globals.json) printJson(res.text);
  else console.log(`Logged in as ${body.user?.email ?? email} on ${target.apiUrl}; session saved to ${path}`);
}

async function loginWithKey(globals: GlobalOptions, key: string) {
  const target = resolveTarget(globals);
  const whoami = findOperation('whoami');
  let res: ApiResult | undefined;
  // Check the key before saving it, so a typo fails here rather than on the next command.
  if (whoami) {
    res = await request({ ...target, token: key, savedSession: false }, 'GET', routePath(whoami));
    if (res.status >= 400) return report(res, globals, undefined);
  }
  const path = writeSaved({ api_url: target.apiUrl, token: key, ...(globals.orgId ? { org_id: globals.orgId } : {}) });
  const org = (res?.body as { org?: { id?: string; name?: string } } | undefined)?.org;
  if (globals.json) printJson(res?.text ?? '');
  else console.log(`Saved the API key${org ? ` of org ${org.name} (${org.id})` : ''} for ${target.apiUrl} to ${path}`);
}

async function logout(globals: GlobalOptions, opts: { allDevices?: boolean }) {
  const saved = readSaved();
  if (!saved.token) {
    if (!globals.json) console.log('Not logged in.');
    return;
  }
  const op = findOperation('auth.logout');
  let res: ApiResult | undefined;
  let failure: unknown;
  // API keys are not sessions: there is nothing to end on the server, only the saved copy to forget.
  if (op && !saved.token.startsWith('obk_')) {
    const target: Target = { apiUrl: saved.api_url ?? resolveTarget(globals).apiUrl, token: saved.token, savedSession: false };
    res = await request(target, 'POST', routePath(op), { body: opts.allDevices ? { all_devices: true } : {} }).catch((err: unknown) => {
      failure = err;
      return undefined;
    });
  }
  // Forget the credential whatever the server said: the user asked to be logged out here.
  const path = clearCredential();
  if (failure) throw failure;
  // 401: the session had already ended, which is what logging out wants.
  if (res && res.status >= 400 && res.status !== 401) return report(res, globals, undefined);
  if (globals.json) printJson(res && res.status < 400 ? res.text : '');
  else console.log(`Logged out; removed the saved credential from ${path}`);
}

function registerSessionCommands(program: Command) {
  program
    .command('login')
    .description(
      'Log in with email and password and save the session (mode 0600) to $XDG_CONFIG_HOME/opsbase/config.json; ' +
        'with --api-key, save that key instead. Later commands use it when no --api-key / OPSBASE_API_KEY is given.',
    )
    .option('--email <email>', 'your email (asked on a terminal when omitted)')
    .option('--password <password>', 'your password (asked without echo on a terminal when omitted)')
    .action(async (opts: { email?: string; password?: string }, command: Command) => {
      const globals = globalsOf(command);
      await guard(globals, async () => {
        if (globals.apiKey && (opts.email || opts.password)) command.error('error: use either --api-key or --email/--password.', { exitCode: 2 });
        if (globals.apiKey) await loginWithKey(globals, globals.apiKey);
        else await loginWithPassword(command, globals, opts);
      });
    });

  program
    .command('logout')
    .description('End the saved session on the server and remove the credential from the config file')
    .option('--all-devices', 'end every session of this user, not only this one')
    .action(async (opts: { allDevices?: boolean }, command: Command) => {
      const globals = globalsOf(command);
      await guard(globals, () => logout(globals, opts));
    });
}

export function registerApiCommands(program: Command) {
  if (!program.options.some((o) => o.long === '--org-id')) {
    program.option('--org-id <id>', 'org to act in with a session token (X-Org-Id; default: the saved org, else your first org)');
  }
  // Commands registered before or after this one get the same usage exit code when they are dispatched to.
  program.exitOverride(usageExit);
  program.hook('preSubcommand', (_program, sub) => applyUsageExit(sub));

  const reserved = new Set(program.options.flatMap((o) => [o.long, `--no-${o.long?.slice(2)}`]).filter((f): f is string => !!f));
  reserved.add('--help');
  // Signed webhooks (`billing.webhook`) are for the payment provider, not for people at a terminal.
  for (const op of operations) if (!op.rawBody) addOperationCommand(program, op, reserved);
  registerSessionCommands(program);
}
