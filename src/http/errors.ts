// Every failure, ours or the framework's, leaves as the one error envelope (DESIGN §4); 5xx never leak.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, ERROR_STATUS, type ErrorCode } from '../core/errors.ts';

const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300']);
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

function fromFramework(err: FastifyError): AppError | undefined {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const details = err.validation.map((v) => {
      const where = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const field = where || String((v.params as { issue?: { path?: unknown[] } })?.issue?.path?.join('.') ?? '');
      return { field: field || '(body)', location: err.validationContext ?? 'body', message: v.message ?? 'invalid' };
    });
    const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
    return new AppError('invalid_request', `Invalid ${err.validationContext ?? 'request'}: ${summary}`, details);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_request', `Malformed JSON body: ${err.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is larger than the server accepts (1 MiB by default).');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Unsupported Content-Type: send JSON with `Content-Type: application/json`.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'The Content-Length header does not match the body.');
  }
  if (err instanceof SyntaxError) return new AppError('invalid_request', `Malformed JSON body: ${err.message}`);
  const status = err.statusCode;
  if (status && status >= 400 && status < 500) {
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((c) => ERROR_STATUS[c] === status) ?? 'invalid_request';
    return new AppError(code, err.message);
  }
  return undefined;
}

function fromDatabase(err: { code?: string; constraint?: string; severity?: string }): AppError | undefined {
  if (!err.code) return undefined;
  // FATAL ends the connection: the server refused it (database not accepting connections, shutting down, …).
  if (err.severity === 'FATAL' || err.severity === 'PANIC') {
    return new AppError('unavailable', 'The database is unavailable. Retry shortly; check /api/ready.');
  }
  if (err.code === '23505') return new AppError('conflict', 'This conflicts with an existing record.', { constraint: err.constraint });
  if (err.code === '22P02' || err.code === '22003' || err.code === '22007') return new AppError('invalid_request', 'A value has the wrong format.');
  if (PG_UNAVAILABLE.has(err.code) || NET_UNAVAILABLE.has(err.code)) {
    return new AppError('unavailable', 'The database is unavailable. Retry shortly; check /api/ready.');
  }
  return undefined;
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { code?: string };
  const mapped = fromFramework(e) ?? fromDatabase(e);
  if (mapped) return mapped;
  if (e?.message?.includes('timeout exceeded when trying to connect') || e?.message?.includes('Connection terminated')) {
    return new AppError('unavailable', 'The database is unavailable. Retry shortly; check /api/ready.');
  }
  return new AppError('internal', 'Something went wrong on our side. Quote the request id when you report it.');
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown) {
  const appErr = toAppError(err);
  if (appErr.status >= 500) req.log.error({ err, request_id: req.id }, 'request failed');
  if (appErr.headers) reply.headers(appErr.headers);
  return reply
    .code(appErr.status)
    .type('application/json; charset=utf-8')
    .send({ error: appErr.code, message: appErr.message, request_id: req.id, ...(appErr.details === undefined ? {} : { details: appErr.details }) });
}
