// Assignees are written `me`, `user:<id>` or `agent:<name-or-id>` on every face and stored as (type, id).
import { and, eq, or } from 'drizzle-orm';
import { agents } from '../../db/schema/agents.ts';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { AppError, notFound, unprocessable } from '../../core/errors.ts';
import { orgMembers } from '../../db/schema/orgs.ts';
import type { AssigneeType } from '../../db/schema/tasks.ts';

export interface Assignee {
  type: AssigneeType;
  id: string;
}

const FORM = /^(user|agent):([A-Za-z0-9_.-]{1,64})$/;

/** Parses the written form; `me` is the calling user (an API key is no user, so it must name one). */
export function parseAssignee(ctx: Ctx, value: string, field = 'assignee'): Assignee {
  if (value === 'me') {
    if (!ctx.userId) {
      throw unprocessable('`me` means the signed-in user, and an API key is not one: name the assignee as `user:<id>` or `agent:<id>`.', {
        field,
      });
    }
    return { type: 'user', id: ctx.userId };
  }
  const m = FORM.exec(value);
  if (!m) throw new AppError('invalid_request', `${field} must be \`me\`, \`user:<id>\` or \`agent:<name-or-id>\`.`, { field, value });
  return { type: m[1] as AssigneeType, id: m[2] };
}

/**
 * A user assignee must be a member of the org, an agent one an agent of it (else 404, as for any object of another
 * org). An agent named by its name is stored by its id, so renaming it keeps its tasks.
 */
export async function validateAssignee(ctx: Ctx, a: Assignee): Promise<Assignee> {
  if (a.type === 'agent') {
    const [agent] = await ctx.db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.orgId, requireOrg(ctx)), or(eq(agents.id, a.id), eq(agents.name, a.id))));
    if (!agent) throw notFound('Assignee (agent)');
    return { type: 'agent', id: agent.id };
  }
  if (a.type === 'user') {
    const [m] = await ctx.db
      .select({ id: orgMembers.id })
      .from(orgMembers)
      .where(and(eq(orgMembers.orgId, requireOrg(ctx)), eq(orgMembers.userId, a.id)));
    if (!m) throw notFound('Assignee (user)');
  }
  return a;
}

export const writeAssignee = (a: Assignee) => `${a.type}:${a.id}`;
