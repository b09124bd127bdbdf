// API keys: org-scoped, secret shown once and stored as SHA-256; rotation keeps the old secret for a grace period.
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { newSecret, sha256 } from '../../core/crypto.ts';
import { AppError, forbidden, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { callerAllows } from '../../core/scopes.ts';
import { apiKeys, apiKeySecrets } from '../../db/schema/keys.ts';
import { KEY_PREFIX } from '../../http/auth.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { listApiRequests } from '../dev/service.ts';

type KeyRow = typeof apiKeys.$inferSelect;

function keyStatus(k: KeyRow): 'active' | 'inactive' | 'revoked' | 'expired' {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && k.expiresAt <= new Date()) return 'expired';
  return k.active ? 'active' : 'inactive';
}

export function presentKey(k: KeyRow) {
  return {
    id: k.id,
    org_id: k.orgId,
    name: k.name,
    description: k.description,
    scopes: k.scopes,
    active: k.active,
    masked: `${k.prefix}…${k.last4}`,
    prefix: k.prefix,
    last4: k.last4,
    rate_limit_per_minute: k.rateLimitPerMinute,
    status: keyStatus(k),
    expires_at: iso(k.expiresAt),
    revoked_at: iso(k.revokedAt),
    last_used_at: iso(k.lastUsedAt),
    created_by: k.createdBy,
    created_at: k.createdAt.toISOString(),
    updated_at: k.updatedAt.toISOString(),
  };
}

function assertGrantable(ctx: Ctx, scopes: string[]) {
  for (const s of scopes) {
    if (!callerAllows(ctx, s)) throw forbidden(`You cannot grant the scope \`${s}\`: a key can only receive scopes its creator holds.`);
  }
}

/** What lists show of a secret: its first 4 characters after `obk_live_`, and its last 4. */
const displayParts = (secret: string) => ({ prefix: secret.slice(0, KEY_PREFIX.length + 4), last4: secret.slice(-4) });

async function findKey(ctx: Ctx, id: string, opts: { forUpdate?: boolean } = {}): Promise<KeyRow> {
  const q = ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, requireOrg(ctx)), isNull(apiKeys.deletedAt), isNull(apiKeys.agentId)));
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('API key');
  return row;
}

/**
 * The key a mutation (update, rotate, roll, revoke, delete) acts on, locked. Key management never escalates: the
 * caller must hold every scope of the target key, or a `keys:write` key could roll the org's `*` key and take
 * its new secret.
 */
async function findKeyToChange(ctx: Ctx, id: string): Promise<KeyRow> {
  const key = await findKey(ctx, id, { forUpdate: true });
  const missing = key.scopes.filter((s) => !callerAllows(ctx, s));
  if (missing.length) {
    throw new AppError('forbidden', `You cannot change this key: it holds scopes you do not (${missing.join(', ')}).`, { missing_scopes: missing });
  }
  return key;
}

export interface CreateKeyInput {
  name: string;
  description?: string | null;
  scopes: string[];
  expires_at?: string | null;
  rate_limit_per_minute?: number | null;
}

/** Creates a key in ctx's org. Also used by `opsbase init` with a system ctx. */
export async function createKey(ctx: Ctx, input: CreateKeyInput) {
  assertGrantable(ctx, input.scopes);
  const id = newId('key');
  const secret = newSecret(KEY_PREFIX);
  const [row] = await ctx.db
    .insert(apiKeys)
    .values({
      id,
      orgId: requireOrg(ctx),
      name: input.name,
      description: input.description ?? null,
      scopes: [...new Set(input.scopes)],
      ...displayParts(secret),
      expiresAt: input.expires_at ? new Date(input.expires_at) : null,
      rateLimitPerMinute: input.rate_limit_per_minute ?? null,
      createdBy: ctx.actorId,
    })
    .returning();
  await ctx.db.insert(apiKeySecrets).values({ hash: sha256(secret), keyId: id });
  await recordActivity(ctx, { action: 'key.created', entityType: 'api_key', entityId: id, metadata: { name: input.name, scopes: input.scopes } });
  await recordEvent(ctx.db, {
    orgId: requireOrg(ctx),
    type: 'key.created',
    subject: id,
    data: { key_id: id, name: input.name, scopes: row.scopes, created_by: ctx.actorId },
  });
  return { ...presentKey(row), secret };
}

export async function listKeys(ctx: Ctx, input: PageInput) {
  // Agents' own keys are managed through agents.*, not here.
  return listNewestFirst(ctx.db, apiKeys, input, [eq(apiKeys.orgId, requireOrg(ctx)), isNull(apiKeys.deletedAt), isNull(apiKeys.agentId)], presentKey);
}

