// Register, log in (throttled per email and per IP), refresh, log out, password reset through the email outbox.
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { dummyPasswordHash, hashPassword, newSecret, sha256, verifyPassword } from '../../core/crypto.ts';
import { AppError, unauthorized, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { passwordResets, users } from '../../db/schema/users.ts';
import { recordActivity } from '../activity/record.ts';
import { queueEmail } from '../notifications/outbox.ts';
import { createUser, findUser, findUserByEmail, membershipsOf, type NewUser, presentUser } from '../users/service.ts';
import { openSession, refreshSession, revokeSessions } from './sessions.ts';

const LOGIN_WINDOW_MS = 15 * 60_000;
/** Attempts per window; a successful login is given back, so in effect these count failures. */
const LOGIN_ATTEMPTS_PER_EMAIL = 10;
const LOGIN_ATTEMPTS_PER_IP = 50;
const RESET_MS = 60 * 60_000;
/** Wrong current passwords per user and window when changing it: a stolen session must not be a password oracle. */
const PASSWORD_CHECKS_PER_USER = 10;

export async function register(ctx: Ctx, input: NewUser) {
  const user = await createUser(ctx, input);
  const tokens = await openSession(ctx, user.id);
  return { user: presentUser(user), ...tokens };
}

function throttled(seconds: number, what = 'failed logins'): AppError {
  return new AppError('rate_limited', `Too many ${what}. Retry in ${seconds} s, or reset the password.`, undefined, {
    'retry-after': String(seconds),
  });
}

export async function login(ctx: Ctx, input: { email: string; password: string }) {
  // Each attempt is counted before the password is checked, atomically in the shared store: parallel guesses each
  // get their own count, and the limit holds across instances. A success gives its attempt back.
  const limiter = ctx.services.rateLimiter;
  const attempts = [];
  for (const [bucket, limit] of [
    [`login:email:${input.email.toLowerCase()}`, LOGIN_ATTEMPTS_PER_EMAIL],
    [`login:ip:${ctx.ip}`, LOGIN_ATTEMPTS_PER_IP],
  ] as const) {
    const v = await limiter.hitShared(bucket, limit, LOGIN_WINDOW_MS);
    if (!v.allowed) throw throttled(v.resetSeconds);
    attempts.push(v);
  }
  const user = await findUserByEmail(ctx, input.email);
  // Unknown email and wrong password cost the same time and read the same.
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !ok) throw unauthorized('Invalid email or password.');
  await Promise.all(attempts.map((a) => a.refund()));
  const tokens = await ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx, actorType: 'user' as const, actorId: user.id };
    const opened = await openSession(txCtx, user.id);
    await recordActivity(txCtx, { action: 'session.created', entityType: 'session', entityId: opened.session_id, orgId: null });
    return opened;
  });
  return { user: presentUser(user), ...tokens };
}

export async function refresh(ctx: Ctx, refreshToken: string) {
  const tokens = await refreshSession(ctx, refreshToken);
  if (!tokens) throw unauthorized('The refresh token is unknown, already used, expired or revoked. Log in again.');
  const { userId, ...rest } = tokens;
  await recordActivity(
    { ...ctx, actorType: 'user', actorId: userId },
    { action: 'session.refreshed', entityType: 'session', entityId: tokens.session_id, orgId: null },
  );
  return { user: presentUser(await findUser(ctx, userId)), ...rest };
}

export async function logout(ctx: Ctx, allDevices: boolean) {
  const revoked = allDevices ? await revokeSessions(ctx, { userId: ctx.userId! }) : await revokeSessions(ctx, { sessionId: ctx.sessionId! });
  await recordActivity(ctx, {
    action: allDevices ? 'session.revoked_all' : 'session.revoked',
    entityType: 'session',
    entityId: ctx.sessionId,
    orgId: null,
  });
  return { ok: true as const, revoked_sessions: revoked };
}

