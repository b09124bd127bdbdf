// What every command action shares: the program-wide options, printing a response with the right exit code, and
// turning the CLI's own failures into exit codes (0 ok, 1 API error, 2 usage, 3 auth, 4 payment, 5 network).
import type { Command, CommanderError } from 'commander';
import { type ApiResult, exitCodeFor, type GlobalOptions, NetworkError, type Target } from './client.ts';
import { printApiError, printHuman, printJson, printLocalError } from './render.ts';

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Prints a response the way the flags ask and sets the exit code. */
export function report(res: ApiResult, globals: GlobalOptions, columns: string[] | undefined, target?: Target) {
  if (res.status < 400) {
    if (globals.json) printJson(res.text);
    else printHuman(res.body, columns);
    return;
  }
  printApiError(res, globals.json, res.status === 401 ? target?.authHint : undefined);
  process.exitCode = exitCodeFor(res.status);
}

/** Failures of the CLI itself: 5 when the server cannot be reached, 1 for anything else (e.g. a corrupt config). */
export async function guard(globals: GlobalOptions, fn: () => Promise<void>) {
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

/** Commander exits 1 on its own usage errors; the contract says 2. */
export function usageExit(err: CommanderError): never {
  process.exit(err.exitCode === 0 || err.code === 'commander.error' ? err.exitCode : 2);
}

export function applyUsageExit(cmd: Command) {
  cmd.exitOverride(usageExit);
  for (const sub of cmd.commands) applyUsageExit(sub);
}
