// Teams (issue 12): groups of the org's members. A team member must be a member of the org: the composite foreign
// key on (org_id, user_id) makes that a fact of the database, and removes the user from every team of the org when
// they leave it. A team invite for someone outside the org rides on an org invite; accepting it puts them in.
import { sql } from 'drizzle-orm';
import { foreignKey, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { orgInvites, orgMembers, orgs } from './orgs.ts';
import { users } from './users.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const TEAM_ROLES = ['owner', 'admin', 'member'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

export const teams = pgTable(
  'teams',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    createdBy: text('created_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('teams_org_name_key').on(t.orgId, sql`lower(${t.name})`), index('teams_org_idx').on(t.orgId, t.id)],
);

export const teamMembers = pgTable(
  'team_members',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id').notNull(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: TEAM_ROLES }).notNull().default('member'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('team_members_team_user_key').on(t.teamId, t.userId),
    index('team_members_org_user_idx').on(t.orgId, t.userId),
    foreignKey({ name: 'team_members_org_member_fk', columns: [t.orgId, t.userId], foreignColumns: [orgMembers.orgId, orgMembers.userId] }).onDelete(
      'cascade',
    ),
  ],
);

export const TEAM_INVITE_STATUSES = ['pending', 'accepted', 'added', 'revoked'] as const;

export const teamInvites = pgTable(
  'team_invites',
  {
    id: text('id').primaryKey(),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id, { onDelete: 'cascade' }),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: text('role', { enum: TEAM_ROLES }).notNull().default('member'),
    /** `pending`: waits on this org invite; `added`: the person was already in the org and joined at once. */
    status: text('status', { enum: TEAM_INVITE_STATUSES }).notNull(),
    orgInviteId: text('org_invite_id').references(() => orgInvites.id, { onDelete: 'set null' }),
    invitedBy: text('invited_by'),
    acceptedAt: ts('accepted_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('team_invites_team_idx').on(t.teamId, t.id), index('team_invites_org_invite_idx').on(t.orgInviteId)],
);
