// Sending one outbox message over SMTP with nodemailer. The row's status is the lock: only a transition from
// queued (or from a `sending` that an attempt which died left behind) to sending takes the message, so two workers
// never both send it, and the `mail.send` job of a message is unique anyway (its idempotency key is the message id). A worker that dies after the server accepted the mail but before `sent` was written leaves `sending`;
// the retry sends it again with the same Message-ID, which mail systems recognise as the same message.
import { createTransport, type Transporter } from 'nodemailer';
import { sql } from 'drizzle-orm';
import type { AppServices } from '../../core/services.ts';
import type { DbOrTx } from '../../db/client.ts';
import { PermanentJobError } from '../../jobs/define.ts';

/** Each SMTP step gives up after this long: well inside the job's timeout and its lease. */
const SMTP_TIMEOUT_MS = 20_000;

const transports = new WeakMap<AppServices, Transporter>();

function transport(services: AppServices, url: string): Transporter {
  let t = transports.get(services);
  if (!t) {
    t = createTransport({ url, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS });
    transports.set(services, t);
  }
  return t;
}

/** The domain of the From address (for Message-IDs), e.g. `example.com` from `Ops <ops@example.com>`. */
export function mailDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'opsbase.local';
}

type OutboxRow = {
  id: string;
  to: string;
  subject: string;
  text: string;
  message_id: string | null;
  attempts: number;
};

/** An attempt that has been `sending` this long died (SMTP steps time out after 20 s; a job after 90 s). */
const STALE_SENDING = sql`interval '2 minutes'`;

/**
 * queued → sending, or a `sending` left by a dead attempt → sending; one more attempt. Undefined when the message
 * is sent or failed already; throws (the job retries later) while a live attempt is sending it.
 */
async function take(db: DbOrTx, id: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.execute<OutboxRow>(
    sql`update email_outbox set status = 'sending', attempts = attempts + 1, last_attempt_at = now(), updated_at = now()
        where id = ${id} and (status = 'queued' or (status = 'sending' and last_attempt_at < now() - ${STALE_SENDING}))
        returning id, "to", subject, text, message_id, attempts`,
  );
  if (rows[0]) return rows[0];
  const { rows: now } = await db.execute<{ status: string }>(sql`select status from email_outbox where id = ${id}`);
  if (now[0]?.status === 'sending') throw new Error('another attempt is sending this message; looking again later');
  return undefined;
}

async function settle(db: DbOrTx, id: string, status: 'sent' | 'queued' | 'failed', error: string | null) {
  await db.execute(
    sql`update email_outbox set status = ${status}, last_error = ${error}, updated_at = now(),
          sent_at = case when ${status} = 'sent' then now() else sent_at end
        where id = ${id} and status = 'sending'`,
  );
}

/**
 * Sends outbox message `id` (one attempt). A temporary failure (a 4xx answer, the server down) puts it back to
 * queued with its error and throws, so the job engine retries with backoff; the last attempt, or a permanent refusal
 * (5xx), marks it failed.
 */
export async function sendOutboxMessage(services: AppServices, id: string, lastAttempt: boolean): Promise<Record<string, unknown>> {
  const db = services.database.db;
  const url = services.config.OPSBASE_SMTP_URL;
  const row = await take(db, id);
  if (!row) return { skipped: 'the message is already sent or failed' };
  try {
    if (!url) throw new Error('OPSBASE_SMTP_URL is not set on this worker');
    const info = await transport(services, url).sendMail({
      from: services.config.OPSBASE_MAIL_FROM,
      to: row.to,
      subject: row.subject,
      text: row.text,
      messageId: row.message_id ?? undefined,
    });
    await settle(db, id, 'sent', null);
    return { message_id: info.messageId, response: String(info.response ?? '') };
  } catch (err) {
    const e = err as Error & { permanent?: boolean };
    const message = e.message.slice(0, 1000);
    const permanent = e.permanent === true;
    await settle(db, id, permanent || lastAttempt ? 'failed' : 'queued', message);
    throw permanent ? new PermanentJobError(message) : err;
  }
}
