// Output of the process commands (init, doctor): `--json` prints JSON only; errors go to stderr with a code.
import pc from 'picocolors';
import { ZodError } from 'zod';
import { AppError } from '../core/errors.ts';

export function printInitResult(
  result: { user: { id: string; email: string }; org: { id: string; name: string }; key: { id: string; secret: string } },
  json: boolean,
) {
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    [
      `${pc.green('✓')} instance admin ${result.user.email} (${result.user.id})`,
      `${pc.green('✓')} org ${result.org.name} (${result.org.id})`,
      `${pc.green('✓')} API key ${result.key.id} — shown once, store it now:`,
      '',
      `  export OPSBASE_API_KEY=${result.key.secret}`,
      '',
    ].join('\n'),
  );
}

/** Prints an error and returns the exit code: 2 usage, 1 otherwise. */
export function printFailure(err: unknown, json: boolean): number {
  if (err instanceof ZodError) {
    const message = err.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    process.stderr.write(json ? `${JSON.stringify({ error: 'invalid_request', message })}\n` : `error invalid_request: ${message}\n`);
    return 2;
  }
  const code = err instanceof AppError ? err.code : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(json ? `${JSON.stringify({ error: code, message })}\n` : `error ${code}: ${message}\n`);
  return 1;
}
