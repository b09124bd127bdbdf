// The plan's `agents` limit (the tier's `limits.agents`, -1 = unlimited): what counts is the org's agents that are
// not offline — the same figure `billing.usage` shows and a downgrade must fit. A deleted agent is offline: it stops
// counting (its history and name stay), and bringing it back (`agents start` / `restart`) takes a slot again, so
// delete-then-start cannot get round the limit.
// The check runs under the org row's lock — the lock plan changes and seat checks take — so concurrent creates of
// one org queue and each counts what the previous ones committed: two creates racing for the last slot → one wins.
import { and, count, eq, ne } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { agents } from '../../db/schema/agents.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { tierOf } from '../billing/plans.ts';
import { lockOrg } from '../orgs/seats.ts';

/** Refuses (402 `quota_exceeded`) one more live agent in ctx's org. Run it in the transaction that then adds it. */
export async function assertAgentSlot(ctx: Ctx): Promise<void> {
  const orgId = requireOrg(ctx);
  const org = await lockOrg(ctx.db, orgId);
  if (!org) throw notFound('Org');
  const tier = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db));
  const limit = tier.limits.agents;
  if (limit === -1) return;
  const [{ n }] = await ctx.db
    .select({ n: count() })
    .from(agents)
    .where(and(eq(agents.orgId, orgId), ne(agents.status, 'offline')));
  if (n < limit) return;
  throw new AppError(
    'quota_exceeded',
    `The \`${tier.id}\` tier allows ${limit} agent${limit === 1 ? '' : 's'} and this org has ${n} (plan limit agents; offline agents do not count). ` +
      'Delete one you no longer use (`opsbase agents delete <name>`: it goes offline), or upgrade (`opsbase billing change-plan <tier>`, ' +
      'or `opsbase billing checkout --tier <tier>` to pay by card).',
    { resource: 'agents', tier: tier.id, limit, used: n },
  );
}
