// pino with every place a secret could sit redacted (DESIGN §5: nothing secret is ever logged). On a terminal the
// lines are short and readable (`12:00:01.234 INFO  opsbase is running url=…`); otherwise — or with
// LOG_FORMAT=json — one JSON object per line, for log collectors. The pretty form is a few lines here rather than
// pino-pretty: it is all a person at a terminal needs, and one dependency fewer.
import pino, { type Logger } from 'pino';
import pc from 'picocolors';
import { config } from '../config.ts';

export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.new_password',
  '*.token',
  '*.refresh_token',
  '*.secret',
  '*.key',
  'password',
  'token',
  'secret',
];

const LEVELS: Record<number, string> = {
  10: pc.gray('TRACE'),
  20: pc.gray('DEBUG'),
  30: pc.green('INFO '),
  40: pc.yellow('WARN '),
  50: pc.red('ERROR'),
  60: pc.bgRed('FATAL'),
};

const value = (v: unknown) => (typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v));

/** One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value …`, an error's stack on the lines below. */
export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { level, time, msg, service: _service, err, ...fields } = entry;
  const clock = new Date(Number(time)).toISOString().slice(11, 23);
  const rest = Object.entries(fields).map(([k, v]) => `${pc.dim(`${k}=`)}${value(v)}`);
  const error = err as { message?: string; stack?: string } | undefined;
  const stack = error?.stack ? `\n${pc.dim(error.stack)}` : error?.message ? ` ${pc.dim('err=')}${error.message}` : '';
  return `${pc.dim(clock)} ${LEVELS[Number(level)] ?? level} ${msg ?? ''}${rest.length ? ` ${rest.join(' ')}` : ''}${stack}\n`;
}

/** A pino destination that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream = process.stdout): pino.DestinationStream {
  return { write: (line: string) => void out.write(prettyLine(line)) };
}

/** LOG_FORMAT, else pretty exactly when stdout is a terminal. */
export function wantsPretty(): boolean {
  const format = config().LOG_FORMAT;
  return format ? format === 'pretty' : !!process.stdout.isTTY;
}

/** Logs to `stream` as JSON when one is given; to stdout otherwise, pretty or JSON as `wantsPretty` says. */
export function createLogger(level: string, stream?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'opsbase' } };
  return pino(options, stream ?? (wantsPretty() ? prettyStream() : undefined));
}
