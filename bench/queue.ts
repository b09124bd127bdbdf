// `npm run bench -- queue` (issue 4): on one embedded PostgreSQL (fresh temp dir, `opsbase serve` in a child
// process), in one run:
//   (a) the baseline, a job queue in raw SQL on `pg` in this process (no HTTP, no Opsbase code, no pg-boss): pg-boss
//       12's job table, indexes and statements (the baseline until pg-boss left the stack) reproduced as plain SQL —
//       insert 20,000 jobs (batches of 1,000), then claim (`UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`) +
//       complete (`UPDATE … WHERE id IN (unnest(…))`) them in batches of 100 with 4 concurrent loops — jobs/s over both
//       phases. The same SQL work per job as the library did, so the ratio stays comparable with earlier runs;
//   (b) the same 20,000 jobs through the HTTP API: POST /queue/jobs (batches of 1,000), then 4 concurrent claimers
//       POST /queue/claim (batch_size 100) + POST /queue/complete — jobs/s over both phases;
//   (c) submit → claim latency, p50 / p99, with one idle claimer long-polling (wait_seconds 20) and one job at a time;
//   (d) webhook deliveries/s to a local receiver (target >= 500/s; left out of the ratio): the server is started with
//       OPSBASE_ALLOW_PRIVATE_NETWORK=true and an endpoint (event types `*`) pointing at an HTTP receiver in this
//       process on 127.0.0.1 (answers 204; checks the Standard Webhooks signature of a sample). --deliveries events
//       (default 5,000) are inserted for its org and fanned out by the real dispatcher (dispatchEvents), then timed:
//       the real delivery pass (deliverDue, as the worker's loop runs it) on services opened in this process on the
//       same database, until every delivery has succeeded. One uncounted pass of 200 deliveries first.
// Each part runs once uncounted on 1,000 jobs first (connections, JIT, plans); then (a) and (b) alternate for
// --rounds rounds (default 3) and each keeps its best, so a burst of other work on the machine skews neither. CPU per
// job of PostgreSQL, the server and this process is printed too (from /proc): it holds steady under such bursts.
// Last line: `ratio queue: <b/a>`. Targets: b/a >= 0.6, latency p50 < 50 ms.
// Options: --jobs N (default 20000), --rounds N, --samples N (latency samples, default 200), --deliveries N (default 5000).
import { createServer, type IncomingMessage } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { and, eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { closeServices, openServices } from '../src/app.ts';
import { readConfig } from '../src/config.ts';
import { newId } from '../src/core/ids.ts';
import type { AppServices } from '../src/core/services.ts';
import { events } from '../src/db/schema/billing.ts';
import { webhookDeliveries } from '../src/db/schema/webhooks.ts';
import { createLogger } from '../src/http/logger.ts';
import { dispatchEvents } from '../src/modules/events/dispatch.ts';
import { deliverDue } from '../src/modules/webhooks/deliver.ts';
import { api, cleanUp, cleanUpOnSignals, createTenant, type Opsbase, onCleanup, sleep, startOpsbase, treeCpu } from './lib/opsbase.ts';

const RATIO_TARGET = 0.6;
const P50_TARGET_MS = 50;
const INSERT_BATCH = 1000;
const CLAIM_BATCH = 100;
const CLAIMERS = 4;
const DELIVERIES_TARGET = 500;
const WEBHOOK_WARMUP = 200;
const EVENT_INSERT_BATCH = 1000;
/** Every SIGNATURE_EVERY-th request the receiver gets has its signature verified. */
const SIGNATURE_EVERY = 25;

interface Throughput {
  label: string;
  jobs: number;
  submitMs: number;
  drainMs: number;
  /** CPU per job in µs: the Opsbase server process, the PostgreSQL under it, and this process (HTTP or SQL client). */
  cpu?: { server: number; pg: number; bench: number };
}

/** Runs `fn` and adds the CPU each process spent on it, per job. */
async function withCpu(serverPid: number, fn: () => Promise<Throughput>): Promise<Throughput> {
  const before = treeCpu(serverPid);
  const mine = process.cpuUsage();
  const t = await fn();
  const used = process.cpuUsage(mine);
  const after = treeCpu(serverPid);
  const per = (ms: number) => (ms * 1000) / t.jobs;
  if (before && after) {
    t.cpu = {
      server: per(after.self - before.self),
      pg: per(Math.max(0, after.children - before.children)),
      bench: (used.user + used.system) / t.jobs,
    };
  }
  return t;
}

const rate = (jobs: number, ms: number) => (jobs * 1000) / ms;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const payloadOf = (n: number) => ({ n, note: 'benchmark job' });

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

// ---- (a) raw SQL on pg --------------------------------------------------------------------------------------

// pg-boss 12's job table (one queue's partition, unpartitioned here) and the indexes it creates for a queue.
const BASELINE_TABLE = `
do $$ begin
  create type bench_baseline_state as enum ('created', 'retry', 'active', 'completed', 'cancelled', 'failed');
exception when duplicate_object then null; end $$;
create table if not exists bench_baseline_job (
  id uuid not null default gen_random_uuid(), name text not null, priority integer not null default 0, data jsonb,
  state bench_baseline_state not null default 'created', retry_limit integer not null default 2, retry_count integer not null default 0,
  retry_delay integer not null default 0, retry_backoff boolean not null default false, retry_delay_max integer,
  expire_seconds integer not null default 900, deletion_seconds integer not null default 604800, singleton_key text,
  singleton_on timestamp without time zone, start_after timestamptz not null default now(),
  created_on timestamptz not null default now(), started_on timestamptz, completed_on timestamptz,
  keep_until timestamptz not null default now() + interval '14 days', output jsonb, dead_letter text, policy text,
  primary key (name, id));
create unique index if not exists bench_baseline_i1 on bench_baseline_job (name, coalesce(singleton_key, '')) where state = 'created' and policy = 'short';
create unique index if not exists bench_baseline_i2 on bench_baseline_job (name, coalesce(singleton_key, '')) where state = 'active' and policy = 'singleton';
create unique index if not exists bench_baseline_i3 on bench_baseline_job (name, state, coalesce(singleton_key, '')) where state <= 'active' and policy = 'stately';
create unique index if not exists bench_baseline_i4 on bench_baseline_job (name, singleton_on, coalesce(singleton_key, '')) where state <> 'cancelled' and singleton_on is not null;
create index if not exists bench_baseline_i5 on bench_baseline_job (name, start_after) include (priority, created_on, id) where state < 'active'`;

async function rawSql(pool: pg.Pool, queue: string, jobs: number): Promise<Throughput> {
  const submitMs = await timed(async () => {
    for (let i = 0; i < jobs; i += INSERT_BATCH) {
      const batch = Array.from({ length: Math.min(INSERT_BATCH, jobs - i) }, (_, k) => ({ data: payloadOf(i + k) }));
      await pool.query(
        `insert into bench_baseline_job (id, name, data, priority, start_after, singleton_key, expire_seconds, keep_until, policy)
         select coalesce(id, gen_random_uuid()), $1, data, coalesce(priority, 0), coalesce("startAfter", now()), "singletonKey",
           coalesce("expireInSeconds", 900), coalesce("keepUntil", now() + interval '14 days'), 'standard'
         from json_to_recordset($2::json) as x (id uuid, priority integer, data jsonb, "startAfter" timestamptz,
           "singletonKey" text, "expireInSeconds" integer, "keepUntil" timestamptz)
         on conflict do nothing`,
        [queue, JSON.stringify(batch)],
      );
    }
  });
  let done = 0;
  const drainMs = await timed(async () => {
    await Promise.all(
      Array.from({ length: CLAIMERS }, async () => {
        for (;;) {
          const { rows } = await pool.query<{ id: string }>(
            `with next as (
               select id from bench_baseline_job where name = $1 and state < 'active' and start_after < now()
               order by priority desc, created_on, id limit $2 for update skip locked)
             update bench_baseline_job j set state = 'active', started_on = now(),
               retry_count = case when started_on is not null then retry_count + 1 else retry_count end
             from next where name = $1 and j.id = next.id
             returning j.id, name, data, expire_seconds`,
            [queue, CLAIM_BATCH],
          );
          if (rows.length === 0) return;
          await pool.query(
            `with results as (update bench_baseline_job set completed_on = now(), state = 'completed', output = $3::jsonb
               where name = $1 and id in (select unnest($2::uuid[])) and state = 'active' returning *)
             select count(*) from results`,
            [queue, rows.map((r) => r.id), null],
          );
          done += rows.length;
        }
      }),
    );
  });
  if (done !== jobs) throw new Error(`raw SQL: ${done} of ${jobs} jobs completed`);
  return { label: '(a) raw SQL on pg', jobs, submitMs, drainMs };
}

// ---- (b) the HTTP API ----------------------------------------------------------------------------------------

async function throughHttp(base: string, headers: Record<string, string>, queue: string, jobs: number): Promise<Throughput> {
  const submitMs = await timed(async () => {
    for (let i = 0; i < jobs; i += INSERT_BATCH) {
      const batch = Array.from({ length: Math.min(INSERT_BATCH, jobs - i) }, (_, k) => ({ payload: payloadOf(i + k) }));
      await api(base, 'POST', '/api/v1/queue/jobs', { queue, task_type: 'bench', jobs: batch }, headers);
    }
  });
  let done = 0;
  const drainMs = await timed(async () => {
    await Promise.all(
      Array.from({ length: CLAIMERS }, async (_, c) => {
        const worker_id = `bench-${c}`;
        for (;;) {
          const got = await api(base, 'POST', '/api/v1/queue/claim', { worker_id, queue, batch_size: CLAIM_BATCH, lease_seconds: 60 }, headers);
          if (got.data.length === 0) return;
          const res = await api(
            base,
            'POST',
            '/api/v1/queue/complete',
            { worker_id, jobs: got.data.map((j: { id: string; payload: { n: number } }) => ({ id: j.id, result: { n: j.payload.n } })) },
            headers,
          );
          if (res.completed !== got.data.length) throw new Error(`complete: ${JSON.stringify(res).slice(0, 500)}`);
          done += res.completed;
        }
      }),
    );
  });
  if (done !== jobs) throw new Error(`HTTP API: ${done} of ${jobs} jobs completed`);
  return { label: '(b) HTTP API', jobs, submitMs, drainMs };
}

// ---- (c) submit → claim latency --------------------------------------------------------------------------------

async function latency(base: string, headers: Record<string, string>, samples: number): Promise<number[]> {
  const queue = 'latency';
  await api(base, 'POST', '/api/v1/queue/jobs', { queue, task_type: 'warm' }, headers);
  await api(base, 'POST', '/api/v1/queue/claim', { worker_id: 'warm', queue, batch_size: 10 }, headers);

  const received = new Map<number, number>();
  let wake: (() => void) | undefined;
  let stop = false;
  const claimer = (async () => {
    while (!stop) {
      const got = await api(base, 'POST', '/api/v1/queue/claim', { worker_id: 'idle-claimer', queue, batch_size: 1, wait_seconds: 20 }, headers);
      const at = performance.now();
      for (const j of got.data) {
        received.set(j.payload.i, at);
        wake?.();
        await api(base, 'POST', `/api/v1/queue/jobs/${j.id}/complete`, { worker_id: 'idle-claimer' }, headers);
      }
    }
  })();

  const out: number[] = [];
  await sleep(200);
  for (let i = 0; i < samples + 1; i++) {
    // Give the claimer time to complete the last job and be waiting again: it is idle when the job arrives.
    await sleep(40);
    const seen = new Promise<void>((resolve) => {
      wake = () => {
        if (received.has(i)) resolve();
      };
    });
    const t0 = performance.now();
    await api(base, 'POST', '/api/v1/queue/jobs', { queue, task_type: 'ping', payload: { i } }, headers);
    if (!received.has(i)) {
      await Promise.race([seen, sleep(30_000).then(() => Promise.reject(new Error(`job ${i} was not claimed within 30 s`)))]);
    }
    if (i > 0) out.push(received.get(i)! - t0); // the first one warms the path
  }
  stop = true;
  // Unblock the final long poll.
  await api(base, 'POST', '/api/v1/queue/jobs', { queue, task_type: 'stop', payload: { i: -1 } }, headers);
  await claimer;
  return out;
}

// ---- (d) webhook deliveries ----------------------------------------------------------------------------------

interface Receiver {
  url: string;
  received: number;
  verified: number;
  badSignatures: string[];
}

/** An HTTP receiver on 127.0.0.1 answering 204; verifies the signature of every SIGNATURE_EVERY-th request. */
async function startReceiver(): Promise<Receiver & { setSecret: (secret: string) => void }> {
  let wh: Webhook | undefined;
  const r: Receiver & { setSecret: (secret: string) => void } = {
    url: '',
    received: 0,
    verified: 0,
    badSignatures: [],
    setSecret: (secret) => {
      wh = new Webhook(secret);
    },
  };
  const server = createServer((req: IncomingMessage, res) => {
    const n = r.received++;
    const check = wh !== undefined && n % SIGNATURE_EVERY === 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (check) chunks.push(c);
    });
    req.on('end', () => {
      if (check && wh) {
        try {
          wh.verify(Buffer.concat(chunks).toString('utf8'), {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
          r.verified++;
        } catch (err) {
          r.badSignatures.push(`${String(req.headers['webhook-id'])}: ${(err as Error).message}`);
        }
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  onCleanup(
    () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  );
  const { port } = server.address() as { port: number };
  r.url = `http://127.0.0.1:${port}/hook`;
  return r;
}

interface DeliveryFigures {
  deliveries: number;
  ms: number;
  verified: number;
}

/** Inserts `count` events for the org (batches of EVENT_INSERT_BATCH) and fans them out with the real dispatcher. */
async function eventsFannedOut(services: AppServices, orgId: string, count: number): Promise<number> {
  const db = services.database.db;
  for (let i = 0; i < count; i += EVENT_INSERT_BATCH) {
    await db.insert(events).values(
      Array.from({ length: Math.min(EVENT_INSERT_BATCH, count - i) }, (_, k) => ({
        id: newId('event'),
        orgId,
        type: 'key.created',
        subject: `key_bench_${i + k}`,
        data: { n: i + k, note: 'benchmark event' },
      })),
    );
  }
  let made = 0;
  for (;;) {
    const r = await dispatchEvents(services);
    made += r.webhook_deliveries;
    if (!r.busy) break;
    await sleep(50);
  }
  return made;
}

async function succeededCount(services: AppServices, webhookId: string): Promise<number> {
  const [row] = await services.database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, 'succeeded')));
  return row.n;
}

async function webhookDeliveryRate(o: Opsbase, deliveries: number, logLevel: string): Promise<DeliveryFigures> {
  const receiver = await startReceiver();
  const { key, orgId } = await createTenant(o.base);
  const headers = { authorization: `Bearer ${key}` };
  const hook = await api(o.base, 'POST', '/api/v1/webhooks', { url: receiver.url, event_types: ['*'], description: 'bench' }, headers);
  receiver.setSecret(hook.secret as string);
  // The server's data dir (its master key, to decrypt the endpoint's secret) and its database.
  const config = readConfig({ OPSBASE_DATA_DIR: o.dataDir, OPSBASE_ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: logLevel });
  const services = await openServices(config, createLogger(logLevel), o.databaseUrl());
  try {
    // Uncounted: connections, JIT, plans.
    const warm = await eventsFannedOut(services, orgId, WEBHOOK_WARMUP);
    if (warm !== WEBHOOK_WARMUP) throw new Error(`fan-out made ${warm} of ${WEBHOOK_WARMUP} warm-up deliveries`);
    await deliverDue(services);
    const made = await eventsFannedOut(services, orgId, deliveries);
    if (made !== deliveries) throw new Error(`fan-out made ${made} of ${deliveries} deliveries`);
    const verifiedBefore = receiver.verified;
    let succeeded = 0;
    const ms = await timed(async () => {
      for (let pass = 0; ; pass++) {
        const r = await deliverDue(services);
        succeeded += r.succeeded;
        if (r.failed || r.retrying) throw new Error(`webhook deliveries: ${JSON.stringify(r)}`);
        if (succeeded >= deliveries) return;
        if (pass > 20) throw new Error(`webhook deliveries: ${succeeded} of ${deliveries} succeeded`);
      }
    });
    const inDb = await succeededCount(services, hook.id as string);
    if (inDb !== WEBHOOK_WARMUP + deliveries) throw new Error(`${inDb} of ${WEBHOOK_WARMUP + deliveries} deliveries succeeded in the database`);
    if (receiver.badSignatures.length) throw new Error(`bad webhook signatures: ${receiver.badSignatures.slice(0, 3).join('; ')}`);
    return { deliveries, ms, verified: receiver.verified - verifiedBefore };
  } finally {
    await closeServices(services);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

function report(t: Throughput) {
  const total = t.submitMs + t.drainMs;
  console.log(
    `${t.label.padEnd(18)} ${n0(rate(t.jobs, total)).padStart(6)} jobs/s overall  ` +
      `(submit ${n0(t.submitMs)} ms = ${n0(rate(t.jobs, t.submitMs))}/s; claim+complete ${n0(t.drainMs)} ms = ${n0(rate(t.jobs, t.drainMs))}/s)`,
  );
  if (t.cpu) {
    console.log(
      `${''.padEnd(18)} CPU per job: PostgreSQL ${t.cpu.pg.toFixed(0)} µs, Opsbase server ${t.cpu.server.toFixed(0)} µs, ` +
        `this process (${t.label.includes('raw SQL') ? 'SQL client' : 'HTTP client'}) ${t.cpu.bench.toFixed(0)} µs`,
    );
  }
}

export default async function queueBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      jobs: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '3' },
      samples: { type: 'string', default: '200' },
      deliveries: { type: 'string', default: '5000' },
      'log-level': { type: 'string', default: 'warn' },
    },
  });
  const jobs = Number(values.jobs);
  const rounds = Number(values.rounds);
  const samples = Number(values.samples);
  const deliveries = Number(values.deliveries);
  for (const [k, v] of Object.entries({ jobs, rounds, samples, deliveries }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
  cleanUpOnSignals();

  console.log(
    `queue: ${n0(jobs)} jobs, inserts of ${INSERT_BATCH}, claims of ${CLAIM_BATCH}, ${CLAIMERS} concurrent claimers; ` +
      `Node ${process.version}, ${availableParallelism()} CPUs`,
  );
  const [load1] = loadavg();
  if (load1 > 0.5) console.log(`note: load average ${load1.toFixed(2)} before the run; other work on this machine may skew the figures`);
  const started = Date.now();
  let a: Throughput | undefined;
  let b: Throughput | undefined;
  let lat: number[] = [];
  let d: DeliveryFigures | undefined;
  try {
    // Private network allowed: (d)'s receiver is on 127.0.0.1.
    const o = await startOpsbase({ logLevel: values['log-level'], env: { OPSBASE_ALLOW_PRIVATE_NETWORK: 'true' } });
    const headers = { authorization: `Bearer ${(await createTenant(o.base)).key}` };
    const pool = new pg.Pool({ connectionString: o.databaseUrl(), max: CLAIMERS + 1 });
    try {
      await pool.query(BASELINE_TABLE);
      await rawSql(pool, 'warmup-a', 1000);
      await throughHttp(o.base, headers, 'warmup-b', 1000);
      for (let r = 0; r < rounds; r++) {
        const pid = o.child.proc.pid ?? -1;
        const ra = await withCpu(pid, () => rawSql(pool, `bench-a-${r}`, jobs));
        const rb = await withCpu(pid, () => throughHttp(o.base, headers, `bench-b-${r}`, jobs));
        if (rounds > 1)
          console.log(`round ${r + 1}: a ${n0(rate(jobs, ra.submitMs + ra.drainMs))} jobs/s, b ${n0(rate(jobs, rb.submitMs + rb.drainMs))} jobs/s`);
        if (!a || ra.submitMs + ra.drainMs < a.submitMs + a.drainMs) a = ra;
        if (!b || rb.submitMs + rb.drainMs < b.submitMs + b.drainMs) b = rb;
      }
    } finally {
      await pool.end();
    }
    lat = await latency(o.base, headers, samples);
    d = await webhookDeliveryRate(o, deliveries, values['log-level']);
  } finally {
    await cleanUp();
  }
  if (!a || !b || !d) throw new Error('no figures');

  report(a);
  report(b);
  const sorted = [...lat].sort((x, y) => x - y);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  console.log(
    `(c) submit → claim   p50 ${p50.toFixed(1)} ms  p99 ${p99.toFixed(1)} ms  (mean ${mean.toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms; ` +
      `${sorted.length} jobs, one idle claimer long-polling)`,
  );
  const dRate = rate(d.deliveries, d.ms);
  console.log(
    `(d) webhook deliveries: ${n0(dRate)}/s (${n0(d.deliveries)} deliveries in ${n0(d.ms)} ms to a local receiver, ` +
      `signatures verified on a sample of ${d.verified})`,
  );
  const ratio = rate(b.jobs, b.submitMs + b.drainMs) / rate(a.jobs, a.submitMs + a.drainMs);
  console.log(`target b/a >= ${RATIO_TARGET}: ${ratio >= RATIO_TARGET ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`);
  console.log(`target latency p50 < ${P50_TARGET_MS} ms: ${p50 < P50_TARGET_MS ? 'PASS' : 'FAIL'} (${p50.toFixed(1)} ms)`);
  console.log(`target webhook deliveries >= ${DELIVERIES_TARGET}/s: ${dRate >= DELIVERIES_TARGET ? 'PASS' : 'FAIL'} (${n0(dRate)}/s)`);
  console.log(`total run time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`ratio queue: ${ratio.toFixed(2)}`);
}
