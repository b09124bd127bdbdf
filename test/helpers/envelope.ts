// The error envelope (DESIGN §4), checked the same way everywhere: `{ error, message, request_id, details? }`.
import assert from 'node:assert/strict';
import type { Response } from './harness.ts';

/** Asserts `res` is an error response with this status and code, in the one envelope, with the request id echoed. */
export function assertEnvelope(res: Response, status: number, code: string, what = ''): void {
  const label = `${what ? `${what}: ` : ''}${res.status} ${JSON.stringify(res.body)}`;
  assert.equal(res.status, status, `expected ${status} — ${label}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `JSON content type — ${label}`);
  assert.ok(res.body && typeof res.body === 'object' && !Array.isArray(res.body), `an object body — ${label}`);
  assert.equal(res.body.error, code, `error code — ${label}`);
  assert.equal(typeof res.body.message, 'string', `message — ${label}`);
  assert.ok(res.body.message.length > 0, `non-empty message — ${label}`);
  assert.equal(typeof res.body.request_id, 'string', `request_id — ${label}`);
  assert.ok(res.body.request_id.length > 0, `non-empty request_id — ${label}`);
  assert.equal(res.body.request_id, res.headers.get('x-request-id'), `request_id matches X-Request-Id — ${label}`);
  const extra = Object.keys(res.body).filter((k) => !['error', 'message', 'request_id', 'details'].includes(k));
  assert.deepEqual(extra, [], `no fields outside the envelope — ${label}`);
  if (status >= 500) assert.doesNotMatch(res.body.message, /at .*\.ts:\d+|SELECT |INSERT |ECONN|postgres/i, `5xx must not leak internals — ${label}`);
}
