// The credentials vault (issue 12, Orkosi /credentials). Values are sealed with AES-256-GCM under the master key and
// leave the server only through `credentials.get`: owners and admins, or a key (an agent's included) holding
// `credentials:read`. Every read writes an activity row; no value ever reaches a log line, a list, an activity
// detail or an error message (the row id and name are what errors and logs carry).
import { and, desc, eq, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { decrypt, encrypt } from '../../core/crypto.ts';
import { AppError, forbidden, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { type PageInput, paginate } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { roleAtLeast } from '../../core/scopes.ts';
import type { DbOrTx } from '../../db/client.ts';
import { credentials } from '../../db/schema/credentials.ts';
import { recordActivity } from '../activity/record.ts';

type CredentialRow = typeof credentials.$inferSelect;

export function presentCredential(c: CredentialRow) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    integration: c.integration,
    created_by: c.createdBy,
    updated_by: c.updatedBy,
    last_read_at: iso(c.lastReadAt),
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

async function findCredential(db: DbOrTx, orgId: string, name: string): Promise<CredentialRow> {
  const [row] = await db
    .select()
    .from(credentials)
    .where(and(eq(credentials.orgId, orgId), eq(credentials.name, name)));
  if (!row) throw notFound('Credential');
  return row;
}

/** Opens a sealed value; a value that does not open (another master key) is a 500 naming the row, never the value. */
export function openValue(row: Pick<CredentialRow, 'id' | 'valueEncrypted'>, masterKey: Buffer): string {
  try {
    return decrypt(row.valueEncrypted, masterKey);
  } catch {
    throw new AppError('internal', `Credential ${row.id} cannot be decrypted with this instance's master key.`);
  }
}

export async function listCredentials(ctx: Ctx, input: PageInput & { integration?: string }) {
  return paginate(
    input,
    credentials.id,
    (w) =>
      ctx.db
        .select()
        .from(credentials)
        .where(and(eq(credentials.orgId, requireOrg(ctx)), input.integration ? eq(credentials.integration, input.integration) : undefined, w.after))
        .orderBy(desc(credentials.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.id,
    presentCredential,
  );
}

/** Creates or replaces the named value (`created` says which). `integration` marks a secret field of one. */
export async function putCredential(
  ctx: Ctx,
  input: { name: string; value: string; description?: string | null },
  integration: string | null = null,
) {
  const orgId = requireOrg(ctx);
  const sealed = encrypt(input.value, ctx.services.masterKey);
  const [row] = await ctx.db
    .insert(credentials)
    .values({
      id: newId('credential'),
      orgId,
      name: input.name,
      description: input.description ?? null,
      valueEncrypted: sealed,
      integration,
      createdBy: ctx.actorId,
      updatedBy: ctx.actorId,
    })
    .onConflictDoUpdate({
      target: [credentials.orgId, credentials.name],
      set: {
        valueEncrypted: sealed,
        // A replacement without a description keeps the one it had.
        ...(input.description !== undefined && { description: input.description }),
        ...(integration && { integration }),
        updatedBy: ctx.actorId,
        updatedAt: new Date(),
      },
    })
    // xmax = 0 only on a freshly inserted row: tells a create from a replace in the same statement.
    .returning({ id: credentials.id, inserted: sql<boolean>`(xmax = 0)` });
  const created = row.inserted;
  const [saved] = await ctx.db.select().from(credentials).where(eq(credentials.id, row.id));
  await recordActivity(ctx, {
    action: created ? 'credential.created' : 'credential.replaced',
    entityType: 'credential',
    entityId: saved.id,
    metadata: { name: input.name, ...(integration && { integration }) },
  });
  return { ...presentCredential(saved), created };
}

export async function getCredential(ctx: Ctx, name: string) {
  // A key is bounded by its scopes (the framework checked `credentials:read`); a person must be an owner or admin.
  if (!ctx.keyId && !(ctx.role && roleAtLeast(ctx.role, 'admin'))) {
    throw forbidden('Reading a credential value takes an owner or admin of the org (or a key with `credentials:read`).');
  }
  const orgId = requireOrg(ctx);
  const row = await findCredential(ctx.db, orgId, name);
  const value = openValue(row, ctx.services.masterKey);
  // The read is logged before the value is returned: if the log row cannot be written, the value is not given out.
  await ctx.db.transaction(async (tx) => {
    await tx.update(credentials).set({ lastReadAt: new Date() }).where(eq(credentials.id, row.id));
    await recordActivity({ ...ctx, db: tx }, { action: 'credential.read', entityType: 'credential', entityId: row.id, metadata: { name } });
  });
  return { ...presentCredential({ ...row, lastReadAt: new Date() }), value };
}

export async function deleteCredential(ctx: Ctx, name: string) {
  const row = await findCredential(ctx.db, requireOrg(ctx), name);
  await ctx.db.delete(credentials).where(eq(credentials.id, row.id));
  await recordActivity(ctx, { action: 'credential.deleted', entityType: 'credential', entityId: row.id, metadata: { name } });
  return { id: row.id, name, deleted: true as const };
}

/**
 * For the server's own use (an agent's provider key, an integration's secret fields): the value, or null when no
 * such credential exists. `use` names who used it: the read goes in the activity log as `credential.used`.
 */
export async function readCredentialFor(
  db: DbOrTx,
  masterKey: Buffer,
  ref: { orgId: string; name: string },
  use: { actorType: 'agent' | 'system' | 'user'; actorId: string | null; purpose: string; requestId?: string },
): Promise<string | null> {
  const [row] = await db
    .select()
    .from(credentials)
    .where(and(eq(credentials.orgId, ref.orgId), eq(credentials.name, ref.name)));
  if (!row) return null;
  const value = openValue(row, masterKey);
  await db.transaction(async (tx) => {
    await tx.update(credentials).set({ lastReadAt: new Date() }).where(eq(credentials.id, row.id));
    await recordActivity(
      {
        db: tx,
        orgId: ref.orgId,
        actorType: use.actorType,
        actorId: use.actorId,
        keyId: null,
        requestId: use.requestId ?? 'system',
      } as unknown as Ctx,
      { action: 'credential.used', entityType: 'credential', entityId: row.id, metadata: { name: ref.name, purpose: use.purpose } },
    );
  });
  return value;
}

/** Whether the org has a credential of this name (agents check the one they refer to when saved). */
export async function credentialExists(db: DbOrTx, orgId: string, name: string): Promise<boolean> {
  const [row] = await db
    .select({ id: credentials.id })
    .from(credentials)
    .where(and(eq(credentials.orgId, orgId), eq(credentials.name, name)));
  return Boolean(row);
}
