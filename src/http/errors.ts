// Every failure, ours or the framework's, leaves as the one error envelope (DESIGN §4); 5xx never leak.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { newId } from '../core/ids.ts';
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
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('invalid_request', 'A path parameter is longer than any id (100 characters at most).');
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid_request', 'The URL is malformed (bad percent-encoding).');
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
  // Router refusals are answered before the onRequest hook that sets it.
  reply.header('x-request-id', req.id);
  return reply
    .code(appErr.status)
    .type('application/json; charset=utf-8')
    .send({ error: appErr.code, message: appErr.message, request_id: req.id, ...(appErr.details === undefined ? {} : { details: appErr.details }) });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a URL or headers over 16 KB, a malformed request
 * line) still get the one envelope, with a request id of their own.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const requestId = newId('request');
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The URL or headers are larger than the server accepts (16 KB): send large values in a JSON body.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'invalid_request', 'The request was not received in time.']
        : [400, 'invalid_request', 'Malformed HTTP request.'];
  const body = JSON.stringify({ error: code, message, request_id: requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
