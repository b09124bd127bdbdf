import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, Timestamp } from '../../core/schemas.ts';
import { ROLES } from '../../db/schema/orgs.ts';
import { TEAM_INVITE_STATUSES, TEAM_ROLES } from '../../db/schema/teams.ts';
import { Email } from '../users/schemas.ts';
import * as invites from './invites.ts';
import * as teams from './service.ts';

const TeamRole = z.enum(TEAM_ROLES);

export const Team = z
  .object({
    id: z.string(),
    org_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    created_by: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    member_count: z.number().int().optional(),
  })
  .meta({ id: 'Team' });

export const TeamMember = z
  .object({
    user_id: z.string(),
    username: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: TeamRole.describe('Role in the team'),
    org_role: z.enum(ROLES).describe('Role in the org'),
    joined_at: Timestamp,
  })
  .meta({ id: 'TeamMember' });

export const TeamInvite = z
  .object({
    id: z.string(),
    team_id: z.string(),
    email: z.string(),
    role: TeamRole,
    status: z.enum(TEAM_INVITE_STATUSES).describe('`added`: already in the org, joined at once; `pending`: waits on an org invite'),
    org_invite_id: z.string().nullable(),
    invited_by: z.string().nullable(),
    expires_at: Timestamp.nullable(),
    accepted_at: Timestamp.nullable(),
    created_at: Timestamp,
  })
  .meta({ id: 'TeamInvite' });

const Name = z.string().trim().min(1).max(100);
const Description = z.string().trim().max(2000).nullish();
const TeamId = IdParam('Team');
const columns = ['id', 'name', 'member_count', 'description'];
const memberColumns = ['user_id', 'username', 'email', 'role', 'org_role'];

export const listTeams = defineOperation({
  id: 'teams.list',
  method: 'GET',
  path: '/teams',
  summary: 'Teams of the org with their member counts, newest first',
  scopes: ['teams:read'],
  input: PageInput.extend({ name: z.string().max(100).optional().describe('Part of the name (any case)') }),
  output: listOf(Team),
  cli: { columns },
  handler: (ctx, input) => teams.listTeams(ctx, input),
});

export const createTeam = defineOperation({
  id: 'teams.create',
  method: 'POST',
  path: '/teams',
  summary: 'Create a team (the user creating it becomes its owner)',
  scopes: ['teams:write'],
  input: z.object({ name: Name, description: Description }),
  output: Team,
  cli: { args: ['name'], columns },
  handler: (ctx, input) => teams.createTeam(ctx, input),
});

export const getTeam = defineOperation({
  id: 'teams.get',
  method: 'GET',
  path: '/teams/:id',
  summary: 'A team with its members',
  scopes: ['teams:read'],
  input: z.object({ id: TeamId }),
  output: Team.extend({ members: z.array(TeamMember) }).meta({ id: 'TeamWithMembers' }),
  handler: (ctx, input) => teams.getTeam(ctx, input.id),
});

export const updateTeam = defineOperation({
  id: 'teams.update',
  method: 'PATCH',
  path: '/teams/:id',
  summary: 'Rename a team or change its description',
  scopes: ['teams:write'],
  input: z.object({ id: TeamId, name: Name.optional(), description: Description }),
  output: Team,
  cli: { columns },
  handler: (ctx, input) => teams.updateTeam(ctx, input),
});

export const deleteTeam = defineOperation({
  id: 'teams.delete',
  method: 'DELETE',
  path: '/teams/:id',
  summary: 'Delete a team (owners and admins; its members stay in the org)',
  scopes: ['teams:write'],
  input: z.object({ id: TeamId }),
  output: Deleted,
  handler: (ctx, input) => teams.deleteTeam(ctx, input.id),
});

export const listTeamMembers = defineOperation({
  id: 'teams.members.list',
  method: 'GET',
  path: '/teams/:id/members',
  summary: "A team's members with their roles",
  scopes: ['teams:read'],
  input: PageInput.extend({ id: TeamId }),
  output: listOf(TeamMember),
  cli: { columns: memberColumns },
  handler: (ctx, input) => teams.listTeamMembers(ctx, input),
});

export const addTeamMember = defineOperation({
  id: 'teams.members.add',
  method: 'POST',
  path: '/teams/:id/members',
  summary: 'Add a member of the org to a team',
  scopes: ['teams:write'],
  input: z.object({
    id: TeamId,
    user_id: z.string().min(1).max(64).describe('A user who is a member of this org'),
    role: TeamRole.default('member'),
  }),
  output: TeamMember,
  cli: { args: ['id', 'user_id'], columns: memberColumns },
  handler: (ctx, input) => teams.addTeamMember(ctx, input),
});

export const removeTeamMember = defineOperation({
  id: 'teams.members.remove',
  method: 'DELETE',
  path: '/teams/:id/members/:user_id',
  summary: 'Take a member out of a team (they stay in the org)',
  scopes: ['teams:write'],
  input: z.object({ id: TeamId, user_id: z.string().min(1).max(64) }),
  output: Deleted,
  handler: (ctx, input) => teams.removeTeamMember(ctx, input),
});

export const listTeamInvites = defineOperation({
  id: 'teams.invites.list',
  method: 'GET',
  path: '/teams/:id/invites',
  summary: "A team's invites, newest first",
  scopes: ['teams:read'],
  input: PageInput.extend({ id: TeamId, status: z.enum(TEAM_INVITE_STATUSES).optional() }),
  output: listOf(TeamInvite),
  cli: { columns: ['id', 'email', 'role', 'status', 'expires_at'] },
  handler: (ctx, input) => invites.listTeamInvites(ctx, input),
});

export const createTeamInvite = defineOperation({
  id: 'teams.invites.create',
  method: 'POST',
  path: '/teams/:id/invites',
  summary: 'Invite someone to a team by email',
  description:
    'A member of the org joins the team at once (status `added`) and is told by email. Anyone else gets an org invite ' +
    '(as orgs.invites.create: emailed, valid 7 days, its token shown once here) and joins the team on accepting it; ' +
    'that takes an owner or admin.',
  scopes: ['teams:write'],
  input: z.object({ id: TeamId, email: Email, role: TeamRole.default('member') }),
  output: TeamInvite.extend({ token: z.string().nullable().describe('The org invite token when a new org invite was made (shown once)') }),
  cli: { args: ['id', 'email'], columns: ['id', 'email', 'status', 'org_invite_id', 'token'] },
  handler: (ctx, input) => invites.createTeamInvite(ctx, input),
});

// Registry-walking tests act on one team in this order: members are taken out before they are added back, and the
// team is deleted last.
export const teamOperations = [
  listTeams,
  createTeam,
  getTeam,
  updateTeam,
  listTeamMembers,
  removeTeamMember,
  addTeamMember,
  listTeamInvites,
  createTeamInvite,
  deleteTeam,
];
