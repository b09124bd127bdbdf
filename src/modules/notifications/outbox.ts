// The email outbox: mail is written to a table in the caller's transaction and delivered by the worker (or read
// by an admin when no SMTP server is configured). Nothing is sent from inside a request.
import type { Ctx } from '../../core/context.ts';
import { newId } from '../../core/ids.ts';
import { emailOutbox } from '../../db/schema/users.ts';

export async function queueEmail(ctx: Ctx, mail: { to: string; subject: string; text: string }): Promise<string> {
  const id = newId('email');
  await ctx.db.insert(emailOutbox).values({ id, orgId: ctx.orgId, to: mail.to, subject: mail.subject, text: mail.text });
  return id;
}
