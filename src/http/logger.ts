// pino with every place a secret could sit redacted (DESIGN §5: nothing secret is ever logged).
import pino, { type Logger } from 'pino';

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

export function createLogger(level: string, stream?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'opsbase' } }, stream);
}
