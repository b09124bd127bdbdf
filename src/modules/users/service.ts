// Users: accounts of the instance. The first user to register is the instance admin.
import { and, asc, eq, ilike, ne, or, sql } from 'drizzle-orm';
import type { Ctx } from '../../core/context.ts';
import { conflict, forbidden, notFound, unprocessable } from '../../core/errors.ts';
import { hashPassword, verifyPassword } from '../../core/crypto.ts';
import { newId } from '../../core/ids.ts';
import { listNewestFirst, type PageInput } from '../../core/pagination.ts';
import { orgMembers, orgs } from '../../db/schema/orgs.ts';
import { users } from '../../db/schema/users.ts';
import { recordActivity } from '../activity/record.ts';

export type UserRow = typeof users.$inferSelect;

export function presentUser(u: UserRow) {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    name: u.name,
    role: u.role,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

export async function findUser(ctx: Ctx, id: string): Promise<UserRow> {
  const [row] = await ctx.db.select().from(users).where(eq(users.id, id));
  if (!row) throw notFound('User');
  return row;
}

export async function findUserByEmail(ctx: Ctx, email: string): Promise<UserRow | undefined> {
  const [row] = await ctx.db.select().from(users).where(sql`lower(${users.email}) = lower(${email})`);
  return row;
}

const FIRST_USER_LOCK = 7_243_012;

export interface NewUser {
  username: string;
  email: string;
  password: string;
  name?: string | null;
}

/** Creates an account; the first account of the instance becomes its admin. */
export async function createUser(ctx: Ctx, input: NewUser): Promise<UserRow> {
  // Serialise registrations' "am I first?" check so two simultaneous first users cannot both become admin.
  await ctx.db.execute(sql`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`);
  const taken = await ctx.db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(or(sql`lower(${users.email}) = lower(${input.email})`, sql`lower(${users.username}) = lower(${input.username})`));
  if (taken.some((t) => t.email.toLowerCase() === input.email.toLowerCase())) {
    throw conflict('An account with this email already exists. Log in, or reset the password.');
  }
  if (taken.length) throw conflict('This username is taken.');
  const [{ count }] = await ctx.db.select({ count: sql<number>`count(*)::int` }).from(users);
  const now = new Date();
  const [row] = await ctx.db
    .insert(users)
    .values({
      id: newId('user'),
      username: input.username,
      email: input.email,
      name: input.name ?? null,
      passwordHash: await hashPassword(input.password),
      role: count === 0 ? 'admin' : 'user',
      termsAcceptedAt: now,
      privacyAcceptedAt: now,
    })
    .returning();
  await recordActivity(
    { ...ctx, actorType: 'user', actorId: row.id },
    { action: 'user.registered', entityType: 'user', entityId: row.id, orgId: null },
  );
  return row;
}

export async function checkPassword(user: UserRow, password: string): Promise<boolean> {
  return verifyPassword(password, user.passwordHash);
}

/** Orgs where this user is the only owner (they must transfer ownership before leaving or being erased). */
async function soleOwnedOrgs(ctx: Ctx, userId: string) {
  const { rows } = await ctx.db.execute<{ id: string; name: string }>(
    sql`select o.id, o.name from org_members m join orgs o on o.id = m.org_id
         where m.user_id = ${userId} and m.role = 'owner' and o.deleted_at is null
           and not exists (select 1 from org_members m2 where m2.org_id = m.org_id and m2.role = 'owner' and m2.user_id <> m.user_id)`,
  );
  return rows;
}

async function eraseUser(ctx: Ctx, user: UserRow) {
  const blocking = await soleOwnedOrgs(ctx, user.id);
  if (blocking.length) {
    throw unprocessable(
      'This account is the last owner of an org: make another member owner (`opsbase orgs members update`) or delete the org first.',
      { orgs: blocking },
    );
  }
  await ctx.db.delete(users).where(eq(users.id, user.id));
  await ctx.services.authCache.invalidate(ctx.db, `user:${user.id}`);
  // Erasure: the activity row keeps the id, never the personal data.
  await recordActivity(ctx, { action: 'user.deleted', entityType: 'user', entityId: user.id, orgId: null });
  return { id: user.id, deleted: true as const };
}

export async function deleteMe(ctx: Ctx, password: string) {
  const me = await findUser(ctx, ctx.userId!);
  if (me.role === 'admin') throw forbidden('Instance admins cannot erase their own account; another instance admin must demote or delete it.');
  // 403, not 401: the session is valid; a 401 would make clients think the login expired.
  if (!(await checkPassword(me, password))) throw forbidden('The password is wrong: confirm with your current password.');
  return eraseUser(ctx, me);
}

export async function listUsers(ctx: Ctx, input: PageInput & { q?: string; role?: 'admin' | 'user' }) {
  return listNewestFirst(
    ctx.db,
    users,
    input,
    [
      input.role ? eq(users.role, input.role) : undefined,
      input.q ? or(ilike(users.email, `%${input.q}%`), ilike(users.username, `%${input.q}%`)) : undefined,
    ],
    presentUser,
  );
}

export async function updateUser(ctx: Ctx, input: { id: string; role?: 'admin' | 'user'; name?: string | null }) {
  const user = await findUser(ctx, input.id);
  if (input.role === 'user' && user.role === 'admin') {
    const others = await ctx.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.role, 'admin'), ne(users.id, user.id)))
      .limit(1);
    if (others.length === 0) throw unprocessable('This is the last instance admin; promote another user first.');
  }
  const [row] = await ctx.db
    .update(users)
    .set({ ...(input.role && { role: input.role }), ...(input.name !== undefined && { name: input.name }), updatedAt: new Date() })
    .where(eq(users.id, user.id))
    .returning();
  await ctx.services.authCache.invalidate(ctx.db, `user:${user.id}`);
  await recordActivity(ctx, { action: 'user.updated', entityType: 'user', entityId: user.id, orgId: null, metadata: { role: input.role } });
  return presentUser(row);
}

export async function deleteUser(ctx: Ctx, id: string) {
  if (id === ctx.userId) throw unprocessable('You cannot delete your own account here.');
  return eraseUser(ctx, await findUser(ctx, id));
}

/** The user's orgs with their role, oldest membership first. */
export async function membershipsOf(ctx: Ctx, userId: string) {
  return ctx.db
    .select({ id: orgs.id, name: orgs.name, slug: orgs.slug, role: orgMembers.role })
    .from(orgMembers)
    .innerJoin(orgs, eq(orgs.id, orgMembers.orgId))
    .where(and(eq(orgMembers.userId, userId), sql`${orgs.deletedAt} is null`))
    .orderBy(asc(orgMembers.createdAt), asc(orgMembers.id));
}
