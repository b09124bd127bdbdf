// `Idempotency-Key` on POST (DESIGN §4): the first response is stored for 24 h and replayed for the same key and
// body; another body → 422 idempotency_mismatch; while the first still runs → 409 idempotency_in_progress.
// A successful response is recorded inside the operation's own transaction, so a crash can never leave a write
// committed without its record (or the reverse). Stored responses can hold secrets (a new key, a session token),
// so they are kept encrypted under the master key.
import { and, eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import { AppError, invalid } from '../core/errors.ts';
import { decrypt, encrypt, sha256 } from '../core/crypto.ts';
import type { DbOrTx } from '../db/client.ts';
import { idempotencyKeys } from '../db/schema/platform.ts';

/** How long a crashed first attempt blocks retries before a retry may take over. */
const LOCK_SECONDS = 60;

export interface IdempotencyClaim {
  scope: string;
  key: string;
}

export type ClaimResult = { kind: 'claimed'; claim: IdempotencyClaim } | { kind: 'replay'; status: number; body: unknown };

export function requestHash(method: string, url: string, body: unknown): string {
  return sha256(`${method} ${url.split('?')[0]} ${JSON.stringify(body ?? null)}`);
}

export async function claim(pool: pg.Pool, masterKey: Buffer, scope: string, key: string, hash: string): Promise<ClaimResult> {
  if (key.length < 1 || key.length > 255) throw invalid('Idempotency-Key must be 1–255 characters.');
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await pool.query(
      `insert into idempotency_keys (scope, key, request_hash, status, locked_until, expires_at)
       values ($1, $2, $3, 'in_progress', now() + make_interval(secs => $4), now() + interval '24 hours')
       on conflict (scope, key) do nothing`,
      [scope, key, hash, LOCK_SECONDS],
    );
    if (inserted.rowCount === 1) return { kind: 'claimed', claim: { scope, key } };

    const { rows } = await pool.query(
      `select request_hash, status, response_status, response_body, locked_until < now() as lock_expired, expires_at < now() as expired
         from idempotency_keys where scope = $1 and key = $2`,
      [scope, key],
    );
    const row = rows[0];
    if (!row) continue; // deleted in between: try to insert again
    if (row.expired) {
      await pool.query('delete from idempotency_keys where scope = $1 and key = $2 and expires_at < now()', [scope, key]);
      continue;
    }
    if (row.request_hash !== hash) {
      throw new AppError(
        'idempotency_mismatch',
        'This Idempotency-Key was already used with a different request body. Use a new key for a new request.',
      );
    }
    if (row.status === 'done') {
      const body = typeof row.response_body === 'string' ? JSON.parse(decrypt(row.response_body, masterKey)) : row.response_body;
      return { kind: 'replay', status: row.response_status, body };
    }
    if (!row.lock_expired) {
      throw new AppError('idempotency_in_progress', 'A request with this Idempotency-Key is still being processed. Retry shortly.');
    }
    // The first attempt died without an answer: take it over.
    const taken = await pool.query(
      `update idempotency_keys set locked_until = now() + make_interval(secs => $3)
        where scope = $1 and key = $2 and status = 'in_progress' and locked_until < now()`,
      [scope, key, LOCK_SECONDS],
    );
    if (taken.rowCount === 1) return { kind: 'claimed', claim: { scope, key } };
  }
  throw new AppError('idempotency_in_progress', 'A request with this Idempotency-Key is still being processed. Retry shortly.');
}

export async function complete(db: DbOrTx, masterKey: Buffer, c: IdempotencyClaim, status: number, body: unknown): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ status: 'done', responseStatus: status, responseBody: sql`to_jsonb(${encrypt(JSON.stringify(body ?? null), masterKey)}::text)` })
    .where(and(eq(idempotencyKeys.scope, c.scope), eq(idempotencyKeys.key, c.key)));
}

export async function release(pool: pg.Pool, c: IdempotencyClaim): Promise<void> {
  await pool.query(`delete from idempotency_keys where scope = $1 and key = $2 and status = 'in_progress'`, [c.scope, c.key]);
}
