// Orgs, their members and invites. Every query is scoped to ctx.orgId (the framework resolved it from the key,
// the path, or the session's X-Org-Id); anything outside it is not found.
import { randomBytes } from 'node:crypto';
import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { newSecret, sha256 } from '../../core/crypto.ts';
import { conflict, forbidden, notFound, unprocessable } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput, paginate } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { orgInvites, orgMembers, orgs, type Role } from '../../db/schema/orgs.ts';
import { users } from '../../db/schema/users.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { credit } from '../billing/ledger.ts';
import { effectiveCatalog } from '../billing/catalog-store.ts';
import { grantMonthlyCredits } from '../billing/monthly-credits.ts';
import { catalog, tierOf } from '../billing/plans.ts';
import { queueEmail } from '../notifications/outbox.ts';
import { joinInvitedTeams } from '../teams/invites.ts';
import { assertSeatAvailable, lockOrg } from './seats.ts';

type OrgRow = typeof orgs.$inferSelect;
const INVITE_MS = 7 * 86_400_000;

export function presentOrg(o: OrgRow, extra: { member_count?: number; role?: Role | null } = {}) {
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    avatar_url: o.avatarUrl,
    plan: o.plan,
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
    ...extra,
  };
}

export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return base || 'org';
}

async function slugTaken(ctx: Ctx, slug: string, exceptId?: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: orgs.id })
    .from(orgs)
    .where(and(eq(orgs.slug, slug), isNull(orgs.deletedAt)));
  return rows.some((r) => r.id !== exceptId);
}

async function liveOrg(ctx: Ctx, id = requireOrg(ctx)): Promise<OrgRow> {
  const [row] = await ctx.db
    .select()
    .from(orgs)
    .where(and(eq(orgs.id, id), isNull(orgs.deletedAt)));
  if (!row) throw notFound('Org');
  return row;
}

/** Creates an org with `ownerId` as its owner. Used by `orgs.create` and by `opsbase init`. */
export async function createOrg(ctx: Ctx, input: { name: string; slug?: string | null }, ownerId: string) {
  let slug = input.slug ?? slugify(input.name);
  if (await slugTaken(ctx, slug)) {
    if (input.slug) throw conflict(`The slug \`${slug}\` is taken. Choose another.`);
    slug = `${slug}-${randomBytes(3).toString('hex')}`;
  }
  const [org] = await ctx.db
    .insert(orgs)
    .values({ id: newId('org'), name: input.name, slug })
    .returning();
  await ctx.db.insert(orgMembers).values({ id: newId('member'), orgId: org.id, userId: ownerId, role: 'owner' });
  const bonus = catalog(ctx.services.config).signup_bonus_credits;
  if (bonus > 0) {
    await credit(ctx.db, {
      orgId: org.id,
      currency: 'credits',
      amount: bonus,
      kind: 'signup_bonus',
      reference: 'signup',
      idempotencyKey: `signup:${org.id}`,
    });
  }
  // This month's included credits now, rather than at the worker's next hourly run.
  await grantMonthlyCredits(ctx, org.id, tierOf(org.plan, await effectiveCatalog(ctx.services, ctx.db)));
  await ctx.services.authCache.invalidate(ctx.db, `member:${ownerId}`);
  await recordActivity(ctx, { action: 'org.created', entityType: 'org', entityId: org.id, orgId: org.id, metadata: { name: org.name, slug } });
  return presentOrg(org, { member_count: 1, role: 'owner' });
}

