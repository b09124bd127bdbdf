// One closed set of error codes, one code → status map, one envelope (DESIGN §4).
import { z } from 'zod';

export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  out_of_credits: 402,
  quota_exceeded: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  paused: 409,
  idempotency_in_progress: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  unprocessable: 422,
  idempotency_mismatch: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;
  constructor(code: ErrorCode, message: string, details?: unknown, headers?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const ErrorEnvelope = z
  .object({
    error: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    request_id: z.string(),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof ErrorEnvelope>;

export const invalid = (message: string, details?: unknown) => new AppError('invalid_request', message, details);
export const unauthorized = (message = 'Missing or invalid credentials. Send `Authorization: Bearer <api key or session token>`.') =>
  new AppError('unauthorized', message);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const notFound = (what: string) => new AppError('not_found', `${what} not found.`);
export const conflict = (message: string, details?: unknown) => new AppError('conflict', message, details);
export const unprocessable = (message: string, details?: unknown) => new AppError('unprocessable', message, details);
