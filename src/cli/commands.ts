// Every operation contract as an `opsbase` command (DESIGN §3): `keys.rotate` → `opsbase keys rotate <id>
// --grace-hours 24`. Positional arguments come from `cli.args`, options from the input's JSON Schema, so a new
// operation is a new command with no CLI code. Built from src/cli/manifest.json alone, and only the group that is
// being run: the CLI answers in a blink however large the registry grows.
import { type Command, Option } from 'commander';
import { cliWords } from '../core/operation.ts';
import { applyUsageExit, globalsOf, guard, report, usageExit } from './action.ts';
import { type ApiResult, type GlobalOptions, request, resolveTarget, type Target } from './client.ts';
import { type CliContract, cliContracts, findContract } from './contract.ts';
import { downloadTo } from './download.ts';
import { follow } from './follow.ts';
import { addOption, fieldOf, kebab, memberFields, parserFor } from './fields.ts';
import { GROUP_ALIASES, GROUPS, canonicalGroup } from './groups.ts';
import { ask, readStdin } from './prompt.ts';
import { toOperationRequest } from '../core/http-request.ts';
import { registerSessionCommands } from './session.ts';

/** Paid operations spend credits: say how many and get a yes, from `--yes` or from the person at the terminal. */
async function confirmCost(op: CliContract, cmd: Command, yes: unknown): Promise<boolean> {
  if (op.cost <= 0 || yes) return true;
  const what = `\`${cliWords(op).join(' ')}\` costs ${op.cost} credit${op.cost === 1 ? '' : 's'}`;
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

/**
 * Follows `op`'s stream for `input`. `--wait` (`mustSucceed`): exit 0 only when it ended in success; `--follow`:
 * exit 0 when it ended at all. 1 when the stream never reached its end.
 */
async function followAndExit(target: Target, op: CliContract, input: Record<string, unknown>, globals: GlobalOptions, mustSucceed = false) {
  const { path, query } = toOperationRequest(op, input);
  const qs = query?.toString();
  const out = await follow(target, `${path}${qs ? `?${qs}` : ''}`, globals.json);
  if (out.error) {
    let body: unknown;
    try {
      body = JSON.parse(out.error.text);
    } catch {}
    return report({ status: out.error.status, text: out.error.text, body }, globals, undefined, target);
  }
  process.exitCode = out.status !== null && (!mustSucceed || out.status === 'succeeded') ? 0 : 1;
}

/**
 * An upload's file, read here and sent as the body. `cli.upload.from` (`files create --path ./contract.pdf`): that
 * option names it and is still sent, made relative (an absolute or `..` path by its base name: the org has no
 * business knowing this machine's tree), and `name` defaults to its base name. Otherwise `--file <path>` names it.
 */
function readUpload(op: CliContract, input: Record<string, unknown>, file: unknown, cmd: Command): Buffer {
  const from = op.cli.upload?.from;
  const local = String(from ? input[from] : file);
  const { basename, isAbsolute, normalize } = process.getBuiltinModule('node:path');
  let bytes: Buffer;
  try {
    bytes = process.getBuiltinModule('node:fs').readFileSync(local);
  } catch (err) {
    cmd.error(`error: cannot read ${local}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { exitCode: 2 });
  }
  if (from) {
    const rel = normalize(local);
    input[from] = isAbsolute(rel) || rel.split(/[\\/]/).includes('..') ? basename(rel) : rel;
    if (op.input.properties?.name) input.name ??= basename(rel);
  }
  return bytes;
}

// ---- one command per operation -------------------------------------------------------------------------------

function group(parent: Command, words: string[]): Command {
  const name = words[words.length - 1];
  const existing = parent.commands.find((c) => c.name() === name);
  if (existing) return existing;
  const cmd = parent.command(name).description(GROUPS[words.join(' ')] ?? `${words.join(' ')} operations`);
  if (words.length === 1) for (const [alias, of] of Object.entries(GROUP_ALIASES)) if (of === name) cmd.alias(alias);
  return cmd;
}

function addOperationCommand(program: Command, op: CliContract, reserved: Set<string>) {
  const words = cliWords(op);
  let parent = program;
  for (let i = 1; i < words.length; i++) parent = group(parent, words.slice(0, i));

  const cmd = parent
    .command(words[words.length - 1], { isDefault: op.cli.default === true })
    .summary(op.summary)
    .description(op.description ? `${op.summary}\n\n${op.description}` : op.summary);
  const props = op.input.properties ?? {};
  const required = new Set(op.input.required ?? []);
  // Positional arguments are always required; commander says so with `<name>`.
  const args = op.cli.args.map((name) => fieldOf(name, props[name] ?? {}, false));
  const taken = new Set(Object.keys(props));
  // An upload's file is sent as the body, never as a base64 option; the option that names it is then required.
  if (op.cli.upload) required.add(op.cli.upload.from);
  const files = Object.entries(op.cli.files ?? {});
  const options = Object.entries(props)
    .filter(([name]) => !op.cli.args.includes(name) && name !== op.upload?.field)
    // A field a file flag fills, or one that may come from stdin, is not a mandatory option: one of the two is
    // checked when the command runs.
    .flatMap(([name, s]) => [
      fieldOf(name, s, required.has(name) && name !== op.cli.stdin && !files.some(([, f]) => f === name)),
      ...memberFields(name, s, taken),
    ])
    .map((f) => {
      const flag = f.parent ? undefined : op.cli.flags?.[f.name];
      return flag ? { ...f, flag, help: f.help.replace(`--no-${kebab(f.name)}`, `--no-${flag}`) } : f;
    });
  const stdinFlag = op.cli.stdin ? `--${kebab(op.cli.stdin)}-stdin` : undefined;

  // A positional argument may also be given as an option (`agents create --name writer` as `agents create writer`):
  // people write both. Commander then takes the argument as optional; one of the two is checked when the command runs.
  const argFlags = args.map((f) => (reserved.has(`--${kebab(f.name)}`) ? undefined : `--${kebab(f.name)}`));
  args.forEach((f, i) => {
    cmd.argument(`[${kebab(f.name)}]`, f.help, parserFor(f));
    const flag = argFlags[i];
    if (flag) cmd.addOption(new Option(`${flag} <value>`, `the same as the argument <${kebab(f.name)}>`).argParser(parserFor(f)).hideHelp());
  });
  if (args.length) cmd.usage(['[options]', ...args.map((f) => `<${kebab(f.name)}>`)].join(' '));
  for (const f of options) addOption(cmd, f, reserved, op.id);
  for (const [flag, field] of files) cmd.option(`--${flag} <path>`, `read ${field} from this file (- reads standard input)`);
  if (stdinFlag) cmd.option(stdinFlag, `read ${op.cli.stdin} from stdin (kept out of \`ps\` and shell history)`);
  if (op.cost > 0) cmd.option('-y, --yes', `spend ${op.cost} credits without asking`);
  if (op.cli.watch && op.readOnly) cmd.option('-w, --watch [seconds]', 'redraw every N seconds (default 2) until Ctrl-C');
  if (op.stream) cmd.option('-f, --follow', 'stream the events live until the end (resumes after a dropped connection)');
  if (op.cli.wait) cmd.option('--wait', 'then follow it live until it ends; exit 0 if it succeeded, 1 if not');
  if (op.binary) cmd.option('-o, --out <file>', 'write the bytes to this file (default: standard output)');
  if (op.upload && !op.cli.upload) cmd.requiredOption('--file <path>', 'the file to send');

  cmd.action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const globals = globalsOf(command);
    const given = command.opts();
    const input: Record<string, unknown> = {};
    args.forEach((f, i) => {
      const flag = argFlags[i];
      const asOption = flag ? given[new Option(flag).attributeName()] : undefined;
      if (params[i] !== undefined && asOption !== undefined) command.error(`error: give ${kebab(f.name)} once: as the argument or as ${flag}.`, { exitCode: 2 });
      input[f.name] = params[i] ?? asOption;
      if (input[f.name] === undefined) command.error(`error: missing required argument '${kebab(f.name)}'`, { exitCode: 2 });
    });
    for (const f of options) {
      const value = given[new Option(`--${f.flag ?? kebab(f.name)}`).attributeName()];
      if (value === undefined) continue; // not given: the server's default applies
      const v = value === false && f.kind !== 'boolean' ? null : value;
      if (f.parent) input[f.parent] = { ...(input[f.parent] as object | undefined), [f.name]: v };
      else input[f.name] = v;
    }
    for (const [flag, field] of files) {
      const path = given[new Option(`--${flag}`).attributeName()];
      if (path === undefined) continue;
      if (input[field] !== undefined) command.error(`error: give --${flag} or --${kebab(field)}, not both.`, { exitCode: 2 });
      input[field] = readInputFile(command, String(path));
    }
    if (op.cli.stdin && stdinFlag) {
      const fromStdin = given[new Option(stdinFlag).attributeName()];
      if (fromStdin && input[op.cli.stdin] !== undefined) command.error(`error: give either --${kebab(op.cli.stdin)} or ${stdinFlag}, not both.`, { exitCode: 2 });
      if (fromStdin) input[op.cli.stdin] = await readStdin();
      else if (input[op.cli.stdin] === undefined && required.has(op.cli.stdin)) {
        command.error(`error: required option '--${kebab(op.cli.stdin)} <value>' (or ${stdinFlag}) not specified`, { exitCode: 2 });
      }
    }
    if (!(await confirmCost(op, command, given.yes))) return;
    await guard(globals, async () => {
      const file = op.upload ? readUpload(op, input, given.file, command) : undefined;
      const target = resolveTarget(globals);
      const { path, query, body } = toOperationRequest(op, input, !!file);
      if (op.cli.watch && given.watch !== undefined)
        return watch(given.watch, command, () => request(target, op.method, path, { query, body }), globals, op.cli.columns, target);
      if (op.stream && given.follow) return followAndExit(target, op, input, globals);
      const download = op.binary ? downloadTo(typeof given.out === 'string' ? given.out : undefined) : undefined;
      const res = await request(target, op.method, path, { query, body, file, raw: op.binary, sink: download?.sink }).catch(async (err) => {
        await download?.abort();
        throw err;
      });
      if (download && res.streamed !== undefined) return download.finish(res.streamed, !!globals.json);
      const followed = op.cli.wait && given.wait && res.status < 400 && findContract(op.cli.wait);
      if (!followed) return report(res, globals, op.cli.columns, target);
      // The events that follow say everything the answer did; its id is what to look it up by later.
      if (!globals.json) console.log(`following ${(res.body as { id: string }).id}`);
      await followAndExit(target, followed, { id: (res.body as { id: string }).id }, globals, true);
    });
  });
}

/** A file's text for a `files` flag (`-`: standard input); a file that cannot be read is a usage error (exit 2). */
function readInputFile(cmd: Command, path: string): string {
  // Loaded only when a command reads a file: node:fs's eager exports cost every CLI start (see src/cli/http.ts).
  const fs = process.getBuiltinModule('node:fs');
  try {
    return fs.readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    return cmd.error(`error: cannot read ${path}: ${(err as Error).message}`, { exitCode: 2 });
  }
}

/** Program-wide options that take a value: their value is never the command word. */
const VALUE_OPTIONS = new Set(['--api-url', '--api-key', '--org-id']);

/** The first command word of `argv` (after `help`, the command asked about), or undefined. */
export function commandWordOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (arg === 'help') return argv[i + 1];
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Registers the operation commands. With `argv` (the user's arguments), only the operations of the group being run
 * get their commands and options; every other group is a described placeholder, which is all `opsbase --help`
 * shows. Without `argv` every command is built (tests that inspect the whole tree).
 */
export function registerApiCommands(program: Command, argv?: readonly string[]) {
  if (!program.options.some((o) => o.long === '--org-id')) {
    program.option('--org-id <id>', 'org to act in with a session token (X-Org-Id; default: the saved org, else your first org)');
  }
  // Commands registered before or after this one get the same usage exit code when they are dispatched to.
  program.exitOverride(usageExit);
  program.hook('preSubcommand', (_program, sub) => applyUsageExit(sub));

  const reserved = new Set(program.options.flatMap((o) => [o.long, `--no-${o.long?.slice(2)}`]).filter((f): f is string => !!f));
  reserved.add('--help');
  const word = argv && canonicalGroup(commandWordOf(argv));
  // Signed webhooks (`billing.webhook`) are for the payment provider, not for people at a terminal.
  for (const op of cliContracts()) {
    if (op.rawBody) continue;
    const words = cliWords(op);
    if (argv === undefined || words.length === 1 || words[0] === word) addOperationCommand(program, op, reserved);
    else group(program, words.slice(0, 1));
  }
  registerSessionCommands(program);
}
