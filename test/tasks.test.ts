// Tasks (issue 11): numbers as ids, the transitions table, duplicate titles, the daily quota under concurrency,
// dependencies and cycles, claims and leases (concurrent claimers, expired leases), full-text ranking, filters,
// comments, events and activity, the public v1 aliases and the CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TRANSITIONS } from '../src/modules/tasks/transitions.ts';
import { startWithTiers } from './helpers/billing-config.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import type { Tenant, TestApp } from './helpers/harness.ts';
import { runProcess } from './helpers/run-process.ts';

let app: TestApp;
before(async () => {
  // `free` roomy enough for every test; `tiny` for the daily quota.
  app = await startWithTiers({ free: { tasks_per_day: 1000, seats: 3, agents: 60 }, tiny: { tasks_per_day: 5, seats: 3 } }, { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' });
});
after(async () => {
  await closeDb(app);
  await app.close();
});

const api = (t: Tenant | string, method: string, path: string, body?: unknown) =>
  app.request(method, `/api/v1${path}`, { key: typeof t === 'string' ? t : t.key, body });

/** Agents to assign or claim as (an agent assignee must be an agent of the org). */
async function agent(t: Tenant, name: string): Promise<string> {
  const res = await api(t, 'POST', '/agents', { name });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function create(t: Tenant | string, body: Record<string, unknown>) {
  const res = await api(t, 'POST', '/tasks', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

test('a task gets the next per-org number, accepted wherever its id is; create writes activity and task.created', async () => {
  const t = await app.tenant();
  const other = await app.tenant();
  const a = await create(t, { title: 'First', priority: 'P1', tags: ['x', 'x', 'y'], due_date: '2027-01-31', estimated_minutes: 30 });
  const b = await create(t, { title: 'Second', description: '**md**', type: 'bug' });
  const c = await create(other, { title: 'Elsewhere' });
  // The plan's usage counts them (the dashboard's "Tasks today"), and the org's agents.
  await agent(t, 'counted');
  const usage = (await api(t, 'GET', '/billing/usage')).body.usage;
  assert.deepEqual([usage.tasks_per_day.used, usage.agents.used], [2, 1], JSON.stringify(usage));
  assert.match(a.id, /^task_[0-9a-z]{26}$/);
  assert.deepEqual([a.number, b.number, c.number], [1, 2, 1], 'numbers count per org');
  assert.equal(a.status, 'todo');
  assert.equal(a.priority, 'P1');
  assert.equal(b.priority, 'P2', 'default priority');
  assert.deepEqual(a.tags, ['x', 'y']);
  assert.equal(a.due_date, '2027-01-31');
  assert.deepEqual(a.created_by, { type: 'system', id: t.keyId });

  const byNumber = await api(t, 'GET', '/tasks/2');
  assert.equal(byNumber.status, 200);
  assert.equal(byNumber.body.id, b.id);
  assert.equal(byNumber.body.description, '**md**');
  assert.equal((await api(t, 'GET', `/tasks/${b.id}`)).body.number, 2);
  const patched = await api(t, 'PATCH', '/tasks/1', { title: 'First, renamed' });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.id, a.id);
  assertEnvelope(await api(t, 'GET', '/tasks/3'), 404, 'not_found', 'a number not used yet');
  assertEnvelope(await api(t, 'GET', '/tasks/nope'), 404, 'not_found');
  assertEnvelope(await api(other, 'GET', '/tasks/2'), 404, 'not_found', "org B's number 2 does not exist");

  const acts = await sql(app, `select action from activity_log where entity_id = $1 order by id`, [a.id]);
  assert.deepEqual(
    acts.map((r) => r.action),
    ['task.created', 'task.updated'],
  );
  const events = await sql(app, `select type, data from events where subject = $1 order by id`, [a.id]);
  assert.deepEqual(
    events.map((e) => e.type),
    ['task.created', 'task.updated'],
  );
  assert.equal(events[0].data.number, 1);
});

test('status changes follow the transitions table; a disallowed one is 422 listing the allowed ones', async () => {
  const t = await app.tenant();
  for (const [from, allowed] of Object.entries(TRANSITIONS)) {
    for (const to of Object.keys(TRANSITIONS)) {
      if (to === from) continue;
      const task = await create(t, { title: `${from} to ${to}`, status: from });
      const res = await api(t, 'PATCH', `/tasks/${task.number}`, { status: to });
      if (allowed.includes(to as never)) {
        assert.equal(res.status, 200, `${from} → ${to}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.status, to);
      } else {
        assertEnvelope(res, 422, 'unprocessable', `${from} → ${to}`);
        assert.deepEqual(res.body.details.allowed, allowed, `${from} → ${to} lists what is allowed`);
        assert.match(res.body.message, new RegExp(`from ${from} to ${to}`));
      }
    }
  }
  // done stamps completed_at and emits task.completed; reopening clears it.
  const task = await create(t, { title: 'Finish me' });
  const done = await api(t, 'PATCH', `/tasks/${task.id}`, { status: 'done', resolution: 'shipped' });
  assert.ok(done.body.completed_at);
  assert.equal(done.body.resolution, 'shipped');
  const completed = await sql(app, `select count(*)::int as n from events where subject = $1 and type = 'task.completed'`, [task.id]);
  assert.equal(completed[0].n, 1);
  const reopened = await api(t, 'PATCH', `/tasks/${task.id}`, { status: 'todo' });
  assert.equal(reopened.body.completed_at, null);
  assertEnvelope(await api(t, 'PATCH', `/tasks/${task.id}`, { status: 'finished' }), 400, 'invalid_request', 'unknown status');
});

test('an open task with the same normalized title is a 409 naming it, unless allow_duplicate; closed ones do not count', async () => {
  const t = await app.tenant();
  const first = await create(t, { title: 'Fix the Login bug' });
  const dup = await api(t, 'POST', '/tasks', { title: '  fix   the login BUG ' });
  assertEnvelope(dup, 409, 'conflict', 'duplicate title');
  assert.equal(dup.body.details.existing_id, first.id);
  assert.equal(dup.body.details.existing_number, first.number);
  const forced = await create(t, { title: 'fix the login bug', allow_duplicate: true });
  assert.equal(forced.number, 2, 'a refused create used no number');
  await api(t, 'PATCH', `/tasks/${first.id}`, { status: 'done' });
  await api(t, 'PATCH', `/tasks/${forced.id}`, { status: 'cancelled' });
  assert.equal((await create(t, { title: 'Fix the login bug' })).number, 3, 'done and cancelled tasks are no duplicates');
  // Another org's task is never a duplicate.
  await create(await app.tenant(), { title: 'Fix the login bug' });
  // Concurrent creates of one title: exactly one wins (the org's counter row serializes them).
  const race = await Promise.all(Array.from({ length: 8 }, () => api(t, 'POST', '/tasks', { title: 'Same time' })));
  assert.deepEqual(race.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
});

test('the daily quota: concurrent creates never pass tasks_per_day; over it, 402 with the reset time; the list reports it', async () => {
  const t = await app.tenant();
  assert.equal((await api(t, 'POST', '/billing/change-plan', { tier: 'tiny' })).status, 200);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => api(t, 'POST', '/tasks', { title: `Concurrent ${i}` })));
  const ok = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status !== 201);
  assert.equal(ok.length, 5, results.map((r) => r.status).join(','));
  assert.deepEqual(ok.map((r) => r.body.number).sort(), [1, 2, 3, 4, 5], 'numbers are unique and gapless');
  const tomorrow = new Date();
  tomorrow.setUTCHours(24, 0, 0, 0);
  for (const r of refused) {
    assertEnvelope(r, 402, 'quota_exceeded');
    assert.equal(r.body.details.reset_at, tomorrow.toISOString());
    assert.match(r.body.message, /resets at/);
  }
  const list = await api(t, 'GET', '/tasks');
  assert.equal(list.status, 200);
  assert.deepEqual([list.body.used_today, list.body.limit, list.body.remaining], [5, 5, 0]);
  assert.equal(list.body.data.length, 5);
  const unlimited = await api(await app.tenant(), 'GET', '/tasks');
  assert.deepEqual([unlimited.body.used_today, unlimited.body.limit, unlimited.body.remaining], [0, 1000, 1000]);
});

test('dependencies: a cycle is 422 naming it; a blocked task cannot be claimed or started (409) until its blocker closes', async () => {
  const t = await app.tenant();
  const [a, b, c] = [await create(t, { title: 'A' }), await create(t, { title: 'B' }), await create(t, { title: 'C' })];
  const dep = await api(t, 'POST', `/tasks/${a.number}/dependencies`, { depends_on: String(b.number) });
  assert.equal(dep.status, 200, JSON.stringify(dep.body));
  assert.deepEqual(
    dep.body.depends_on.map((d: any) => d.id),
    [b.id],
  );
  assert.equal(dep.body.blocked, true);
  assert.equal((await api(t, 'POST', `/tasks/${b.id}/dependencies`, { depends_on: c.id })).status, 200);
  const cycle = await api(t, 'POST', `/tasks/${c.id}/dependencies`, { depends_on: a.id });
  assertEnvelope(cycle, 422, 'unprocessable', 'cycle');
  assert.deepEqual(cycle.body.details.cycle, [3, 1, 2, 3]);
  assert.match(cycle.body.message, /#3 → #1 → #2 → #3/);
  assertEnvelope(await api(t, 'POST', `/tasks/${a.id}/dependencies`, { depends_on: a.id }), 422, 'unprocessable', 'self');
  assertEnvelope(await api(t, 'POST', `/tasks/${a.id}/dependencies`, { depends_on: '99' }), 404, 'not_found');

  const getB = await api(t, 'GET', `/tasks/${b.id}`);
  assert.deepEqual(
    getB.body.blocks.map((x: any) => x.number),
    [1],
  );
  const claim = await api(t, 'POST', `/tasks/${a.id}/claim`, { assignee: 'me' });
  assertEnvelope(claim, 422, 'unprocessable', '`me` with an API key');
  const blocked = await api(t.sessionToken, 'POST', `/tasks/${a.id}/claim`, {});
  assertEnvelope(blocked, 409, 'conflict', 'claiming a blocked task');
  assert.deepEqual(
    blocked.body.details.blocked_by.map((x: any) => x.number),
    [2],
  );
  assertEnvelope(await api(t, 'PATCH', `/tasks/${a.id}`, { status: 'in_progress' }), 409, 'conflict', 'starting a blocked task');
  const next = await api(t.sessionToken, 'GET', '/tasks/next?include_unassigned=true');
  assert.equal(next.body.task.id, c.id, 'next skips blocked tasks (A waits on B, B on C)');

  await api(t, 'PATCH', `/tasks/${b.id}`, { status: 'cancelled' });
  const ok = await api(t.sessionToken, 'POST', `/tasks/${a.id}/claim`, {});
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.status, 'in_progress');
  assert.deepEqual(ok.body.assignee, { type: 'user', id: t.userId });
  assert.ok(new Date(ok.body.lease_expires_at) > new Date());
  // A status `blocked` task is not claimable either.
  const flagged = await create(t, { title: 'Flagged', status: 'blocked' });
  assertEnvelope(await api(t.sessionToken, 'POST', `/tasks/${flagged.id}/claim`, {}), 409, 'conflict');

  const removed = await api(t, 'DELETE', `/tasks/${b.id}/dependencies/${c.number}`);
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.body.depends_on, []);
  assertEnvelope(await api(t, 'DELETE', `/tasks/${b.id}/dependencies/${c.number}`), 404, 'not_found', 'no such edge any more');
});

test('next: most urgent first, ties oldest first, only the assignee’s todo tasks unless include_unassigned', async () => {
  const t = await app.tenant();
  const me = `user:${t.userId}`;
  await create(t, { title: 'p2 mine', priority: 'P2', assignee: me });
  const p1old = await create(t, { title: 'p1 old', priority: 'P1', assignee: me });
  await create(t, { title: 'p1 new', priority: 'P1', assignee: me });
  const p0free = await create(t, { title: 'p0 unassigned', priority: 'P0' });
  await create(t, { title: 'p0 backlog', priority: 'P0', assignee: me, status: 'backlog' });
  const mine = await api(t, 'GET', `/tasks/next?assignee=${me}`);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.task.id, p1old.id);
  const any = await api(t, 'GET', `/tasks/next?assignee=${me}&include_unassigned=true`);
  assert.equal(any.body.task.id, p0free.id);
  assertEnvelope(await api(t, 'GET', '/tasks/next?assignee=agent:nobody'), 404, 'not_found', 'agent');
  await agent(t, 'idle-one');
  const none = await api(t, 'GET', '/tasks/next?assignee=agent:idle-one');
  assert.deepEqual(none.body, { task: null });
  assert.equal((await api(t.sessionToken, 'GET', '/tasks/next')).body.task.id, p1old.id, '`me` with a session');
  assertEnvelope(await api(t, 'GET', '/tasks/next?assignee=bogus'), 400, 'invalid_request');
  assertEnvelope(await api(t, 'GET', '/tasks/next?assignee=user:usr_0000000000000000000000000a'), 404, 'not_found', 'not a member');
});

test('50 concurrent claim_next calls never get the same task', async () => {
  const t = await app.tenant();
  for (let i = 0; i < 55; i++) await create(t, { title: `job ${i}`, priority: `P${i % 4}` });
  for (let i = 0; i < 50; i++) await agent(t, `worker-${i}`);
  const claims = await Promise.all(
    Array.from({ length: 50 }, (_, i) => api(t, 'POST', '/tasks/claim-next', { assignee: `agent:worker-${i}`, include_unassigned: true })),
  );
  for (const c of claims) assert.equal(c.status, 200, JSON.stringify(c.body));
  const ids = claims.map((c) => c.body.task?.id);
  assert.ok(ids.every(Boolean), 'every claimer got a task');
  assert.equal(new Set(ids).size, 50, 'no task was handed out twice');
  const rows = await sql(app, `select assignee_id, status, lease_holder from tasks where id = any($1)`, [ids]);
  assert.equal(rows.length, 50);
  for (const r of rows) {
    assert.equal(r.status, 'in_progress');
    assert.equal(r.lease_holder, `agent:${r.assignee_id}`);
  }
  // The most urgent went first: the 5 left over are the least urgent.
  const left = await api(t, 'GET', '/tasks?status=todo');
  assert.deepEqual(left.body.data.map((x: any) => x.priority).sort(), ['P3', 'P3', 'P3', 'P3', 'P3'].slice(0, left.body.data.length));
});

test('an expired lease makes the task claimable again by another claimer; the holder renews by claiming again', async () => {
  const t = await app.tenant();
  const task = await create(t, { title: 'Leased', priority: 'P0' });
  const oneId = await agent(t, 'one');
  const twoId = await agent(t, 'two');
  const first = await api(t, 'POST', '/tasks/claim-next', { assignee: 'agent:one', include_unassigned: true, lease_seconds: 60 });
  assert.equal(first.body.task.id, task.id);
  const again = await api(t, 'POST', '/tasks/claim-next', { assignee: 'agent:two', include_unassigned: true });
  assert.deepEqual(again.body, { task: null }, 'held while the lease lasts');
  assertEnvelope(await api(t, 'POST', `/tasks/${task.id}/claim`, { assignee: 'agent:two' }), 409, 'conflict', `claimed by agent:${oneId}`);
  const renewed = await api(t, 'POST', `/tasks/${task.id}/claim`, { assignee: 'agent:one', lease_seconds: 600 });
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
  assert.ok(new Date(renewed.body.lease_expires_at).getTime() > new Date(first.body.task.lease_expires_at).getTime() + 400_000);

  // agent:one dies: its lease runs out (moved into the past here rather than waiting).
  await sql(app, `update tasks set lease_expires_at = now() - interval '1 second' where id = $1`, [task.id]);
  const next = await api(t, 'GET', '/tasks/next?assignee=agent:two&include_unassigned=true');
  assert.equal(next.body.task.id, task.id, 'next shows it again');
  const taken = await api(t, 'POST', '/tasks/claim-next', { assignee: 'agent:two', include_unassigned: true });
  assert.equal(taken.body.task?.id, task.id);
  assert.deepEqual(taken.body.task.assignee, { type: 'agent', id: twoId }, 'stored by id, named by name');
  const acts = await sql(app, `select action from activity_log where entity_id = $1 order by id`, [task.id]);
  assert.deepEqual(
    acts.map((r) => r.action),
    ['task.created', 'task.claimed', 'task.lease_renewed', 'task.lease_expired', 'task.claimed'],
  );
  // Finishing drops the lease.
  const done = await api(t, 'PATCH', `/tasks/${task.id}`, { status: 'done' });
  assert.equal(done.body.lease_expires_at, null);
});

test('full-text search ranks a title match above a description match; filters combine', async () => {
  const t = await app.tenant();
  const me = `user:${t.userId}`;
  const desc = await create(t, { title: 'Update the handbook', description: 'Mention the invoice export somewhere.' });
  const title = await create(t, { title: 'Invoice export is broken', description: 'Customers see a blank page.', tags: ['billing'], assignee: me });
  await create(t, { title: 'Unrelated', description: 'Nothing here', priority: 'P0', product_id: 'prod_1', parent_id: String(title.number) });
  const found = await api(t, 'GET', `/tasks?q=${encodeURIComponent('invoice exports')}`);
  assert.equal(found.status, 200, JSON.stringify(found.body));
  assert.deepEqual(
    found.body.data.map((x: any) => x.id),
    [title.id, desc.id],
  );
  assert.deepEqual(
    (await api(t, 'GET', '/tasks?q=blank')).body.data.map((x: any) => x.id),
    [title.id],
  );
  assert.deepEqual((await api(t, 'GET', '/tasks?q=zebra')).body.data, []);

  const ids = async (query: string) => (await api(t, 'GET', `/tasks?${query}`)).body.data.map((x: any) => x.title);
  assert.deepEqual(await ids('priority=P0'), ['Unrelated']);
  assert.deepEqual(await ids('tag=billing'), ['Invoice export is broken']);
  assert.deepEqual(await ids(`assignee=${me}`), ['Invoice export is broken']);
  assert.deepEqual(await ids('assignee=none'), ['Unrelated', 'Update the handbook']);
  assert.deepEqual(await ids('product_id=prod_1'), ['Unrelated']);
  assert.deepEqual(await ids(`parent_id=${title.number}`), ['Unrelated']);
  await api(t, 'PATCH', `/tasks/${desc.id}`, { status: 'in_progress' });
  assert.deepEqual(await ids('status=in_progress,done'), ['Update the handbook']);
  assert.deepEqual(await ids('status=todo&priority=P2,P0'), ['Unrelated', 'Invoice export is broken']);
  assert.deepEqual(await ids('status=todo&q=invoice'), ['Invoice export is broken']);
  const bad = await api(t, 'GET', '/tasks?status=todo,nope');
  assertEnvelope(bad, 400, 'invalid_request');
  assert.deepEqual(bad.body.details.bad, ['nope']);

  // Pages: cursor without q, offset with q.
  const p1 = await api(t, 'GET', '/tasks?limit=2');
  assert.equal(p1.body.meta.has_more, true);
  const p2 = await api(t, 'GET', `/tasks?limit=2&cursor=${p1.body.meta.next_cursor}`);
  assert.deepEqual(
    p2.body.data.map((x: any) => x.id),
    [desc.id],
  );
  // Several statuses (one ordered scan each, merged): the cursor walks the merged order.
  const s1 = await api(t, 'GET', '/tasks?status=todo,in_progress&limit=2');
  assert.deepEqual(
    s1.body.data.map((x: any) => x.title),
    ['Unrelated', 'Invoice export is broken'],
  );
  const s2 = await api(t, 'GET', `/tasks?status=todo,in_progress&limit=2&cursor=${s1.body.meta.next_cursor}`);
  assert.deepEqual([s2.body.data.map((x: any) => x.title), s2.body.meta.has_more], [['Update the handbook'], false]);
  assert.deepEqual(
    (await api(t, 'GET', '/tasks?status=todo,in_progress&limit=1&offset=2')).body.data.map((x: any) => x.id),
    [desc.id],
  );
  assertEnvelope(await api(t, 'GET', `/tasks?q=invoice&cursor=${p1.body.meta.next_cursor}`), 400, 'invalid_request');
  assert.deepEqual(
    (await api(t, 'GET', '/tasks?q=invoice&limit=1&offset=1')).body.data.map((x: any) => x.id),
    [desc.id],
  );

  // Archived tasks leave the list (and are cancelled); ?archived=true shows them.
  const archived = await api(t, 'POST', `/tasks/${desc.id}/archive`, {});
  assert.equal(archived.body.status, 'cancelled');
  assert.ok(archived.body.archived_at);
  assert.equal((await ids('')).includes('Update the handbook'), false);
  assert.deepEqual(await ids('archived=true'), ['Update the handbook']);
});

test('q with a word common in the tasks (by the statistics) ranks its matches among the newest 10,000 tasks', async () => {
  const t = await app.tenant('common words');
  // 10,500 tasks saying "walrus" (numbered oldest first); the oldest says it three times, so it would rank first if
  // every match were ranked, and one in the newest 10,000 says it twice.
  await sql(
    app,
    `insert into tasks (id, org_id, number, title, title_key, created_by_type, created_at, updated_at)
     select 'task_cw' || lpad(g::text, 6, '0'), $1, g, t, lower(t), 'system', now() - make_interval(secs => 20000 - g), now()
     from (select g, case when g = 1 then 'walrus walrus walrus narwhal' when g = 10400 then 'walrus walrus note ' || g else 'walrus note ' || g end as t
           from generate_series(1, 10500) g) x`,
    [t.orgId],
  );
  await sql(app, 'analyze tasks');
  await sql(app, `select opsbase_refresh_term_stats('tasks', 'tsv')`); // what the maintenance job does
  const [{ share }] = await sql(app, `select opsbase_text_share('tasks', to_tsquery('english', 'walrus')) as share`);
  assert.ok(share >= 0.005, `walrus is common: ${share}`);
  const res = await api(t, 'GET', '/tasks?q=walrus&limit=3');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.data[0].number, 10400, 'the best match among the newest 10,000 comes first');
  assert.ok(!res.body.data.some((x: { number: number }) => x.number === 1), 'a match older than the window is not ranked');
  assert.equal(res.body.meta.has_more, true);
  // A rare word's matches all come from the index: the oldest task is found by one.
  const rare = await api(t, 'GET', '/tasks?q=narwhal');
  assert.deepEqual(
    rare.body.data.map((x: { number: number }) => x.number),
    [1],
  );
});

test('comments carry their author; assignees must be org members; delete removes a task and detaches subtasks', async () => {
  const t = await app.tenant();
  const task = await create(t, { title: 'Discuss' });
  const bySession = await api(t.sessionToken, 'POST', `/tasks/${task.number}/comments`, { body: 'Looks good' });
  assert.equal(bySession.status, 201, JSON.stringify(bySession.body));
  assert.deepEqual(bySession.body.author, { type: 'user', id: t.userId });
  const byKey = await api(t, 'POST', `/tasks/${task.id}/comments`, { body: 'From a script' });
  assert.deepEqual(byKey.body.author, { type: 'system', id: t.keyId });
  const list = await api(t, 'GET', `/tasks/${task.id}/comments`);
  assert.deepEqual(
    list.body.data.map((c: any) => c.body),
    ['From a script', 'Looks good'],
  );
  assertEnvelope(await api(t, 'POST', `/tasks/${task.id}/comments`, { body: '  ' }), 400, 'invalid_request');

  const stranger = await app.tenant();
  assertEnvelope(await api(t, 'POST', '/tasks', { title: 'x', assignee: `user:${stranger.userId}` }), 404, 'not_found', 'a non-member');
  assertEnvelope(await api(t, 'POST', '/tasks', { title: 'x', assignee: 'me' }), 422, 'unprocessable', '`me` with a key');
  assertEnvelope(await api(t, 'POST', '/tasks', { title: 'x', assignee: 'agent:felix' }), 404, 'not_found', 'an unknown agent');
  const felix = await agent(t, 'felix');
  assertEnvelope(await api(stranger, 'POST', '/tasks', { title: 'x', assignee: `agent:${felix}` }), 404, 'not_found', "another org's agent");
  const forBot = await create(t, { title: 'for a bot', assignee: 'agent:felix' });
  assert.deepEqual(forBot.assignee, { type: 'agent', id: felix });
  // The list filters by the agent's name or id alike (stored by id); an unknown agent has no tasks.
  for (const ref of ['felix', felix]) {
    const listed = await api(t, 'GET', `/tasks?assignee=agent:${ref}`);
    assert.deepEqual(
      listed.body.data.map((x: any) => x.id),
      [forBot.id],
      ref,
    );
  }
  assert.deepEqual((await api(t, 'GET', '/tasks?assignee=agent:ghost')).body.data, []);
  assert.deepEqual((await api(stranger, 'GET', `/tasks?assignee=agent:${felix}`)).body.data, [], "another org's agent");

  const child = await create(t, { title: 'child', parent_id: task.id });
  assert.equal(child.parent_id, task.id);
  const del = await api(t, 'DELETE', `/tasks/${task.number}`);
  assert.deepEqual(del.body, { id: task.id, deleted: true });
  assertEnvelope(await api(t, 'GET', `/tasks/${task.id}`), 404, 'not_found');
  assert.equal((await api(t, 'GET', `/tasks/${child.id}`)).body.parent_id, null);
  const acts = await sql(app, `select action from activity_log where entity_id = $1 order by id`, [task.id]);
  assert.deepEqual(
    acts.map((r) => r.action),
    ['task.created', 'task.commented', 'task.commented', 'task.deleted'],
  );
});

test('the public v1 paths serve the same operations', async () => {
  const t = await app.tenant();
  const created = await app.request('POST', '/api/v1/public/tasks', { key: t.key, body: { title: 'Via public', priority: 'P0' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const got = await app.request('GET', `/api/v1/public/tasks/${created.body.number}`, { key: t.key });
  assert.equal(got.body.id, created.body.id);
  const patched = await app.request('PATCH', `/api/v1/public/tasks/${created.body.id}`, { key: t.key, body: { status: 'in_review' } });
  assertEnvelope(patched, 422, 'unprocessable', 'todo → in_review');
  const list = await app.request('GET', '/api/v1/public/tasks?priority=P0', { key: t.key });
  assert.deepEqual(
    list.body.data.map((x: any) => x.id),
    [created.body.id],
  );
  assertEnvelope(await app.request('GET', '/api/v1/public/tasks', {}), 401, 'unauthorized');
  // DELETE archives (Orkosi's semantics): cancelled and hidden, not gone.
  const archived = await app.request('DELETE', `/api/v1/public/tasks/${created.body.number}`, { key: t.key });
  assert.equal(archived.status, 200, JSON.stringify(archived.body));
  assert.equal(archived.body.status, 'cancelled');
  assert.ok(archived.body.archived_at);
  assert.equal((await app.request('GET', `/api/v1/tasks/${created.body.id}`, { key: t.key })).status, 200, 'still there');
  assertEnvelope(await app.request('DELETE', '/api/v1/public/tasks/999', { key: t.key }), 404, 'not_found');
});

test('CLI: `opsbase tasks create "…" --priority P1` and `opsbase tasks list`', async () => {
  const t = await app.tenant();
  // A config dir of its own: no saved login of this machine's user is read.
  const configDir = mkdtempSync(join(tmpdir(), 'opsbase-tasks-cli-'));
  const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: configDir };
  const made = await runProcess(['--json', 'tasks', 'create', 'Write the launch post', '--priority', 'P1'], env);
  assert.equal(made.code, 0, made.stderr);
  const body = JSON.parse(made.stdout);
  assert.equal(body.title, 'Write the launch post');
  assert.equal(body.priority, 'P1');
  const listed = await runProcess(['tasks', 'list'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /number/);
  assert.match(listed.stdout, /Write the launch post/);
  assert.match(listed.stdout, /P1/);
  rmSync(configDir, { recursive: true, force: true });
});

test('the list page the database writes as JSON is, field for field, what tasks.get presents; it fits the output schema', async () => {
  const { listTasksOp } = await import('../src/modules/tasks/operations.ts');
  const t = await app.tenant();
  const bot = await agent(t, 'json-bot');
  const parent = await create(t, { title: 'Parent "quoted" \\ back\u00e9 — ünïcode 🚀', description: 'line 1\nline 2\ttab <b>html</b>' });
  await create(t, { title: 'Every field', description: null, type: 'bug', priority: 'P0', tags: ['a', 'b c'], due_date: '2027-02-28', estimated_minutes: 45, max_duration_seconds: 120, parent_id: parent.id, assignee: `agent:json-bot` });
  await create(t, { title: 'A person’s', assignee: `user:${t.userId}`, tags: [] });
  const done = await create(t, { title: 'Finished' });
  assert.equal((await api(t, 'PATCH', `/tasks/${done.id}`, { status: 'done', resolution: 'Shipped.' })).status, 200);
  const archived = await create(t, { title: 'Put away' });
  assert.equal((await api(t, 'POST', `/tasks/${archived.id}/archive`)).status, 200);
  // Timestamps with microseconds, some null, a lease and a retry time: the database formats them as toISOString does.
  await sql(
    app,
    `update tasks set lease_expires_at = '2031-05-06 07:08:09.123456+00', retry_after = '2030-01-01 00:00:00.5+00', run_failures = 2,
            created_at = created_at - interval '1 day' + interval '0.000789 second'
      where org_id = $1 and title = 'Every field'`,
    [t.orgId],
  );
  assert.match(bot, /^agt_/);
  for (const query of ['', '?status=todo,done', '?archived=true', '?assignee=agent:json-bot', `?assignee=user:${t.userId}`, '?tag=b%20c']) {
    const list = await api(t, 'GET', `/tasks${query}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const parsed = listTasksOp.output.safeParse(list.body);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    assert.ok(list.body.data.length > 0, `tasks for ${query}`);
    for (const item of list.body.data) {
      const one = await api(t, 'GET', `/tasks/${item.id}`);
      // tasks.get is presentTask plus the task's dependencies.
      const { depends_on: _d, blocks: _b, blocked: _bl, ...presented } = one.body;
      assert.deepEqual(item, presented, `${query}: ${item.title}`);
    }
  }
  // No match: an empty page, still with the quota.
  const none = await api(t, 'GET', '/tasks?assignee=agent:nobody');
  assert.deepEqual([none.body.data, none.body.meta.has_more, none.body.meta.next_cursor, typeof none.body.used_today], [[], false, null, 'number']);
});
