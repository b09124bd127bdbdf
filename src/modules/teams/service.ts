// Teams (issue 12, Orkosi /teams): groups of the org's members. Members write teams; deleting one takes an admin.
// A team member is always a member of the org (a composite foreign key, schema/teams.ts): a user of another org,
// or no user at all, is simply not found.
import { and, count, desc, eq, ilike, type SQL, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { conflict, forbidden, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { type PageInput, paginate } from '../../core/pagination.ts';
import { callerAllows } from '../../core/scopes.ts';
import { orgMembers, type Role } from '../../db/schema/orgs.ts';
import { type TeamRole, teamMembers, teams } from '../../db/schema/teams.ts';
import { users } from '../../db/schema/users.ts';
import { recordActivity } from '../activity/record.ts';

type TeamRow = typeof teams.$inferSelect;

export function presentTeam(t: TeamRow, memberCount?: number) {
  return {
    id: t.id,
    org_id: t.orgId,
    name: t.name,
    description: t.description,
    created_by: t.createdBy,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
    ...(memberCount !== undefined && { member_count: memberCount }),
  };
}

type MemberRow = { tm: typeof teamMembers.$inferSelect; user: typeof users.$inferSelect; orgRole: Role };

function presentMember(r: MemberRow) {
  return {
    user_id: r.user.id,
    username: r.user.username,
    email: r.user.email,
    name: r.user.name,
    role: r.tm.role,
    org_role: r.orgRole,
    joined_at: r.tm.createdAt.toISOString(),
  };
}

/** The team, or 404 (another org's team included). */
export async function findTeam(ctx: Ctx, id: string, forUpdate = false): Promise<TeamRow> {
  const q = ctx.db
    .select()
    .from(teams)
    .where(and(eq(teams.id, id), eq(teams.orgId, requireOrg(ctx))));
  const [row] = forUpdate ? await q.for('update') : await q;
  if (!row) throw notFound('Team');
  return row;
}

/** A team name is unique in its org, whatever its case: the unique index says so, this says it in words. */
async function assertNameFree(ctx: Ctx, name: string, exceptId?: string) {
  const [taken] = await ctx.db
    .select({ id: teams.id })
    .from(teams)
    .where(and(eq(teams.orgId, requireOrg(ctx)), sql`lower(${teams.name}) = lower(${name})`));
  if (taken && taken.id !== exceptId) throw conflict(`A team named \`${name}\` already exists.`, { field: 'name', team_id: taken.id });
}

/** The org member with this user id, or 404: someone outside the org cannot join its teams. */
async function orgMember(ctx: Ctx, userId: string) {
  const [row] = await ctx.db
    .select({ user: users, role: orgMembers.role })
    .from(orgMembers)
    .innerJoin(users, eq(users.id, orgMembers.userId))
    .where(and(eq(orgMembers.orgId, requireOrg(ctx)), eq(orgMembers.userId, userId)));
  if (!row) throw notFound('Member of this org');
  return row;
}

/** Puts an org member in a team (idempotent for the invite path: `ifAbsent` returns null instead of a 409). */
export async function insertTeamMember(ctx: Ctx, teamId: string, userId: string, role: TeamRole, ifAbsent = false) {
  const [row] = await ctx.db
    .insert(teamMembers)
    .values({ id: newId('teamMember'), orgId: requireOrg(ctx), teamId, userId, role })
    .onConflictDoNothing({ target: [teamMembers.teamId, teamMembers.userId] })
    .returning();
  if (!row && !ifAbsent) throw conflict('This user is already a member of the team.', { field: 'user_id' });
  return row ?? null;
}

export async function createTeam(ctx: Ctx, input: { name: string; description?: string | null }) {
  await assertNameFree(ctx, input.name);
  const [team] = await ctx.db
    .insert(teams)
    .values({ id: newId('team'), orgId: requireOrg(ctx), name: input.name, description: input.description ?? null, createdBy: ctx.actorId })
    .returning();
  // As in Orkosi, the person who makes a team owns it. A key (no user) makes an empty team.
  let members = 0;
  if (ctx.userId && !ctx.keyId) {
    await insertTeamMember(ctx, team.id, ctx.userId, 'owner');
    members = 1;
  }
  await recordActivity(ctx, { action: 'team.created', entityType: 'team', entityId: team.id, metadata: { name: team.name } });
  return presentTeam(team, members);
}

export async function listTeams(ctx: Ctx, input: PageInput & { name?: string }) {
  // Qualified by hand: inside a subquery drizzle would name both columns unqualified, and both would bind to team_members.
  const memberCount = sql<number>`(select count(*)::int from team_members tm where tm.team_id = "teams"."id")`;
  return paginate(
    input,
    teams.id,
    (w) =>
      ctx.db
        .select({ team: teams, members: memberCount })
        .from(teams)
        .where(
          and(eq(teams.orgId, requireOrg(ctx)), input.name ? ilike(teams.name, `%${input.name.replace(/[%_\\]/g, '\\$&')}%`) : undefined, w.after),
        )
        .orderBy(desc(teams.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.team.id,
    (r) => presentTeam(r.team, r.members),
  );
}

function membersQuery(ctx: Ctx, teamId: string, after?: SQL) {
  return ctx.db
    .select({ tm: teamMembers, user: users, orgRole: orgMembers.role })
    .from(teamMembers)
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .innerJoin(orgMembers, and(eq(orgMembers.orgId, teamMembers.orgId), eq(orgMembers.userId, teamMembers.userId)))
    .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.orgId, requireOrg(ctx)), after));
}

/** The team with every member (a team is a handful of people; past 500 use teams.members.list). */
export async function getTeam(ctx: Ctx, id: string) {
  const team = await findTeam(ctx, id);
  const rows = await membersQuery(ctx, team.id).orderBy(teamMembers.id).limit(500);
  const [{ n }] = await ctx.db.select({ n: count() }).from(teamMembers).where(eq(teamMembers.teamId, team.id));
  return { ...presentTeam(team, n), members: rows.map(presentMember) };
}

export async function updateTeam(ctx: Ctx, input: { id: string; name?: string; description?: string | null }) {
  const current = await findTeam(ctx, input.id, true);
  if (input.name !== undefined) await assertNameFree(ctx, input.name, current.id);
  const [team] = await ctx.db
    .update(teams)
    .set({
      ...(input.name !== undefined && { name: input.name }),
      ...(input.description !== undefined && { description: input.description }),
      updatedAt: new Date(),
    })
    .where(eq(teams.id, current.id))
    .returning();
  const changed = Object.keys(input).filter((k) => k !== 'id');
  await recordActivity(ctx, { action: 'team.updated', entityType: 'team', entityId: team.id, metadata: { changed } });
  return presentTeam(team);
}

export async function deleteTeam(ctx: Ctx, id: string) {
  // members:write is what owners and admins (and keys given it) hold: the "admin+" of the issue.
  if (!callerAllows(ctx, 'members:write')) throw forbidden('Deleting a team takes an owner or admin of the org (or a key with `members:write`).');
  const team = await findTeam(ctx, id, true);
  await ctx.db.delete(teams).where(eq(teams.id, team.id));
  await recordActivity(ctx, { action: 'team.deleted', entityType: 'team', entityId: id, metadata: { name: team.name } });
  return { id, deleted: true as const };
}

export async function listTeamMembers(ctx: Ctx, input: PageInput & { id: string }) {
  const team = await findTeam(ctx, input.id);
  return paginate(
    input,
    teamMembers.id,
    (w) => membersQuery(ctx, team.id, w.after).orderBy(desc(teamMembers.id)).limit(w.limit).offset(w.offset),
    (r) => r.tm.id,
    presentMember,
  );
}

export async function addTeamMember(ctx: Ctx, input: { id: string; user_id: string; role: TeamRole }) {
  const team = await findTeam(ctx, input.id, true);
  const member = await orgMember(ctx, input.user_id);
  const tm = await insertTeamMember(ctx, team.id, member.user.id, input.role);
  await recordActivity(ctx, {
    action: 'team.member_added',
    entityType: 'team',
    entityId: team.id,
    metadata: { user_id: member.user.id, role: input.role },
  });
  return presentMember({ tm: tm as typeof teamMembers.$inferSelect, user: member.user, orgRole: member.role });
}

export async function removeTeamMember(ctx: Ctx, input: { id: string; user_id: string }) {
  const team = await findTeam(ctx, input.id, true);
  const [gone] = await ctx.db
    .delete(teamMembers)
    .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, input.user_id)))
    .returning();
  if (!gone) throw notFound('Team member');
  await recordActivity(ctx, { action: 'team.member_removed', entityType: 'team', entityId: team.id, metadata: { user_id: input.user_id } });
  return { id: input.user_id, deleted: true as const };
}