export async function listMyOrgs(ctx: Ctx, input: PageInput) {
  return paginate(
    input,
    orgs.id,
    (w) =>
      ctx.db
        .select({ org: orgs, role: orgMembers.role })
        .from(orgMembers)
        .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
        .where(and(eq(orgMembers.userId, ctx.userId!), isNull(orgs.deletedAt), w.after))
        .orderBy(desc(orgs.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.org.id,
    (r) => presentOrg(r.org, { role: r.role }),
  );
}

export async function getOrg(ctx: Ctx) {
  const org = await liveOrg(ctx);
  const [{ n }] = await ctx.db.select({ n: count() }).from(orgMembers).where(eq(orgMembers.orgId, org.id));
  return presentOrg(org, { member_count: n, role: ctx.role });
}

export async function updateOrg(ctx: Ctx, input: { name?: string; slug?: string; avatar_url?: string | null }) {
  const org = await liveOrg(ctx);
  if (input.slug && input.slug !== org.slug && (await slugTaken(ctx, input.slug, org.id))) {
    throw conflict(`The slug \`${input.slug}\` is taken. Choose another.`);
  }
  await ctx.db
    .update(orgs)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.slug !== undefined && { slug: input.slug }),
      ...(input.avatar_url !== undefined && { avatarUrl: input.avatar_url }),
      updatedAt: new Date(),
    })
    .where(eq(orgs.id, org.id));
  await recordActivity(ctx, {
    action: 'org.updated',
    entityType: 'org',
    entityId: org.id,
    metadata: { changed: Object.keys(input).filter((k) => k !== 'id') },
  });
  return getOrg(ctx);
}

export async function deleteOrg(ctx: Ctx) {
  if (ctx.role !== 'owner') throw forbidden('Only an owner of the org, logged in, can delete it.');
  const org = await liveOrg(ctx);
  await ctx.db.update(orgs).set({ deletedAt: new Date(), updatedAt: new Date() }).where(eq(orgs.id, org.id));
  // Its keys and every member's view of it stop working at once.
  await ctx.services.authCache.invalidate(ctx.db, `org:${org.id}`);
  await recordActivity(ctx, { action: 'org.deleted', entityType: 'org', entityId: org.id });
  return { id: org.id, deleted: true as const };
}

// ── members ─────────────────────────────────────────────────────────────────────────────────────────────────

function presentMember(r: { member: typeof orgMembers.$inferSelect; user: typeof users.$inferSelect }) {
  return {
    user_id: r.user.id,
    username: r.user.username,
    email: r.user.email,
    name: r.user.name,
    role: r.member.role,
    joined_at: r.member.createdAt.toISOString(),
  };
}

async function findMember(ctx: Ctx, userId: string, forUpdate = false) {
  const q = ctx.db
    .select({ member: orgMembers, user: users })
    .from(orgMembers)
    .innerJoin(users, eq(users.id, orgMembers.userId))
    .where(and(eq(orgMembers.orgId, requireOrg(ctx)), eq(orgMembers.userId, userId)));
  const [row] = forUpdate ? await q.for('update', { of: orgMembers }) : await q;
  if (!row) throw notFound('Member');
  return row;
}

/** Only owners may make or unmake owners. Keys act with admin rights here (they hold `members:write`). */
function assertMayAssign(ctx: Ctx, role: Role, current?: Role) {
  if ((role === 'owner' || current === 'owner') && ctx.role !== 'owner') {
    throw forbidden('Only an owner can grant or take away the owner role.');
  }
}

async function assertNotLastOwner(ctx: Ctx, userId: string) {
  const owners = await ctx.db
    .select({ userId: orgMembers.userId })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, requireOrg(ctx)), eq(orgMembers.role, 'owner')))
    .for('update');
  if (owners.length === 1 && owners[0].userId === userId) {
    throw unprocessable('An org must keep at least one owner: make another member owner first.');
  }
}

