// `GET /whoami`: who the credential is, for which org, on which plan, with what credits.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { requireOrg } from '../../core/context.ts';
import { defineOperation } from '../../core/operation.ts';
import { orgs } from '../../db/schema/orgs.ts';
import { users } from '../../db/schema/users.ts';

export const whoami = defineOperation({
  id: 'whoami',
  method: 'GET',
  path: '/whoami',
  summary: 'The org, plan, credits and key (or user) behind this credential',
  scopes: [],
  input: z.object({}),
  output: z.object({
    org: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
    plan: z.string(),
    credits: z.number().describe('Available credits (0 until billing is set up)'),
    key: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.string()) }).nullable(),
    user: z.object({ id: z.string(), username: z.string(), email: z.string() }).nullable(),
    role: z.enum(['owner', 'admin', 'member', 'viewer']).nullable(),
  }),
  cli: { columns: ['org', 'plan', 'credits', 'key', 'role'] },
  handler: async (ctx) => {
    const [org] = await ctx.db
      .select({ id: orgs.id, name: orgs.name, slug: orgs.slug, plan: orgs.plan })
      .from(orgs)
      .where(eq(orgs.id, requireOrg(ctx)));
    const key = ctx.keyId ? { id: ctx.keyId, name: ctx.keyName ?? '', scopes: [...ctx.scopes] } : null;
    const user = ctx.userId
      ? ((await ctx.db.select({ id: users.id, username: users.username, email: users.email }).from(users).where(eq(users.id, ctx.userId)))[0] ?? null)
      : null;
    return { org: { id: org.id, name: org.name, slug: org.slug }, plan: org.plan, credits: 0, key, user, role: ctx.role };
  },
});
