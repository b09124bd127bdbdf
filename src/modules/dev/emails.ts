// The org's outgoing mail and its delivery status (`GET /dev/emails`), newest first. Without an SMTP server this is
// how a self-hoster completes an invite or a password reset: the message, link included, is here. Instance admins
// also see instance-level mail (password resets, which belong to a user rather than an org).
import { eq, isNull, or } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { type EmailStatus, emailOutbox } from '../../db/schema/users.ts';

export function presentEmail(r: typeof emailOutbox.$inferSelect) {
  return {
    id: r.id,
    scope: r.orgId ? ('org' as const) : ('instance' as const),
    to: r.to,
    subject: r.subject,
    text: r.text,
    status: r.status,
    attempts: r.attempts,
    last_error: r.lastError,
    last_attempt_at: iso(r.lastAttemptAt),
    message_id: r.messageId,
    sent_at: iso(r.sentAt),
    created_at: r.createdAt.toISOString(),
  };
}

export async function listEmails(ctx: Ctx, input: PageInput & { status?: EmailStatus; to?: string }) {
  const orgId = requireOrg(ctx);
  const visible = ctx.isInstanceAdmin ? or(eq(emailOutbox.orgId, orgId), isNull(emailOutbox.orgId)) : eq(emailOutbox.orgId, orgId);
  return listNewestFirst(
    ctx.db,
    emailOutbox,
    input,
    [visible, input.status ? eq(emailOutbox.status, input.status) : undefined, input.to ? eq(emailOutbox.to, input.to) : undefined],
    presentEmail,
  );
}

