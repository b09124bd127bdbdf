// Asking the person at the terminal (a question, a password without echo) and reading a secret from stdin, so a
// password never has to sit on the command line, where other users see it in `ps` and shells keep it in history.
// readline and stream load only when something is asked (getBuiltinModule: see src/cli/contract.ts).
import type { Command } from 'commander';

/** Asks on stderr (stdout stays the command's output); `hidden` echoes nothing while the answer is typed. */
export async function ask(question: string, hidden = false): Promise<string> {
  const { createInterface } = process.getBuiltinModule('node:readline/promises');
  const { Writable } = process.getBuiltinModule('node:stream');
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

/** All of stdin, less one trailing newline (as `docker login --password-stdin` reads it). */
export async function readStdin(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

export interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

/** A password refused before anything is sent: a usage error. */
class PasswordMissing extends Error {}

/** `--password-stdin`, else `--password` (kept for old scripts), else a hidden prompt on a terminal. */
async function readPassword(opts: PasswordOptions, prompt = 'Password: '): Promise<string> {
  if (opts.passwordStdin && opts.password) throw new PasswordMissing('use either --password-stdin or --password, not both.');
  if (opts.passwordStdin) {
    const password = await readStdin();
    if (!password) throw new PasswordMissing('--password-stdin read an empty password: pipe it in, e.g. `… --password-stdin < file`.');
    return password;
  }
  if (opts.password) return opts.password;
  if (!process.stdin.isTTY) {
    throw new PasswordMissing(
      'no password: pipe it in with --password-stdin (e.g. `printf %s "$PW" | opsbase … --password-stdin`), or run on a terminal to be asked.',
    );
  }
  return ask(prompt, true);
}

/** readPassword for `command`, a missing password being its usage error (exit 2, saying how to give one). */
export async function passwordFor(command: Command, opts: PasswordOptions, prompt?: string): Promise<string> {
  try {
    return await readPassword(opts, prompt);
  } catch (err) {
    if (err instanceof PasswordMissing) command.error(`error: ${err.message}`, { exitCode: 2 });
    throw err;
  }
}
