// Team invites by email. Someone already in the org joins the team at once (status `added`) and is told by email;
// someone outside it gets an org invite (orgs.invites.create: the same token, mail and expiry) that carries the team,
// and accepting that org invite puts them in the team (joinInvitedTeams, called by orgs.invites.accept). Inviting
// an outsider is inviting them into the org, so it takes what an org invite takes: `members:write` (an admin).
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { conflict, forbidden } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { type PageInput, paginate } from '../../core/pagination.ts';
import { iso } from '../../core/schemas.ts';
import { callerAllows } from '../../core/scopes.ts';
import { orgInvites, orgMembers, orgs } from '../../db/schema/orgs.ts';
import { type TeamRole, teamInvites } from '../../db/schema/teams.ts';
import { users } from '../../db/schema/users.ts';
import { recordActivity } from '../activity/record.ts';
import { queueEmail } from '../notifications/outbox.ts';
import { createInvite } from '../orgs/service.ts';
import { findTeam, insertTeamMember } from './service.ts';

type InviteRow = typeof teamInvites.$inferSelect;

function presentTeamInvite(i: InviteRow, expiresAt: Date | null = null) {
  return {
    id: i.id,
    team_id: i.teamId,
    email: i.email,
    role: i.role,
    status: i.status,
    org_invite_id: i.orgInviteId,
    invited_by: i.invitedBy,
    expires_at: iso(expiresAt),
    accepted_at: iso(i.acceptedAt),
    created_at: i.createdAt.toISOString(),
  };
}

export async function createTeamInvite(ctx: Ctx, input: { id: string; email: string; role: TeamRole }) {
  const orgId = requireOrg(ctx);
  const team = await findTeam(ctx, input.id, true);
  const [org] = await ctx.db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, orgId));
  const [member] = await ctx.db
    .select({ userId: users.id })
    .from(users)
    .innerJoin(orgMembers, and(eq(orgMembers.userId, users.id), eq(orgMembers.orgId, orgId)))
    .where(sql`lower(${users.email}) = lower(${input.email})`);

  if (member) {
    if (!(await insertTeamMember(ctx, team.id, member.userId, input.role, true))) {
      throw conflict('This person is already a member of the team.', { field: 'email' });
    }
    const [invite] = await ctx.db
      .insert(teamInvites)
      .values({
        id: newId('teamInvite'),
        orgId,
        teamId: team.id,
        email: input.email,
        role: input.role,
        status: 'added',
        invitedBy: ctx.actorId,
        acceptedAt: new Date(),
      })
      .returning();
    await queueEmail(ctx, {
      to: input.email,
      subject: `You were added to the team ${team.name} in ${org.name}`,
      text: `You are now a member of the team ${team.name} in ${org.name} on Opsbase, as ${input.role}.\n`,
    });
    await recordActivity(ctx, {
      action: 'team.invite_created',
      entityType: 'team',
      entityId: team.id,
      metadata: { invite_id: invite.id, status: 'added', user_id: member.userId },
    });
    return { ...presentTeamInvite(invite), token: null };
  }

  if (!callerAllows(ctx, 'members:write')) {
    throw forbidden('This email is not a member of the org: inviting them into it takes an owner or admin (or a key with `members:write`).');
  }
  const [pendingHere] = await ctx.db
    .select({ id: teamInvites.id })
    .from(teamInvites)
    .where(and(eq(teamInvites.teamId, team.id), eq(teamInvites.status, 'pending'), sql`lower(${teamInvites.email}) = lower(${input.email})`));
  if (pendingHere) throw conflict('An invite to this team is already pending for this email.', { field: 'email', invite_id: pendingHere.id });

  // An org invite already on its way carries the team too; otherwise a new one is made and emailed.
  const [open] = await ctx.db
    .select({ id: orgInvites.id, expiresAt: orgInvites.expiresAt })
    .from(orgInvites)
    .where(
      and(
        eq(orgInvites.orgId, orgId),
        sql`lower(${orgInvites.email}) = lower(${input.email})`,
        isNull(orgInvites.acceptedAt),
        isNull(orgInvites.revokedAt),
        gt(orgInvites.expiresAt, new Date()),
      ),
    );
  let orgInvite: { id: string; expiresAt: Date; token: string | null };
  if (open) {
    orgInvite = { ...open, token: null };
    await queueEmail(ctx, {
      to: input.email,
      subject: `You are invited to the team ${team.name} in ${org.name}`,
      text: `When you accept your pending invite to ${org.name} (sent earlier), you will also join the team ${team.name}.\n`,
    });
  } else {
    const made = await createInvite(ctx, { email: input.email, role: 'member' }, `Accepting also puts you in the team ${team.name}.`);
    orgInvite = { id: made.id, expiresAt: new Date(made.expires_at), token: made.token };
  }
  const [invite] = await ctx.db
    .insert(teamInvites)
    .values({
      id: newId('teamInvite'),
      orgId,
      teamId: team.id,
      email: input.email,
      role: input.role,
      status: 'pending',
      orgInviteId: orgInvite.id,
      invitedBy: ctx.actorId,
    })
    .returning();
  await recordActivity(ctx, {
    action: 'team.invite_created',
    entityType: 'team',
    entityId: team.id,
    metadata: { invite_id: invite.id, status: 'pending', org_invite_id: orgInvite.id },
  });
  return { ...presentTeamInvite(invite, orgInvite.expiresAt), token: orgInvite.token };
}

export async function listTeamInvites(ctx: Ctx, input: PageInput & { id: string; status?: InviteRow['status'] }) {
  const team = await findTeam(ctx, input.id);
  return paginate(
    input,
    teamInvites.id,
    (w) =>
      ctx.db
        .select({ invite: teamInvites, expiresAt: orgInvites.expiresAt })
        .from(teamInvites)
        .leftJoin(orgInvites, eq(orgInvites.id, teamInvites.orgInviteId))
        .where(
          and(
            eq(teamInvites.teamId, team.id),
            eq(teamInvites.orgId, requireOrg(ctx)),
            input.status ? eq(teamInvites.status, input.status) : undefined,
            w.after,
          ),
        )
        .orderBy(desc(teamInvites.id))
        .limit(w.limit)
        .offset(w.offset),
    (r) => r.invite.id,
    (r) => presentTeamInvite(r.invite, r.expiresAt),
  );
}

/**
 * Called by orgs.invites.accept in its transaction, once the user is a member of the org: every team the org invite
 * carried takes them in (a team deleted meanwhile took its invites with it).
 */
export async function joinInvitedTeams(ctx: Ctx, orgInviteId: string, userId: string) {
  const pending = await ctx.db
    .select()
    .from(teamInvites)
    .where(and(eq(teamInvites.orgInviteId, orgInviteId), eq(teamInvites.status, 'pending')))
    .for('update');
  for (const invite of pending) {
    await insertTeamMember(ctx, invite.teamId, userId, invite.role, true);
    await ctx.db.update(teamInvites).set({ status: 'accepted', acceptedAt: new Date() }).where(eq(teamInvites.id, invite.id));
    await recordActivity(ctx, {
      action: 'team.invite_accepted',
      entityType: 'team',
      entityId: invite.teamId,
      metadata: { invite_id: invite.id, user_id: userId },
    });
  }
}