export async function listMembers(ctx: Ctx, input: PageInput) {
  return paginate(
    input,
    orgMembers.id,
    (w) =>
      ctx.db
        .select({ member: orgMembers, user: users })
        .from(orgMembers)
        .innerJoin(users, eq(users.id, orgMembers.userId))
        .where(and(eq(orgMembers.orgId, requireOrg(ctx)), w.after))
        .orderBy(desc(orgMembers.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.member.id,
    presentMember,
  );
}

export async function addMember(ctx: Ctx, input: { user_id: string; role: Role }) {
  await liveOrg(ctx);
  assertMayAssign(ctx, input.role);
  const [user] = await ctx.db.select().from(users).where(eq(users.id, input.user_id));
  if (!user) throw notFound('User');
  const [existing] = await ctx.db
    .select({ id: orgMembers.id })
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, requireOrg(ctx)), eq(orgMembers.userId, user.id)));
  if (existing) throw conflict('This user is already a member of the org.');
  await assertSeatAvailable(ctx, requireOrg(ctx), { for: 'add' });
  const [member] = await ctx.db
    .insert(orgMembers)
    .values({ id: newId('member'), orgId: requireOrg(ctx), userId: user.id, role: input.role })
    .returning();
  await ctx.services.authCache.invalidate(ctx.db, `member:${user.id}`);
  await recordActivity(ctx, { action: 'member.added', entityType: 'user', entityId: user.id, metadata: { role: input.role } });
  await recordEvent(ctx.db, {
    orgId: requireOrg(ctx),
    type: 'org.member_added',
    subject: user.id,
    data: { user_id: user.id, username: user.username, role: input.role, via: 'added' },
  });
  return presentMember({ member, user });
}

export async function updateMember(ctx: Ctx, input: { user_id: string; role: Role }) {
  const current = await findMember(ctx, input.user_id, true);
  assertMayAssign(ctx, input.role, current.member.role);
  if (current.member.role === 'owner' && input.role !== 'owner') await assertNotLastOwner(ctx, input.user_id);
  const [member] = await ctx.db.update(orgMembers).set({ role: input.role }).where(eq(orgMembers.id, current.member.id)).returning();
  await ctx.services.authCache.invalidate(ctx.db, `member:${input.user_id}`);
  await recordActivity(ctx, {
    action: 'member.role_changed',
    entityType: 'user',
    entityId: input.user_id,
    metadata: { from: current.member.role, to: input.role },
  });
  return presentMember({ member, user: current.user });
}

export async function removeMember(ctx: Ctx, userId: string) {
  const current = await findMember(ctx, userId, true);
  assertMayAssign(ctx, current.member.role, current.member.role);
  if (current.member.role === 'owner') await assertNotLastOwner(ctx, userId);
  await ctx.db.delete(orgMembers).where(eq(orgMembers.id, current.member.id));
  await ctx.services.authCache.invalidate(ctx.db, `member:${userId}`);
  await recordActivity(ctx, { action: 'member.removed', entityType: 'user', entityId: userId });
  await recordEvent(ctx.db, {
    orgId: requireOrg(ctx),
    type: 'org.member_removed',
    subject: userId,
    data: { user_id: userId, role: current.member.role },
  });
  return { id: userId, deleted: true as const };
}

// ── invites ─────────────────────────────────────────────────────────────────────────────────────────────────

function presentInvite(i: typeof orgInvites.$inferSelect) {
  return {
    id: i.id,
    org_id: i.orgId,
    email: i.email,
    role: i.role,
    invited_by: i.invitedBy,
    expires_at: i.expiresAt.toISOString(),
    accepted_at: iso(i.acceptedAt),
    created_at: i.createdAt.toISOString(),
  };
}

