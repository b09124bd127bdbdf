// `GET /whoami`: who the credential is, for which org, on which plan, with what credits.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type pg from 'pg';
import { Batcher } from '../../core/batch.ts';
import { requireOrg } from '../../core/context.ts';
import { notFound } from '../../core/errors.ts';
import { defineOperation } from '../../core/operation.ts';
import { users } from '../../db/schema/users.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { tierOf } from '../billing/plans.ts';

interface OrgSummary {
  id: string;
  name: string;
  slug: string;
  plan: string;
  credits: number;
}

// whoami is the API's hottest read (and the HTTP benchmark's subject): concurrent calls share one prepared
// statement, one in flight at a time (core/batch.ts). Credits stay live: they are read in that same statement.
const summaries = new WeakMap<pg.Pool, Batcher<string, OrgSummary>>();
function orgSummaries(pool: pg.Pool): Batcher<string, OrgSummary> {
  let batcher = summaries.get(pool);
  if (!batcher) {
    batcher = new Batcher(async (ids) => {
      const { rows } = await pool.query<OrgSummary>({
        name: 'whoami_orgs',
        text: `select o.id, o.name, o.slug, o.plan, coalesce(b.balance - b.held, 0)::int as credits
                 from orgs o left join balances b on b.org_id = o.id and b.currency = 'credits'
                where o.id = any($1::text[])`,
        values: [ids],
      });
      return new Map(rows.map((r) => [r.id, r]));
    });
    summaries.set(pool, batcher);
  }
  return batcher;
}

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
    const org = await orgSummaries(ctx.services.database.pool).get(requireOrg(ctx));
    if (!org) throw notFound('Org');
    const key = ctx.keyId ? { id: ctx.keyId, name: ctx.keyName ?? '', scopes: [...ctx.scopes] } : null;
    const user = ctx.userId
      ? ((await ctx.db.select({ id: users.id, username: users.username, email: users.email }).from(users).where(eq(users.id, ctx.userId)))[0] ?? null)
      : null;
    const plan = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db)).id;
    return { org: { id: org.id, name: org.name, slug: org.slug }, plan, credits: org.credits, key, user, role: ctx.role };
  },
});
