// An agent's lifecycle: start (active), stop (paused), restart (active again, error cleared), delete (offline: its
// identity stops working at once on every instance, its history and name stay; `start` brings it back).
// Runs (next round) react to these: a paused or offline agent gets no new runs, restart cancels what is running.
import { eq } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import type { AgentStatus } from '../../db/schema/agents.ts';
import { agents } from '../../db/schema/agents.ts';
import { recordActivity } from '../activity/record.ts';
import { recordEvent } from '../events/record.ts';
import { updateAgentKey } from './identity.ts';
import { assertAgentSlot } from './limit.ts';
import { findAgent, presentWithKey } from './service.ts';

/** A person's start, stop, restart or delete: whatever they decide, a budget pause no longer resumes by itself. */
async function setStatus(ctx: Ctx, ref: string, status: AgentStatus, action: string, reason: string | null) {
  const current = await findAgent(ctx, ref, { forUpdate: true });
  // Back from offline it counts against the plan's agents again.
  if (current.status === 'offline' && status !== 'offline') await assertAgentSlot(ctx);
  const [row] = await ctx.db.update(agents).set({ status, statusReason: reason, budgetPausedAt: null, updatedAt: new Date() }).where(eq(agents.id, current.id)).returning();
  // Going offline disables the identity; coming back from offline enables it.
  if (status === 'offline' && current.status !== 'offline') await updateAgentKey(ctx, row.id, { active: false });
  if (current.status === 'offline' && status !== 'offline') await updateAgentKey(ctx, row.id, { active: true });
  await recordActivity(ctx, { action, entityType: 'agent', entityId: row.id, metadata: { from: current.status, to: status, ...(reason && { reason }) } });
  return { before: current, row };
}

export async function startAgent(ctx: Ctx, ref: string, note?: string) {
  const { before, row } = await setStatus(ctx, ref, 'active', 'agent.started', note ?? null);
  if (before.status !== 'active') {
    await recordEvent(ctx.db, { orgId: requireOrg(ctx), type: 'agent.started', subject: row.id, data: { agent_id: row.id, name: row.name, from: before.status } });
  }
  return presentWithKey(ctx, row);
}

export async function stopAgent(ctx: Ctx, ref: string, note?: string) {
  const reason = note ?? 'stopped';
  const { before, row } = await setStatus(ctx, ref, 'paused', 'agent.stopped', reason);
  if (before.status !== 'paused') {
    await recordEvent(ctx.db, { orgId: requireOrg(ctx), type: 'agent.paused', subject: row.id, data: { agent_id: row.id, name: row.name, reason } });
  }
  return presentWithKey(ctx, row);
}

export async function restartAgent(ctx: Ctx, ref: string, note?: string) {
  const { row } = await setStatus(ctx, ref, 'active', 'agent.restarted', note ?? null);
  return presentWithKey(ctx, row);
}

export async function deleteAgent(ctx: Ctx, ref: string) {
  const { before, row } = await setStatus(ctx, ref, 'offline', 'agent.deleted', 'deleted');
  if (before.status !== 'offline') {
    await recordEvent(ctx.db, { orgId: requireOrg(ctx), type: 'agent.offline', subject: row.id, data: { agent_id: row.id, name: row.name } });
  }
  return presentWithKey(ctx, row);
}