/** A new password, confirmed with the current one; every other session of the user ends, this one stays. */
export async function changePassword(ctx: Ctx, input: { current_password: string; new_password: string }) {
  const attempt = await ctx.services.rateLimiter.hitShared(`password:user:${ctx.userId}`, PASSWORD_CHECKS_PER_USER, LOGIN_WINDOW_MS);
  if (!attempt.allowed) throw throttled(attempt.resetSeconds, 'wrong passwords');
  const user = await findUser(ctx, ctx.userId!);
  // 403, not 401: the session is valid; a 401 would make clients think the login expired.
  if (!(await verifyPassword(input.current_password, user.passwordHash))) {
    throw new AppError('forbidden', 'The current password is wrong.', [{ field: 'current_password', location: 'body', message: 'wrong password' }]);
  }
  await attempt.refund();
  if (input.new_password === input.current_password) {
    throw unprocessable('The new password is the current one.', [{ field: 'new_password', location: 'body', message: 'must differ from the current password' }]);
  }
  await ctx.db.update(users).set({ passwordHash: await hashPassword(input.new_password), updatedAt: new Date() }).where(eq(users.id, user.id));
  const revoked = await revokeSessions(ctx, { userId: user.id, except: ctx.sessionId ?? undefined });
  await recordActivity(ctx, { action: 'user.password_changed', entityType: 'user', entityId: user.id, orgId: null, metadata: { revoked_sessions: revoked } });
  return { ok: true as const, message: 'Password changed. Your other sessions were logged out.', revoked_sessions: revoked };
}

export async function me(ctx: Ctx) {
  const user = await findUser(ctx, ctx.userId!);
  const orgList = await membershipsOf(ctx, user.id);
  return { ...presentUser(user), orgs: orgList };
}

export async function forgotPassword(ctx: Ctx, email: string) {
  const user = await findUserByEmail(ctx, email);
  if (user) {
    const token = newSecret('obp_');
    await ctx.db
      .insert(passwordResets)
      .values({ id: newId('session'), userId: user.id, tokenHash: sha256(token), expiresAt: new Date(Date.now() + RESET_MS) });
    const base = ctx.services.config.OPSBASE_PUBLIC_URL ?? `http://localhost:${ctx.services.config.PORT}`;
    await queueEmail(ctx, {
      to: user.email,
      subject: 'Reset your Opsbase password',
      text:
        `Someone asked to reset the password of your Opsbase account.\n\n` +
        `Reset it here (valid for 1 hour): ${base}/reset-password?token=${token}\n\n` +
        `Or run: opsbase auth reset-password --token ${token} --password <new password>\n\n` +
        `If it was not you, ignore this email.`,
    });
    await recordActivity(
      { ...ctx, actorType: 'user', actorId: user.id },
      { action: 'user.password_reset_requested', entityType: 'user', entityId: user.id, orgId: null },
    );
  }
  // The same answer whether or not the account exists: the endpoint must not reveal who has an account.
  return { ok: true as const, message: 'If an account exists for this email, a reset link has been sent.' };
}

export async function resetPassword(ctx: Ctx, input: { token: string; password: string }) {
  const [reset] = await ctx.db
    .select()
    .from(passwordResets)
    .where(and(eq(passwordResets.tokenHash, sha256(input.token)), isNull(passwordResets.usedAt), gt(passwordResets.expiresAt, new Date())))
    .for('update');
  if (!reset) throw unprocessable('This reset link is invalid, used or expired. Ask for a new one with `opsbase auth forgot-password`.');
  await ctx.db.update(passwordResets).set({ usedAt: new Date() }).where(eq(passwordResets.id, reset.id));
  await ctx.db
    .update(users)
    .set({ passwordHash: await hashPassword(input.password), updatedAt: new Date() })
    .where(eq(users.id, reset.userId));
  // A new password ends every existing session.
  await revokeSessions(ctx, { userId: reset.userId });
  await recordActivity(
    { ...ctx, actorType: 'user', actorId: reset.userId },
    { action: 'user.password_reset', entityType: 'user', entityId: reset.userId, orgId: null },
  );
  return { ok: true as const, message: 'Password changed. Every session was logged out; log in with the new password.' };
}