export async function getKey(ctx: Ctx, id: string) {
  return presentKey(await findKey(ctx, id));
}

export interface UpdateKeyInput {
  id: string;
  name?: string;
  description?: string | null;
  scopes?: string[];
  active?: boolean;
  rate_limit_per_minute?: number | null;
}

export async function updateKey(ctx: Ctx, input: UpdateKeyInput) {
  await findKeyToChange(ctx, input.id);
  if (input.scopes) assertGrantable(ctx, input.scopes);
  const [row] = await ctx.db
    .update(apiKeys)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.description !== undefined && { description: input.description }),
      ...(input.scopes !== undefined && { scopes: [...new Set(input.scopes)] }),
      ...(input.active !== undefined && { active: input.active }),
      ...(input.rate_limit_per_minute !== undefined && { rateLimitPerMinute: input.rate_limit_per_minute }),
      updatedAt: new Date(),
    })
    .where(eq(apiKeys.id, input.id))
    .returning();
  await ctx.services.authCache.invalidate(ctx.db, `key:${input.id}`);
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'key.updated', entityType: 'api_key', entityId: input.id, metadata: { changed } });
  return presentKey(row);
}

export async function deleteKey(ctx: Ctx, id: string) {
  await findKeyToChange(ctx, id);
  await ctx.db.update(apiKeys).set({ deletedAt: new Date(), active: false, updatedAt: new Date() }).where(eq(apiKeys.id, id));
  await ctx.services.authCache.invalidate(ctx.db, `key:${id}`);
  await recordActivity(ctx, { action: 'key.deleted', entityType: 'api_key', entityId: id });
  return { id, deleted: true as const };
}

export async function revokeKey(ctx: Ctx, id: string) {
  const key = await findKeyToChange(ctx, id);
  const [row] = key.revokedAt
    ? [key]
    : await ctx.db.update(apiKeys).set({ revokedAt: new Date(), updatedAt: new Date() }).where(eq(apiKeys.id, id)).returning();
  await ctx.services.authCache.invalidate(ctx.db, `key:${id}`);
  await recordActivity(ctx, { action: 'key.revoked', entityType: 'api_key', entityId: id });
  if (!key.revokedAt) await recordEvent(ctx.db, { orgId: requireOrg(ctx), type: 'key.revoked', subject: id, data: { key_id: id, name: key.name } });
  return presentKey(row);
}

/**
 * New secret for the key. `graceHours` > 0 (rotate) keeps the current secrets valid that much longer; 0 (roll)
 * kills them now. A secret already expiring sooner keeps its earlier end.
 */
async function replaceSecret(ctx: Ctx, id: string, graceHours: number, action: 'key.rotated' | 'key.rolled') {
  const key = await findKeyToChange(ctx, id);
  if (key.revokedAt) throw forbidden('This key is revoked; create a new key instead.');
  const end = new Date(Date.now() + graceHours * 3_600_000);
  if (graceHours > 0) {
    await ctx.db
      .update(apiKeySecrets)
      .set({ expiresAt: end })
      .where(and(eq(apiKeySecrets.keyId, id), or(isNull(apiKeySecrets.expiresAt), gt(apiKeySecrets.expiresAt, end))));
  } else {
    await ctx.db.delete(apiKeySecrets).where(eq(apiKeySecrets.keyId, id));
  }
  // Secrets whose grace has run out are dead weight.
  await ctx.db.delete(apiKeySecrets).where(and(eq(apiKeySecrets.keyId, id), lt(apiKeySecrets.expiresAt, sql`now()`)));
  const secret = newSecret(KEY_PREFIX);
  await ctx.db.insert(apiKeySecrets).values({ hash: sha256(secret), keyId: id });
  const [row] = await ctx.db
    .update(apiKeys)
    .set({ ...displayParts(secret), updatedAt: new Date() })
    .where(eq(apiKeys.id, id))
    .returning();
  await ctx.services.authCache.invalidate(ctx.db, `key:${id}`);
  await recordActivity(ctx, { action, entityType: 'api_key', entityId: id, metadata: { grace_hours: graceHours } });
  return { ...presentKey(row), secret, previous_secret_expires_at: graceHours > 0 ? end.toISOString() : null };
}

export const rotateKey = (ctx: Ctx, id: string, graceHours: number) => replaceSecret(ctx, id, graceHours, 'key.rotated');
export const rollKey = (ctx: Ctx, id: string) => replaceSecret(ctx, id, 0, 'key.rolled');

export async function keyUsage(ctx: Ctx, input: PageInput & { id: string }) {
  await findKey(ctx, input.id);
  return listApiRequests(ctx, { ...input, key_id: input.id });
}
