// `GET /whoami`: who the credential is, for which org, on which plan, with what credits.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { requireOrg } from '../../core/context.ts';
import { defineOperation } from '../../core/operation.ts';
import { users } from '../../db/schema/users.ts';
import { tierOf } from '../billing/plans.ts';

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
    credits: z.number().describe('Available credits: the balance minus credits held by running paid actions'),
    key: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.string()) }).nullable(),
    user: z.object({ id: z.string(), username: z.string(), email: z.string() }).nullable(),
    role: z.enum(['owner', 'admin', 'member', 'viewer']).nullable(),
  }),
  cli: { columns: ['org', 'plan', 'credits', 'key', 'role'] },
  handler: async (ctx) => {
    // One named prepared statement (parsed and planned once per connection), credits joined in: whoami is the
    // API's hottest read and the HTTP benchmark's subject.
    const { rows } = await ctx.services.database.pool.query<{ id: string; name: string; slug: string; plan: string; credits: number }>({
      name: 'whoami_org',
      text: `select o.id, o.name, o.slug, o.plan, coalesce(b.balance - b.held, 0)::int as credits
               from orgs o left join balances b on b.org_id = o.id and b.currency = 'credits'
              where o.id = $1`,
      values: [requireOrg(ctx)],
    });
    const org = rows[0];
    const key = ctx.keyId ? { id: ctx.keyId, name: ctx.keyName ?? '', scopes: [...ctx.scopes] } : null;
    const user = ctx.userId
      ? ((await ctx.db.select({ id: users.id, username: users.username, email: users.email }).from(users).where(eq(users.id, ctx.userId)))[0] ?? null)
      : null;
    const plan = tierOf(org.plan, ctx.services.config).id;
    return { org: { id: org.id, name: org.name, slug: org.slug }, plan, credits: org.credits, key, user, role: ctx.role };
  },
});
