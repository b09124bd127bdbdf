import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** `unsent`: written while no SMTP server was configured; it stays readable in `dev.emails` and is never sent. */
export const EMAIL_STATUSES = ['queued', 'sending', 'sent', 'failed', 'unsent'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    name: text('name'),
    passwordHash: text('password_hash').notNull(),
    // `admin` = instance admin (the first user); everyone else is `user`.
    role: text('role', { enum: ['admin', 'user'] })
      .notNull()
      .default('user'),
    termsAcceptedAt: ts('terms_accepted_at').notNull(),
    privacyAcceptedAt: ts('privacy_accepted_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key').on(sql`lower(${t.email})`), uniqueIndex('users_username_key').on(sql`lower(${t.username})`)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    refreshHash: text('refresh_hash').notNull().unique(),
    expiresAt: ts('expires_at').notNull(),
    refreshExpiresAt: ts('refresh_expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const passwordResets = pgTable('password_resets', {
  id: text('id').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/**
 * Outgoing mail (invites, password resets), written in the caller's transaction. With OPSBASE_SMTP_URL the worker's
 * `mail.send` job delivers each message once (queued → sending → sent, or back to queued with `last_error` and a
 * retry, then failed); without it messages stay queued and readable (`GET /dev/emails`).
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: text('id').primaryKey(),
    /** Null for instance-level mail (password resets): instance admins see those. */
    orgId: text('org_id'),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    status: text('status', { enum: EMAIL_STATUSES }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    lastAttemptAt: ts('last_attempt_at'),
    /** The Message-ID header, fixed when the row is written: a resend after a crash is recognisably the same mail. */
    messageId: text('message_id'),
    sentAt: ts('sent_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('email_outbox_status_idx').on(t.status, t.id), index('email_outbox_org_idx').on(t.orgId, t.id)],
);
