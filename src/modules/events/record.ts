// Domain events, written in the transaction of the change that caused them (a transactional outbox): the
// dispatcher (dispatch.ts) fans them out to notifications (and webhooks, pilot triggers as those arrive).
// EVENT_TYPES is the one catalog: a capability that records a new type adds it here, with its description.
import { type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { events } from '../../db/schema/billing.ts';
import { newId } from '../../core/ids.ts';

/**
 * NOTIFY channels of new events (payload: the org id, one per org a statement inserted for; migration 0017) and new
 * webhook deliveries (no payload): insert triggers send them (migration 0011), whoever writes the rows; the worker
 * wakes its dispatcher and deliverer on them, and the live streams tell the org's dashboards.
 */
export const EVENTS_CHANNEL = 'opsbase_events';
export const WEBHOOKS_CHANNEL = 'opsbase_webhooks';

export const EVENT_CATALOG = {
  'org.member_added': 'A user joined the org (added by an admin or by accepting an invite). Subject: the user id.',
  'org.member_removed': 'A member was removed from the org. Subject: the user id.',
  'key.created': 'An API key was created. Subject: the key id.',
  'key.revoked': 'An API key was revoked. Subject: the key id.',
  'credits.low': "The org's available credits fell below the low-balance threshold. Subject: the org id.",
  'credits.exhausted': "The org's available credits reached zero. Subject: the org id.",
  'payment.succeeded': 'A payment for a pack of credits or tokens succeeded and was credited. Subject: the payment intent id; data: pack_id, currency, amount, amount_cents, checkout_session (bought on a Stripe checkout page).',
  'plan.changed': "The org's plan changed. Subject: the org id.",
  'task.created': 'A task was created. Subject: the task id; data: number, title, status, priority, assignee.',
  'task.updated': 'A task changed (fields, status, assignee, a claim, archiving). Subject: the task id; data lists what changed.',
  'task.completed': 'A task reached status done. Subject: the task id.',
  'run.queued': 'A task run was queued (its credit held). Subject: the run id; data: task_id, agent_id.',
  'run.started': 'A task run started on a worker. Subject: the run id; data: task_id, agent_id, attempt.',
  'run.succeeded': "A task run succeeded: its credit was committed and its result is on the task. Subject: the run id.",
  'run.failed': 'A task run failed or timed out: its credit was refunded. Subject: the run id; data.reason and message say why.',
  'run.cancelled': 'A task run was cancelled: its credit was refunded. Subject: the run id.',
  'job.failed': 'A job of the public queue was dead-lettered (failed with no attempt left). Subject: the job id.',
  'agent.created': 'An agent was created. Subject: the agent id.',
  'agent.started': 'An agent was started (from paused, error or offline). Subject: the agent id.',
  'agent.paused': 'An agent was paused: stopped by someone, or by its budget. Subject: the agent id; data.reason says why.',
  'agent.offline': 'An agent was taken offline (deleted): its identity no longer works. Subject: the agent id.',
  'document.created': 'A document was created. Subject: the document id; data: title, kind, folder_id, folder (its path), tags, revision.',
  'document.updated': 'A document changed. Subject: the document id; data: title, kind, folder_id, folder, tags, revision, changed (the fields given), new_revision (whether the title or content changed).',
  'document.deleted': 'A document was deleted (alone, or with its folder). Subject: the document id; data: title, folder_id.',
  'agent.budget_alert': "An agent's spend this month reached its budget's alert threshold. Subject: the agent id.",
  'agent.resumed': 'An agent its budget had paused became active again by itself: a new month gave its budget room. Subject: the agent id.',
  'file.created': 'A file was uploaded: a new path, or new content at a known path. Subject: the file id; data: path, name, type, size, version.',
  'record.upserted': 'A workspace record was created or its content changed. Subject: the record id; data: source_product, record_type, source_ref, status (created or updated), revision.',
} as const satisfies Record<string, string>;

export type EventType = keyof typeof EVENT_CATALOG;
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

/**
 * An insert of events for a statement that writes them with the change (a CTE): `rows` selects, in order, the id,
 * org_id, type, subject and data of each.
 */
export const insertEventsSql = (rows: SQL) => sql`insert into events (id, org_id, type, subject, data) ${rows}`;

export async function recordEvent(db: DbOrTx, e: { orgId: string; type: EventType; subject?: string; data?: Record<string, unknown> }) {
  const [row] = await db
    .insert(events)
    .values({ id: newId('event'), orgId: e.orgId, type: e.type, subject: e.subject ?? null, data: e.data ?? {} })
    .returning();
  return row;
}
