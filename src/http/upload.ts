// The two bodies an `upload` operation takes (core/operation.ts): the file itself, or JSON with the bytes in base64.
// Both end as the same Buffer in `ctx.upload`, so a handler never knows which one came.
import { createHash } from 'node:crypto';
import type { UploadSpec } from '../core/operation.ts';
import { AppError } from '../core/errors.ts';

/** The raw face's content types: any bytes, and a gzip archive (orgs.export's) as what it is. */
export const UPLOAD_CONTENT_TYPES = ['application/octet-stream', 'application/gzip'];

/**
 * The JSON face's body limit: the file in base64 (4/3 of its bytes) plus room for the other fields, but never more
 * than 256 MiB — a larger file goes raw, where it is never a JavaScript string.
 */
export const jsonUploadLimit = (limit: number) => Math.min(Math.ceil((limit * 4) / 3) + 64 * 1024, 256 * 1024 * 1024);

/** SHA-256 (hex) of a raw upload, for its Idempotency-Key's request hash. */
export const fileDigest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const problem = (field: string, message: string) => [{ field, location: 'body', message }];

/**
 * The bytes of a JSON upload, from `spec.field`. Strict base64 (standard or URL-safe, padding optional): a typo must
 * be a 400, not a silently different file. The words avoid "required": the field is one of two ways to send a file.
 */
export function decodeUploadField(spec: UploadSpec, value: unknown, max: number): Buffer {
  const { field } = spec;
  if (typeof value !== 'string' || value === '') {
    throw new AppError('invalid_request', `No file: send its bytes base64-encoded in \`${field}\`, or the file itself as the body (Content-Type: application/octet-stream).`, problem(field, 'the file in base64'));
  }
  const clean = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw new AppError('invalid_request', `\`${field}\` is not valid base64.`, problem(field, 'not valid base64'));
  }
  const tooLarge = () => new AppError('unprocessable', `The file is larger than this server accepts (${max} bytes).`, problem(field, `at most ${max} bytes`));
  if (Math.floor((clean.length * 3) / 4) > max + 3) throw tooLarge();
  const bytes = Buffer.from(clean, clean.includes('-') || clean.includes('_') ? 'base64url' : 'base64');
  if (bytes.length > max) throw tooLarge();
  return bytes;
}
