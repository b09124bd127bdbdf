// The binary faces of an operation, generic: a download (`download: true`: the handler returns a `Download`, sent as
// raw bytes with Content-Disposition instead of JSON) and an upload (`upload: true`: the request body is the file's
// bytes, `application/octet-stream` or `application/gzip`, handed to the handler as `ctx.request.rawBody`).
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

export interface Download {
  body: Readable | Buffer;
  /** The name the client saves it as. */
  fileName: string;
  contentType: string;
  /** Bytes, when known (Content-Length). */
  size?: number;
}

/** The output schema of a download operation (OpenAPI shows it as a binary string). */
export const FileBytes = z.any().meta({ id: 'FileBytes', type: 'string', format: 'binary', description: 'The file itself (raw bytes, not JSON)' });

export const UPLOAD_CONTENT_TYPES = ['application/octet-stream', 'application/gzip'];

export function sendDownload(reply: FastifyReply, status: number, d: Download) {
  const ascii = d.fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  reply.header('content-type', d.contentType);
  reply.header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(d.fileName)}`);
  reply.header('cache-control', 'no-store');
  if (d.size !== undefined) reply.header('content-length', String(d.size));
  return reply.code(status).send(d.body);
}
