// The email outbox: mail is written to a table in the caller's transaction, never sent from inside a request. With
// OPSBASE_SMTP_URL set, the same transaction enqueues the message's `mail.send` job (jobs.ts), which a worker runs
// once it commits; without it the message is `unsent`, readable by an org admin (`GET /dev/emails`).
import type { Ctx } from '../../core/context.ts';
import { newId } from '../../core/ids.ts';
import { emailOutbox } from '../../db/schema/users.ts';
import { enqueueJob } from '../../jobs/enqueue.ts';
import { sendMailJob } from './jobs.ts';
import { mailDomain } from './mail.ts';

export async function queueEmail(ctx: Ctx, mail: { to: string; subject: string; text: string }): Promise<string> {
  const id = newId('email');
  const { config } = ctx.services;
  const messageId = `<${id}@${mailDomain(config.OPSBASE_MAIL_FROM)}>`;
  const smtp = Boolean(config.OPSBASE_SMTP_URL);
  // Without SMTP nothing will ever send it: say so in its status rather than leave it looking queued.
  const status = smtp ? 'queued' : 'unsent';
  await ctx.db.insert(emailOutbox).values({ id, orgId: ctx.orgId, to: mail.to, subject: mail.subject, text: mail.text, messageId, status });
  if (smtp) await enqueueJob(ctx.db, sendMailJob, { id }, { idempotencyKey: id });
  return id;
}
