// Sessions: an access token (`obs_…`, 12 h) and a refresh token (`obr_…`, 30 days), both stored as SHA-256.
// Refreshing replaces both, so a stolen refresh token works at most once.
import { and, eq, isNull, ne } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { newSecret, sha256 } from '../../core/crypto.ts';
import { newId } from '../../core/ids.ts';
import { sessions } from '../../db/schema/users.ts';
import { SESSION_PREFIX } from '../../http/auth.ts';

export const REFRESH_PREFIX = 'obr_';
const ACCESS_MS = 12 * 3_600_000;
const REFRESH_MS = 30 * 86_400_000;

export interface Tokens {
  token: string;
  refresh_token: string;
  expires_at: string;
  refresh_expires_at: string;
  session_id: string;
}

function freshTokens() {
  const token = newSecret(SESSION_PREFIX);
  const refresh = newSecret(REFRESH_PREFIX);
  const expiresAt = new Date(Date.now() + ACCESS_MS);
  const refreshExpiresAt = new Date(Date.now() + REFRESH_MS);
  return { token, refresh, expiresAt, refreshExpiresAt };
}

export async function openSession(ctx: Ctx, userId: string): Promise<Tokens> {
  const t = freshTokens();
  const id = newId('session');
  await ctx.db.insert(sessions).values({
    id,
    userId,
    tokenHash: sha256(t.token),
    refreshHash: sha256(t.refresh),
    expiresAt: t.expiresAt,
    refreshExpiresAt: t.refreshExpiresAt,
    ip: ctx.ip,
    userAgent: ctx.userAgent?.slice(0, 300) ?? null,
  });
  return {
    token: t.token,
    refresh_token: t.refresh,
    expires_at: t.expiresAt.toISOString(),
    refresh_expires_at: t.refreshExpiresAt.toISOString(),
    session_id: id,
  };
}

/** Swaps a live refresh token for new tokens on the same session; null when it is unknown, used or expired. */
export async function refreshSession(ctx: Ctx, refreshToken: string): Promise<(Tokens & { userId: string }) | null> {
  const [row] = await ctx.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.refreshHash, sha256(refreshToken)), isNull(sessions.revokedAt)))
    .for('update');
  if (!row || row.refreshExpiresAt <= new Date()) return null;
  const t = freshTokens();
  await ctx.db
    .update(sessions)
    .set({ tokenHash: sha256(t.token), refreshHash: sha256(t.refresh), expiresAt: t.expiresAt, refreshExpiresAt: t.refreshExpiresAt })
    .where(eq(sessions.id, row.id));
  await ctx.services.authCache.invalidate(ctx.db, `session:${row.id}`);
  return {
    token: t.token,
    refresh_token: t.refresh,
    expires_at: t.expiresAt.toISOString(),
    refresh_expires_at: t.refreshExpiresAt.toISOString(),
    session_id: row.id,
    userId: row.userId,
  };
}

/** Revokes one session, or every session of a user but `except` (the caller's own, when it stays signed in). */
export async function revokeSessions(ctx: Ctx, where: { sessionId?: string; userId?: string; except?: string }): Promise<number> {
  const cond = where.sessionId ? eq(sessions.id, where.sessionId) : eq(sessions.userId, where.userId!);
  const rows = await ctx.db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(cond, isNull(sessions.revokedAt), where.except ? ne(sessions.id, where.except) : undefined))
    .returning({ id: sessions.id });
  await ctx.services.authCache.invalidate(ctx.db, `sessions:${where.sessionId ?? where.userId}`);
  return rows.length;
}