/** `about`: a line more for the mail (a team invite says which team accepting puts them in). */
export async function createInvite(ctx: Ctx, input: { email: string; role: Role }, about?: string) {
  const org = await liveOrg(ctx);
  assertMayAssign(ctx, input.role);
  // The org row before the invite row: accepts lock in the same order.
  await lockOrg(ctx.db, org.id);
  const open = and(
    eq(orgInvites.orgId, org.id),
    sql`lower(${orgInvites.email}) = lower(${input.email})`,
    isNull(orgInvites.acceptedAt),
    isNull(orgInvites.revokedAt),
  );
  const [existing] = await ctx.db.select().from(orgInvites).where(open).for('update');
  if (existing && existing.expiresAt > new Date()) throw conflict('An invite for this email is already pending.', { invite_id: existing.id });
  await assertSeatAvailable(ctx, org.id, { for: 'invite' });
  // An expired invite gives way to the new one.
  if (existing) await ctx.db.update(orgInvites).set({ revokedAt: new Date() }).where(eq(orgInvites.id, existing.id));
  const token = newSecret('obi_');
  const [invite] = await ctx.db
    .insert(orgInvites)
    .values({
      id: newId('invite'),
      orgId: org.id,
      email: input.email,
      role: input.role,
      tokenHash: sha256(token),
      invitedBy: ctx.actorId,
      expiresAt: new Date(Date.now() + INVITE_MS),
    })
    .returning();
  const base = ctx.services.config.OPSBASE_PUBLIC_URL ?? `http://localhost:${ctx.services.config.PORT}`;
  await queueEmail(ctx, {
    to: input.email,
    subject: `You are invited to ${org.name} on Opsbase`,
    text:
      `You have been invited to join ${org.name} as ${input.role}.\n\n` +
      `Accept (valid 7 days): ${base}/invites/accept?token=${token}\n` +
      `or run: opsbase orgs invites accept --token ${token}\n` +
      (about ? `\n${about}\n` : ''),
  });
  await recordActivity(ctx, { action: 'invite.created', entityType: 'invite', entityId: invite.id, metadata: { role: input.role } });
  return { ...presentInvite(invite), token };
}

export async function listInvites(ctx: Ctx, input: PageInput) {
  return listNewestFirst(
    ctx.db,
    orgInvites,
    input,
    [eq(orgInvites.orgId, requireOrg(ctx)), isNull(orgInvites.acceptedAt), isNull(orgInvites.revokedAt), sql`${orgInvites.expiresAt} > now()`],
    presentInvite,
  );
}

export async function acceptInvite(ctx: Ctx, token: string) {
  // Lock the org row before the invite's, in the order invites are created in, so the two never deadlock.
  const [target] = await ctx.db
    .select({ orgId: orgInvites.orgId })
    .from(orgInvites)
    .where(eq(orgInvites.tokenHash, sha256(token)));
  if (target) await lockOrg(ctx.db, target.orgId);
  const [invite] = await ctx.db
    .select()
    .from(orgInvites)
    .where(eq(orgInvites.tokenHash, sha256(token)))
    .for('update');
  if (!invite || invite.revokedAt) throw notFound('Invite');
  if (invite.acceptedAt) throw conflict('This invite was already accepted.');
  if (invite.expiresAt <= new Date()) throw unprocessable('This invite has expired: ask for a new one.');
  const [user] = await ctx.db.select().from(users).where(eq(users.id, ctx.userId!));
  if (user.email.toLowerCase() !== invite.email.toLowerCase()) throw forbidden('This invite was sent to another email address.');
  const orgCtx = { ...ctx, orgId: invite.orgId };
  await liveOrg(orgCtx);
  const [member] = await ctx.db
    .select()
    .from(orgMembers)
    .where(and(eq(orgMembers.orgId, invite.orgId), eq(orgMembers.userId, user.id)));
  if (member) throw conflict('You are already a member of this org.');
  await assertSeatAvailable(ctx, invite.orgId, { for: 'accept' });
  await ctx.db.insert(orgMembers).values({ id: newId('member'), orgId: invite.orgId, userId: user.id, role: invite.role });
  await ctx.db.update(orgInvites).set({ acceptedAt: new Date() }).where(eq(orgInvites.id, invite.id));
  await joinInvitedTeams({ ...orgCtx, actorType: 'user', actorId: user.id }, invite.id, user.id);
  await ctx.services.authCache.invalidate(ctx.db, `member:${user.id}`);
  await recordActivity(orgCtx, { action: 'invite.accepted', entityType: 'invite', entityId: invite.id, metadata: { role: invite.role } });
  await recordEvent(ctx.db, {
    orgId: invite.orgId,
    type: 'org.member_added',
    subject: user.id,
    data: { user_id: user.id, username: user.username, role: invite.role, via: 'invite' },
  });
  const org = await liveOrg(orgCtx);
  return presentOrg(org, { role: invite.role });
}
