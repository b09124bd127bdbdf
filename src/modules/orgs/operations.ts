import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Deleted, IdParam, Timestamp } from '../../core/schemas.ts';
import { ROLES } from '../../db/schema/orgs.ts';
import { Email } from '../users/schemas.ts';
import * as orgs from './service.ts';

const Role = z.enum(ROLES);
const Slug = z
  .string()
  .min(2)
  .max(60)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes');

export const Org = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    avatar_url: z.string().nullable(),
    plan: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    member_count: z.number().int().optional(),
    role: Role.nullable().optional().describe("The caller's role (null for an API key)"),
  })
  .meta({ id: 'Org' });

const Member = z
  .object({ user_id: z.string(), username: z.string(), email: z.string(), name: z.string().nullable(), role: Role, joined_at: Timestamp })
  .meta({ id: 'Member' });

const Invite = z
  .object({
    id: z.string(),
    org_id: z.string(),
    email: z.string(),
    role: Role,
    invited_by: z.string().nullable(),
    expires_at: Timestamp,
    accepted_at: Timestamp.nullable(),
    created_at: Timestamp,
  })
  .meta({ id: 'Invite' });

const orgColumns = ['id', 'name', 'slug', 'plan', 'role'];
const memberColumns = ['user_id', 'username', 'email', 'role', 'joined_at'];
const id = IdParam('Org');

export const createOrg = defineOperation({
  id: 'orgs.create',
  method: 'POST',
  path: '/orgs',
  summary: 'Create an org (you become its owner)',
  auth: 'user',
  scopes: [],
  input: z.object({ name: z.string().trim().min(1).max(100), slug: Slug.optional() }),
  output: Org,
  cli: { args: ['name'], columns: orgColumns },
  handler: (ctx, input) => orgs.createOrg(ctx, input, ctx.userId!),
});

export const listOrgs = defineOperation({
  id: 'orgs.list',
  method: 'GET',
  path: '/orgs',
  summary: 'List your orgs',
  auth: 'user',
  scopes: [],
  input: PageInput,
  output: listOf(Org),
  cli: { columns: orgColumns },
  handler: (ctx, input) => orgs.listMyOrgs(ctx, input),
});

export const getOrg = defineOperation({
  id: 'orgs.get',
  method: 'GET',
  path: '/orgs/:id',
  summary: 'Get an org (with its member count)',
  orgParam: 'id',
  scopes: ['org:read'],
  input: z.object({ id }),
  output: Org,
  cli: { columns: [...orgColumns, 'member_count'] },
  handler: (ctx) => orgs.getOrg(ctx),
});

export const updateOrg = defineOperation({
  id: 'orgs.update',
  method: 'PATCH',
  path: '/orgs/:id',
  summary: 'Rename an org, change its slug or avatar (admins)',
  orgParam: 'id',
  scopes: ['org:write'],
  input: z.object({ id, name: z.string().trim().min(1).max(100).optional(), slug: Slug.optional(), avatar_url: z.url().max(2000).nullish() }),
  output: Org,
  cli: { columns: orgColumns },
  handler: (ctx, input) => orgs.updateOrg(ctx, input),
});

export const deleteOrg = defineOperation({
  id: 'orgs.delete',
  method: 'DELETE',
  path: '/orgs/:id',
  summary: 'Delete an org (owners; its keys stop working at once)',
  orgParam: 'id',
  scopes: ['org:write'],
  input: z.object({ id }),
  output: Deleted,
  handler: (ctx) => orgs.deleteOrg(ctx),
});

const userId = IdParam('User');

export const listMembers = defineOperation({
  id: 'orgs.members.list',
  method: 'GET',
  path: '/org/members',
  summary: "List the current org's members",
  scopes: ['members:read'],
  input: PageInput,
  output: listOf(Member),
  cli: { columns: memberColumns },
  handler: (ctx, input) => orgs.listMembers(ctx, input),
});

export const addMember = defineOperation({
  id: 'orgs.members.add',
  method: 'POST',
  path: '/org/members',
  summary: 'Add an existing user to the org (admins)',
  scopes: ['members:write'],
  input: z.object({ user_id: userId, role: Role.default('member') }),
  output: Member,
  cli: { args: ['user_id'], columns: memberColumns },
  handler: (ctx, input) => orgs.addMember(ctx, input),
});

export const updateMember = defineOperation({
  id: 'orgs.members.update',
  method: 'PATCH',
  path: '/org/members/:user_id',
  summary: "Change a member's role (admins; only owners grant or remove owner; the last owner stays)",
  scopes: ['members:write'],
  input: z.object({ user_id: userId, role: Role }),
  output: Member,
  cli: { columns: memberColumns },
  handler: (ctx, input) => orgs.updateMember(ctx, input),
});

export const removeMember = defineOperation({
  id: 'orgs.members.remove',
  method: 'DELETE',
  path: '/org/members/:user_id',
  summary: 'Remove a member (admins; the last owner cannot be removed)',
  scopes: ['members:write'],
  input: z.object({ user_id: userId }),
  output: Deleted,
  handler: (ctx, input) => orgs.removeMember(ctx, input.user_id),
});

export const createInvite = defineOperation({
  id: 'orgs.invites.create',
  method: 'POST',
  path: '/org/invites',
  summary: 'Invite someone by email (valid 7 days; the token is shown once and emailed)',
  scopes: ['members:write'],
  input: z.object({ email: Email, role: Role.default('member') }),
  output: Invite.extend({ token: z.string().describe('Shown once; the invitee accepts with it') }),
  cli: { args: ['email'], columns: ['id', 'email', 'role', 'expires_at', 'token'] },
  handler: (ctx, input) => orgs.createInvite(ctx, input),
});

export const listInvites = defineOperation({
  id: 'orgs.invites.list',
  method: 'GET',
  path: '/org/invites',
  summary: 'List pending invites',
  scopes: ['members:read'],
  input: PageInput,
  output: listOf(Invite),
  cli: { columns: ['id', 'email', 'role', 'expires_at'] },
  handler: (ctx, input) => orgs.listInvites(ctx, input),
});

export const acceptInvite = defineOperation({
  id: 'orgs.invites.accept',
  method: 'POST',
  path: '/invites/accept',
  summary: 'Accept an invite (logged in as the invited email)',
  auth: 'user',
  scopes: [],
  status: 200,
  input: z.object({ token: z.string().min(1).max(200) }),
  output: Org,
  cli: { columns: orgColumns },
  handler: (ctx, input) => orgs.acceptInvite(ctx, input.token),
});

export const orgOperations = [
  createOrg,
  listOrgs,
  getOrg,
  updateOrg,
  deleteOrg,
  listMembers,
  addMember,
  updateMember,
  removeMember,
  createInvite,
  listInvites,
  acceptInvite,
];
