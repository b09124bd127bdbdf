// Live views (DESIGN §7): Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY, so a dashboard connected to any
// instance hears what happened on every instance. A stream carries "this changed" signals, never data: the page
// then reads through the ordinary, scoped API, so a stream can never show what its caller may not read.
//   GET /api/v1/streams/queue          `queue` when a job of the caller's org is submitted or changes state (claimed,
//                                      completed, failed, cancelled, retried, requeued);
//                                      `events` when domain events of the org were recorded (job failures, …)
//                                      `fleet` (instance admins) when a worker's counters or liveness changed
//   GET /api/v1/streams/notifications  `notifications` when notifications of the caller's org were made
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { defineOperation, type Operation } from '../core/operation.ts';
import type { AppServices } from '../core/services.ts';
import { EVENTS_CHANNEL } from '../modules/events/record.ts';
import { NOTIFICATIONS_CHANNEL } from '../modules/notifications/service.ts';
import { JOBS_CHANNEL, QUEUE_CHANNEL } from '../modules/queue/wakeups.ts';
import { authenticate } from './auth.ts';
import { openEventStream } from './sse.ts';

interface Client {
  orgId: string;
  /** An instance admin: also hears about the worker fleet. */
  admin: boolean;
  send: (event: string, data: unknown) => void;
}

type Topic = 'queue' | 'notifications';

/** The operations a stream is authorised as: not in the registry (no CLI command, MCP tool or OpenAPI entry). */
const streamOp = (topic: Topic, scope: string): Operation =>
  defineOperation({
    id: `streams.${topic}`,
    method: 'GET',
    path: `/streams/${topic}`,
    summary: `Live ${topic} changes (Server-Sent Events)`,
    scopes: [scope],
    input: z.object({}),
    output: z.object({}),
    handler: async () => ({}),
  }) as unknown as Operation;

const OPS: Record<Topic, Operation> = { queue: streamOp('queue', 'queue:read'), notifications: streamOp('notifications', 'notifications:read') };
/**
 * Workers heartbeat into their row without a NOTIFY (src/modules/workers), so the fleet is the one thing looked at on
 * a timer: one small query per instance every few seconds, and only while an admin watches; a `fleet` signal goes
 * out only when something a person would see changed (counters, stopped, or a heartbeat going quiet).
 */
const FLEET_CHECK_MS = 3_000;
const FLEET_FINGERPRINT = `select coalesce(string_agg(id || ':' || in_flight || ':' || processed || ':' || failed || ':' || (stopped_at is null)
    || ':' || (last_heartbeat_at > now() - interval '15 seconds'), ',' order by id), '') as f
  from workers where stopped_at is null or stopped_at > now() - interval '1 day'`;

class Hub {
  readonly clients: Record<Topic, Set<Client>> = { queue: new Set(), notifications: new Set() };
  private fleetTimer?: NodeJS.Timeout;
  private fleetPrint = '';

  /** Runs the fleet check while at least one admin has a queue stream open. */
  watchFleet(services: AppServices) {
    const admins = () => [...this.clients.queue].filter((c) => c.admin);
    if (this.fleetTimer || admins().length === 0) return;
    const tick = async () => {
      if (admins().length === 0) {
        this.fleetTimer = undefined;
        return;
      }
      try {
        const { rows } = await services.database.pool.query(FLEET_FINGERPRINT);
        if (rows[0].f !== this.fleetPrint) {
          this.fleetPrint = rows[0].f;
          for (const c of admins()) c.send('fleet', {});
        }
      } catch {
        // The database is away: the page shows its own errors on its next read; look again next tick.
      }
      this.fleetTimer = setTimeout(tick, FLEET_CHECK_MS);
      this.fleetTimer.unref();
    };
    this.fleetTimer = setTimeout(tick, FLEET_CHECK_MS);
    this.fleetTimer.unref();
  }

  stop() {
    clearTimeout(this.fleetTimer);
  }

  /** Signals `event` to the clients of `topic` in `orgId`. */
  private tell(topic: Topic, orgId: string, event: string, data: unknown = {}) {
    for (const c of this.clients[topic]) if (c.orgId === orgId) c.send(event, data);
  }

  async start(services: AppServices) {
    // Payload `<org id>:<queue>` (submits, schedule firings, requeues: the claimers' wake-ups).
    await services.listener.on(QUEUE_CHANNEL, (payload) => {
      const [orgId, queue] = payload.split(':');
      this.tell('queue', orgId, 'queue', { queue });
    });
    // The rest carry the org id alone (the triggers of migration 0017).
    await services.listener.on(JOBS_CHANNEL, (orgId) => this.tell('queue', orgId, 'queue'));
    await services.listener.on(EVENTS_CHANNEL, (orgId) => this.tell('queue', orgId, 'events'));
    await services.listener.on(NOTIFICATIONS_CHANNEL, (orgId) => this.tell('notifications', orgId, 'notifications'));
    await services.listener.start().catch(() => services.listener.reconnect());
  }
}

async function open(services: AppServices, hub: Hub, topic: Topic, req: FastifyRequest, reply: FastifyReply) {
  // A browser's EventSource cannot send headers: a session picks its org with `?org=` here instead of X-Org-Id.
  const org = (req.query as { org?: unknown }).org;
  if (typeof org === 'string' && !req.headers['x-org-id']) req.headers['x-org-id'] = org;
  const auth = await authenticate(services, req, OPS[topic]);
  const stream = openEventStream(req, reply);
  // Several signals in a burst (a batch submit) become one: pages refetch once per animation-sized window.
  let queued = new Map<string, unknown>();
  let flush: NodeJS.Timeout | undefined;
  const client: Client = {
    orgId: auth.orgId!,
    admin: auth.principal?.kind === 'session' && auth.principal.instanceAdmin,
    send: (event, data) => {
      queued.set(event, data);
      flush ??= setTimeout(() => {
        flush = undefined;
        for (const [name, payload] of queued) stream.send(name, payload);
        queued = new Map();
      }, 100);
    },
  };
  stream.send('ready', {});
  hub.clients[topic].add(client);
  if (topic === 'queue') hub.watchFleet(services);
  stream.closed.addEventListener('abort', () => {
    clearTimeout(flush);
    hub.clients[topic].delete(client);
  });
  return stream;
}

export function streamsPlugin(services: AppServices) {
  return async (app: FastifyInstance) => {
    const hub = new Hub();
    await hub.start(services);
    const ends = new Set<() => void>();
    for (const topic of ['queue', 'notifications'] as const) {
      app.get(`/api/v1/streams/${topic}`, { schema: { hide: true } }, async (req, reply) => {
        const stream = await open(services, hub, topic, req, reply);
        ends.add(stream.end);
        stream.closed.addEventListener('abort', () => ends.delete(stream.end));
      });
    }
    // Shutdown: end the streams so server.close() does not wait for browsers to hang up.
    app.addHook('preClose', async () => {
      hub.stop();
      for (const end of ends) end();
    });
  };
}
