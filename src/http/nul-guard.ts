// PostgreSQL's text and jsonb cannot hold U+0000: a string carrying one would reach the database and fail there as a
// 500. Checked once, in front of every operation's schema (body, query and path alike), so no operation can forget.
import type { FastifySchemaCompiler } from 'fastify';
import { AppError } from '../core/errors.ts';

/** The path (`a.b.0`) of the first string or object key holding U+0000, walking iteratively (deep input is fine). */
export function findNul(data: unknown): string | undefined {
  const stack: [unknown, string][] = [[data, '']];
  while (stack.length) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const at = path ? `${path}.${k}` : k;
        if (k.includes('\u0000')) return at;
        stack.push([v, at]);
      }
    }
  }
  return undefined;
}

/** Wraps a validator compiler: input with U+0000 anywhere is a 400 naming the field, before the schema runs. */
export function refusingNul<S>(compile: FastifySchemaCompiler<S>): FastifySchemaCompiler<S> {
  return (route) => {
    const validate = compile(route);
    const location = route.httpPart ?? 'body';
    return (data: unknown) => {
      const field = findNul(data);
      if (field === undefined) return validate(data);
      const name = field || '(body)';
      const message = 'must not contain the NUL character (U+0000)';
      return { error: new AppError('invalid_request', `Invalid ${location}: ${name}: ${message}`, [{ field: name, location, message }]) };
    };
  };
}
