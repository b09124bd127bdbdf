// Issue 8 item 12: what only grows is pruned past its retention (configurable per kind), in bounded batches, by the
// one maintenance job — and work still owed (an event pending dispatch, a mail not yet sent or failed, an unfinished
// job) is never pruned. Rows are back-dated by SQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { idFloor, type IdKind } from '../src/core/ids.ts';
import { enqueueJob } from '../src/jobs/enqueue.ts';
import { maintenanceJob, pruneExpired } from '../src/jobs/maintenance.ts';
import { startWorker } from '../src/jobs/worker.ts';
import { closeDb, sleep, sql } from './helpers/db.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  // Events are kept 5 days here instead of the default 90: the setting is honoured.
  app = await startTestApp({ env: { OPSBASE_RETENTION_EVENTS_DAYS: '5' } });
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const DAY = 86_400_000;
let n = 0;
/** An id made `days` ago (ids are time-sortable), unique within the test. */
const oldId = (kind: IdKind, days: number) => `${idFloor(kind, Date.now() - days * DAY)}${String(n++).padStart(16, '0')}`;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const ids = async (table: string, where = 'true') => (await sql(app, `select id from ${table} where ${where} order by id`)).map((r) => r.id);

test('each kind is pruned past its retention in batches; pending events, unsent mail and unfinished jobs stay', async () => {
  const t = await app.tenant('Retention');
  const org = t.orgId;
  const apiOld = [oldId('request', 40), oldId('request', 35), oldId('request', 31)];
  const apiNew = oldId('request', 29);
  for (const id of [...apiOld, apiNew]) {
    await sql(app, `insert into api_requests (id, org_id, method, path, status, latency_ms, request_id, created_at) values ($1, $2, 'GET', '/x', 200, 1, $1, $3)`, [
      id,
      org,
      ago(30),
    ]);
  }
  // Events: 5 days here. Dispatched and parked old ones go; a pending old one and a recent one stay.
  const ev = { dispatched: oldId('event', 6), parked: oldId('event', 7), pending: oldId('event', 8), retrying: oldId('event', 9), recent: oldId('event', 4) };
  for (const [kind, id] of Object.entries(ev)) {
    await sql(
      app,
      `insert into events (id, org_id, type, data, created_at, dispatched_at, parked_at, next_dispatch_at) values ($1, $2, 'key.created', '{}', $3,
        case when $4 in ('dispatched', 'recent') then now() end, case when $4 = 'parked' then now() end, case when $4 = 'retrying' then now() end)`,
      [id, org, ago(6), kind],
    );
  }
  const ntf = { old: oldId('notification', 91), older: oldId('notification', 120), recent: oldId('notification', 80) };
  for (const id of Object.values(ntf)) await sql(app, `insert into notifications (id, org_id, type, title) values ($1, $2, 'x', 'x')`, [id, org]);
  const mail = { sent: oldId('email', 31), failed: oldId('email', 40), queued: oldId('email', 60), sending: oldId('email', 50), recent: oldId('email', 2) };
  for (const [status, id] of Object.entries(mail)) {
    await sql(app, `insert into email_outbox (id, org_id, "to", subject, text, status) values ($1, $2, 'a@example.com', 's', 't', $3)`, [
      id,
      org,
      status === 'recent' ? 'sent' : status,
    ]);
  }
  for (const [key, days] of [
    ['q-old', 31],
    ['q-older', 45],
    ['q-new', 3],
  ] as const) {
    await sql(app, `insert into quota_consumptions (org_id, idempotency_key, response, created_at) values ($1, $2, '{}', $3)`, [org, key, ago(days)]);
  }
  const jobs = { done: oldId('job', 9), failed: oldId('job', 32), failedRecent: oldId('job', 12), waiting: oldId('job', 40), system: oldId('job', 10) };
  for (const [kind, id] of Object.entries(jobs)) {
    const state = kind === 'done' || kind === 'system' ? 'completed' : kind === 'waiting' ? 'waiting' : 'failed';
    const finished = kind === 'waiting' ? null : ago(kind === 'failed' ? 31 : kind === 'failedRecent' ? 11 : 8);
    await sql(app, `insert into queue_jobs (id, org_id, queue, task_type, payload, state, finished_at) values ($1, $2, 'q', 'x', '{}', $3, $4)`, [
      id,
      kind === 'system' ? 'system' : org,
      state,
      finished,
    ]);
  }

  // Batches of 2: every kind with more than 2 rows to go takes more than one statement, and still goes entirely.
  const pruned = await pruneExpired(app.app.services, 2);
  assert.equal(pruned.api_requests, 3);
  assert.equal(pruned.events, 2);
  assert.equal(pruned.notifications, 2);
  assert.equal(pruned.email_outbox, 2);
  assert.equal(pruned.quota_consumptions, 2);
  assert.equal(pruned.queue_jobs, 3);

  // The rows made here (path /x): the tenant's own API calls are logged by a flush that may land at any moment.
  assert.deepEqual(await ids('api_requests', `org_id = '${org}' and path = '/x'`), [apiNew]);
  assert.deepEqual(await ids('events', `org_id = '${org}' and type = 'key.created' and id < '${idFloor('event', Date.now() - DAY)}'`), [
    ev.retrying,
    ev.pending,
    ev.recent,
  ].sort());
  assert.deepEqual(await ids('notifications', `org_id = '${org}'`), [ntf.recent]);
  assert.deepEqual(await ids('email_outbox', `org_id = '${org}'`), [mail.queued, mail.sending, mail.recent].sort());
  assert.deepEqual(
    (await sql(app, `select idempotency_key from quota_consumptions where org_id = $1`, [org])).map((r) => r.idempotency_key),
    ['q-new'],
  );
  assert.deepEqual(await ids('queue_jobs', `queue = 'q'`), [jobs.waiting, jobs.failedRecent].sort());

  // Nothing is left to prune: a second run finds nothing.
  const again = await pruneExpired(app.app.services, 2);
  assert.ok(Object.values(again).every((v) => v === 0), JSON.stringify(again));
});

test('the maintenance job runs on the job engine and records what it pruned', async () => {
  const t = await app.tenant('Maintained');
  const id = oldId('request', 60);
  await sql(app, `insert into api_requests (id, org_id, method, path, status, latency_ms, request_id) values ($1, $2, 'GET', '/x', 200, 1, $1)`, [id, t.orgId]);
  const worker = await startWorker(app.app.services, { pollMs: 100 });
  try {
    const job = await enqueueJob(app.app.services.database.db, maintenanceJob, {}, { singletonKey: maintenanceJob.type });
    let row: Record<string, any> | undefined;
    for (let i = 0; i < 100 && row?.state !== 'completed'; i++) {
      await sleep(100);
      [row] = await sql(app, 'select state, result from queue_jobs where id = $1', [job.id]);
    }
    assert.equal(row?.state, 'completed');
    assert.ok(row.result.api_requests >= 1, JSON.stringify(row.result));
    assert.deepEqual(await ids('api_requests', `id = '${id}'`), []);
  } finally {
    await worker.stop();
  }
});
