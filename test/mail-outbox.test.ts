// Without OPSBASE_SMTP_URL nothing is sent: messages are `unsent`, and `GET /dev/emails` shows an org's owners and
// admins their org's outgoing mail, links included, so an invite or a reset can still be completed. Instance admins
// also see instance-level mail (password resets); nobody else does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { closeDb, register, sleep, sql } from './helpers/db.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let worker: Worker;
before(async () => {
  app = await startTestApp({ env: { PORT: '4321' } });
  worker = await startWorker(app.app.services, { pollMs: 200 });
});
after(async () => {
  await worker.stop();
  await closeDb(app);
  await app.close();
});

const emails = (key: string, headers: Record<string, string> = {}, query = '') => app.request('GET', `/api/v1/dev/emails${query}`, { key, headers });

test('an invite is unsent, and its owner reads the complete link in dev.emails', async () => {
  const t = await app.tenant('NoSmtp');
  const invitee = await register(app);
  const invite = await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: invitee.email, role: 'member' } });
  assert.equal(invite.status, 201, JSON.stringify(invite.body));
  await sleep(500); // a worker is running: it must not touch the message
  const res = await emails(t.key);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.data.length, 1);
  const [mail] = res.body.data;
  assert.equal(mail.to, invitee.email);
  assert.equal(mail.status, 'unsent');
  assert.equal(mail.attempts, 0);
  assert.equal(mail.sent_at, null);
  assert.equal(mail.scope, 'org');
  // Without OPSBASE_PUBLIC_URL the link names the server's own port.
  assert.ok(mail.text.includes(`http://localhost:4321/invites/accept?token=${invite.body.token}`), mail.text);
  assert.equal((await sql(app, `select count(*)::int as n from queue_jobs where queue = 'mail.send'`))[0].n, 0, 'no send job without SMTP');

  // The link's token works.
  const joined = await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: invite.body.token } });
  assert.equal(joined.status, 200, JSON.stringify(joined.body));

  // Newest first, paginated, filtered.
  await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: 'second@example.com', role: 'viewer' } });
  const page = await emails(t.key, {}, '?limit=1');
  assert.equal(page.body.data[0].to, 'second@example.com');
  assert.equal(page.body.meta.has_more, true);
  const next = await emails(t.key, {}, `?limit=1&cursor=${page.body.meta.next_cursor}`);
  assert.equal(next.body.data[0].to, invitee.email);
  assert.equal((await emails(t.key, {}, '?status=sent')).body.data.length, 0);
  assertEnvelope(await emails(t.key, {}, '?status=lost'), 400, 'invalid_request');
});

test('only owners and admins read it (members, viewers and narrower keys get 403); another org sees none of it', async () => {
  const t = await app.tenant('Readers');
  await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: 'readers@example.com', role: 'member' } });
  // The free tier's 3 seats: the owner, the invite, and one more member whose role changes.
  const u = await register(app);
  for (const role of ['viewer', 'member', 'admin'] as const) {
    const set =
      role === 'viewer'
        ? await app.request('POST', '/api/v1/org/members', { key: t.key, body: { user_id: u.id, role } })
        : await app.request('PATCH', `/api/v1/org/members/${u.id}`, { key: t.key, body: { role } });
    assert.ok(set.status < 300, JSON.stringify(set.body));
    const res = await emails(u.token, { 'x-org-id': t.orgId });
    if (role === 'admin') assert.equal(res.body.data[0]?.to, 'readers@example.com', JSON.stringify(res.body));
    else assertEnvelope(res, 403, 'forbidden', role);
  }
  const narrow = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'reader', scopes: ['members:read', 'logs:read'] } });
  assertEnvelope(await emails(narrow.body.secret), 403, 'forbidden', 'members:read key');
  const other = await app.tenant('Elsewhere');
  assert.ok(!(await emails(other.key)).body.data.some((m: { to: string }) => m.to === 'readers@example.com'));
});

test('password resets are instance mail: the instance admin reads the link and completes the reset; org owners do not see it', async () => {
  const user = await register(app);
  assert.equal((await app.request('POST', '/api/v1/auth/forgot-password', { body: { email: user.email } })).status, 200);
  const owner = await app.tenant('NotInstanceAdmin');
  assert.ok(!(await emails(owner.sessionToken, { 'x-org-id': owner.orgId })).body.data.some((m: { to: string }) => m.to === user.email));
  assert.ok(!(await emails(app.admin.key)).body.data.some((m: { to: string }) => m.to === user.email), "not through the admin's org key");

  const res = await emails(app.admin.sessionToken, {}, `?to=${encodeURIComponent(user.email)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const [mail] = res.body.data;
  assert.equal(mail.scope, 'instance');
  assert.equal(mail.status, 'unsent');
  const token = /reset-password\?token=(obp_\S+)/.exec(mail.text)?.[1];
  assert.ok(token, mail.text);
  assert.equal((await app.request('POST', '/api/v1/auth/reset-password', { body: { token, password: 'reset-by-the-admin-7' } })).status, 200);
  assert.equal((await app.request('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'reset-by-the-admin-7' } })).status, 200);
});
