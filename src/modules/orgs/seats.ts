// Seat limits (the tier's `limits.seats`, -1 = unlimited). A pending invitation reserves a seat: creating an invite
// or adding a member is refused when members + pending invites already fill the seats, so every invite sent can be
// accepted. Accepting checks members only (its own seat was reserved when it was sent), which still refuses it when
// the limit fell since (a plan change, an admin's catalog edit). Every check runs under the org row's lock, the same
// lock plan changes take, so concurrent adds, invites, accepts and downgrades of one org queue and each counts what
// the previous ones committed: two accepts racing for the last seat → exactly one gets it.
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import type { DbOrTx } from '../../db/client.ts';
import { orgInvites, orgMembers, orgs } from '../../db/schema/orgs.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { tierOf } from '../billing/plans.ts';

/** Locks the org row for the rest of the transaction; undefined when there is no live org. */
export async function lockOrg(db: DbOrTx, orgId: string): Promise<{ plan: string } | undefined> {
  const [row] = await db
    .select({ plan: orgs.plan })
    .from(orgs)
    .where(and(eq(orgs.id, orgId), isNull(orgs.deletedAt)))
    .for('update');
  return row;
}

export async function memberCount(db: DbOrTx, orgId: string): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(orgMembers).where(eq(orgMembers.orgId, orgId));
  return n;
}

async function pendingInvites(db: DbOrTx, orgId: string): Promise<number> {
  const [{ n }] = await db
    .select({ n: count() })
    .from(orgInvites)
    .where(and(eq(orgInvites.orgId, orgId), isNull(orgInvites.acceptedAt), isNull(orgInvites.revokedAt), sql`${orgInvites.expiresAt} > now()`));
  return n;
}

/**
 * Refuses (422 `unprocessable`) one more seat of `orgId`: `for: 'accept'` counts members, anything else members and
 * pending invites. Must run in the caller's transaction, before it inserts the member or the invite.
 */
export async function assertSeatAvailable(ctx: Ctx, orgId: string, what: { for: 'add' | 'invite' | 'accept' }): Promise<void> {
  const org = await lockOrg(ctx.db, orgId);
  if (!org) throw notFound('Org');
  const tier = tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db));
  const seats = tier.limits.seats;
  if (seats === -1) return;
  const members = await memberCount(ctx.db, orgId);
  const pending = what.for === 'accept' ? 0 : await pendingInvites(ctx.db, orgId);
  if (members + pending < seats) return;
  const counted = what.for === 'accept' ? `${members} members` : `${members} members and ${pending} pending invites`;
  throw unprocessable(
    `The \`${tier.id}\` tier allows ${seats} seats and this org uses ${members + pending} (${counted}). ` +
      'Upgrade to a tier with more seats (`opsbase billing change-plan <tier>`, or `opsbase billing checkout --tier <tier>` to pay by card), ' +
      'or remove a member first.',
    { limit: 'seats', tier: tier.id, allowed: seats, current: members + pending, members, pending_invites: pending },
  );
}
