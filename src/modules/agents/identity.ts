// An agent's identity (DESIGN §9): an API key of its org marked with the agent's id, holding the agent's scopes.
// Requests made with it act as the agent (`actor_type: agent`, `actor_id` = agent id, http/server.ts), so a tool
// call by an agent goes through auth, scopes, tenancy, billing and the activity log like any API call. The secret
// is stored hashed for authentication, as every key is, and encrypted on the agent for the runtime to present.
import { createHmac } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { decrypt, encrypt, newSecret, sha256 } from '../../core/crypto.ts';
import { newId } from '../../core/ids.ts';
import type { DbOrTx } from '../../db/client.ts';
import { agents } from '../../db/schema/agents.ts';
import { apiKeys, apiKeySecrets } from '../../db/schema/keys.ts';
import { KEY_PREFIX } from '../../http/auth.ts';

/** Makes the agent's key; returns the encrypted secret to store on the agent row. */
export async function createAgentKey(ctx: Ctx, agent: { id: string; orgId: string; name: string; scopes: string[] }): Promise<string> {
  const id = newId('key');
  const secret = newSecret(KEY_PREFIX);
  await ctx.db.insert(apiKeys).values({
    id,
    orgId: agent.orgId,
    name: `agent:${agent.name}`,
    description: 'The identity of an agent (managed through agents.*)',
    scopes: agent.scopes,
    prefix: secret.slice(0, KEY_PREFIX.length + 4),
    last4: secret.slice(-4),
    createdBy: ctx.actorId,
    agentId: agent.id,
  });
  await ctx.db.insert(apiKeySecrets).values({ hash: sha256(secret), keyId: id });
  return encrypt(secret, ctx.services.masterKey);
}

/** Changes the key's scopes, name or whether it works; every instance drops its cached credential at commit. */
export async function updateAgentKey(ctx: Ctx, agentId: string, change: { scopes?: string[]; active?: boolean; name?: string }) {
  await ctx.db
    .update(apiKeys)
    .set({
      ...(change.scopes && { scopes: change.scopes }),
      ...(change.active !== undefined && { active: change.active }),
      ...(change.name && { name: `agent:${change.name}` }),
      updatedAt: new Date(),
    })
    .where(and(eq(apiKeys.agentId, agentId), eq(apiKeys.orgId, ctx.orgId ?? '')));
  await ctx.services.authCache.invalidate(ctx.db, 'agent');
}

/** The id of the agent's key (shown on the agent; its requests are in the request log under it). */
export async function agentKeyId(db: DbOrTx, agentId: string): Promise<string | null> {
  const [row] = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.agentId, agentId));
  return row?.id ?? null;
}

/** The plaintext credential a runtime presents to act as the agent (never returned by the API, never logged). */
export async function agentCredential(db: DbOrTx, masterKey: Buffer, agentId: string): Promise<string | null> {
  const [row] = await db.select({ sealed: agents.keySecretEncrypted }).from(agents).where(eq(agents.id, agentId));
  return row ? decrypt(row.sealed, masterKey) : null;
}

/**
 * The secret an `http` agent's runs are signed with (Standard Webhooks, `whsec_…`): derived from the master key and
 * the agent's id, so nothing more is stored and every instance computes the same one. `agents.signing_secret` shows
 * it to whoever may write agents; it changes only with the master key.
 */
export function agentSigningSecret(masterKey: Buffer, agentId: string): string {
  return `whsec_${createHmac('sha256', masterKey).update(`opsbase agent signing v1:${agentId}`).digest('base64')}`;
}
