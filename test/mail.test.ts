// Email, delivered (issue 8): with OPSBASE_SMTP_URL the worker's `mail.send` job sends the outbox with nodemailer to a
// real SMTP server on loopback (smtp-server, parsed with mailparser). An invite arrives with its link; a reset mail's
// link resets the password for real; a refusing or absent server means retries with backoff, then `failed` with the
// error in `GET /dev/emails`; a message is never sent twice, even with two workers. (Without SMTP: mail-outbox.test.ts.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { systemCtx } from '../src/core/context.ts';
import { sendOutboxMessage } from '../src/modules/notifications/mail.ts';
import { queueEmail } from '../src/modules/notifications/outbox.ts';
import { closeDb, register, sleep, sql } from './helpers/db.ts';
import { until } from './helpers/until.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { type ReceivedMail, startSmtp, type TestSmtp } from './helpers/smtp.ts';

const PUBLIC_URL = 'https://ops.example.test';
let smtp: TestSmtp;
let app: TestApp;
let worker: Worker;
before(async () => {
  smtp = await startSmtp();
  app = await startTestApp({ env: { OPSBASE_SMTP_URL: smtp.url, OPSBASE_PUBLIC_URL: PUBLIC_URL, OPSBASE_MAIL_FROM: 'Ops <ops@example.test>' } });
  worker = await startWorker(app.app.services, { pollMs: 200 });
});
after(async () => {
  await worker.stop();
  await closeDb(app);
  await app.close();
  await smtp.close();
});


const mailTo = (to: string) => until(`a mail to ${to}`, () => smtp.received.find((m) => m.to.includes(to)));
const outbox = async (key: string, query = '') => {
  const res = await app.request('GET', `/api/v1/dev/emails${query}`, { key });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data as Record<string, any>[];
};
/** The mail.send job of message `id` runs now instead of after its backoff. */
const fastForward = (id: string) => sql(app, `update queue_jobs set run_at = now() where org_id = 'system' and payload->>'id' = $1 and state = 'waiting'`, [id]);
const row = async (id: string) => (await sql(app, 'select status, attempts, last_error, sent_at from email_outbox where id = $1', [id]))[0];

test('an invite mail arrives with the right recipient, subject and a complete link whose token joins the org', async () => {
  const t = await app.tenant('Invites');
  const invitee = await register(app);
  const res = await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: invitee.email, role: 'member' } });
  assert.equal(res.status, 201, JSON.stringify(res.body));

  const mail: ReceivedMail = await mailTo(invitee.email);
  assert.deepEqual(mail.to, [invitee.email]);
  assert.equal(mail.from, 'ops@example.test');
  assert.match(mail.subject, /^You are invited to Invites [0-9a-f]+ on Opsbase$/);
  const link = /(https:\/\/\S+\/invites\/accept\?token=(obi_\S+))/.exec(mail.text);
  assert.ok(link, mail.text);
  assert.ok(link[1].startsWith(`${PUBLIC_URL}/invites/accept?token=`), 'the link uses OPSBASE_PUBLIC_URL');
  assert.equal(link[2], res.body.token);
  const joined = await app.request('POST', '/api/v1/invites/accept', { key: invitee.token, body: { token: link[2] } });
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  assert.equal(joined.body.id, t.orgId);

  // Its delivery status: sent once, with the Message-ID the server received.
  const listed = await until('the message marked sent', async () =>
    (await outbox(t.key, `?to=${encodeURIComponent(invitee.email)}`)).find((m) => m.status === 'sent'),
  );
  assert.equal(listed.attempts, 1);
  assert.equal(listed.last_error, null);
  assert.ok(listed.sent_at);
  assert.equal(listed.message_id, mail.messageId);
  assert.match(listed.message_id, /^<eml_[0-9a-z]+@example\.test>$/);
  assert.equal(listed.scope, 'org');
});

test('a password-reset mail arrives; its link resets the password through the real API and the new one logs in', async () => {
  const user = await register(app);
  const res = await app.request('POST', '/api/v1/auth/forgot-password', { body: { email: user.email } });
  assert.equal(res.status, 200);
  const mail = await mailTo(user.email);
  assert.equal(mail.subject, 'Reset your Opsbase password');
  const link = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/reset-password\\?token=(obp_\\S+)`).exec(mail.text);
  assert.ok(link, mail.text);

  const reset = await app.request('POST', '/api/v1/auth/reset-password', { body: { token: link[1], password: 'a-brand-new-password-42' } });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal((await app.request('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } })).status, 401);
  const login = await app.request('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'a-brand-new-password-42' } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
});

test('a server that refuses (451) or is down: retried with doubling backoff, then failed with the error in dev.emails', async () => {
  const t = await app.tenant('Refused');
  smtp.refuseWith = 451;
  try {
    const to = 'refused@example.com';
    assert.equal((await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: to, role: 'member' } })).status, 201);
    const [{ id }] = await sql(app, 'select id from email_outbox where "to" = $1', [to]);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const r = await until(`attempt ${attempt}`, async () => {
        const x = await row(id);
        const [job] = await sql(app, `select state from queue_jobs where org_id = 'system' and payload->>'id' = $1`, [id]);
        return x.attempts === attempt && x.status !== 'sending' && job.state !== 'active' && x;
      });
      assert.match(r.last_error, /451/);
      if (attempt < 5) {
        assert.equal(r.status, 'queued', `attempt ${attempt} is retried`);
        const [job] = await sql(app, `select extract(epoch from run_at - updated_at)::float as delay from queue_jobs where org_id = 'system' and payload->>'id' = $1`, [id]);
        delays.push(Math.round(job.delay));
        await fastForward(id);
      } else assert.equal(r.status, 'failed', 'the last attempt fails it');
    }
    assert.deepEqual(delays, [30, 60, 120, 240], 'backoff doubles from 30 s');
    const [listed] = await outbox(t.key, `?to=${to}`);
    assert.equal(listed.status, 'failed');
    assert.equal(listed.attempts, 5);
    assert.match(listed.last_error, /451 try again later/);
    assert.ok(!smtp.received.some((m) => m.to.includes(to)));

    // A permanent refusal (550) is not retried.
    smtp.refuseWith = 550;
    const perm = 'permanent@example.com';
    assert.equal((await app.request('POST', '/api/v1/org/invites', { key: t.key, body: { email: perm, role: 'member' } })).status, 201);
    const p = await until('the 550', async () => (await outbox(t.key, `?to=${perm}`)).find((m) => m.status === 'failed'));
    assert.equal(p.attempts, 1);
    assert.match(p.last_error, /550/);
  } finally {
    smtp.refuseWith = null;
  }

  // Down: nothing listens on the port; once the server is back, the retry delivers.
  await smtp.close();
  const down = 'down@example.com';
  try {
    const other = await app.tenant('Down'); // the free tier's 3 seats: a member and 2 pending invites per org
    assert.equal((await app.request('POST', '/api/v1/org/invites', { key: other.key, body: { email: down, role: 'member' } })).status, 201);
    const [{ id }] = await sql(app, 'select id from email_outbox where "to" = $1', [down]);
    // The outbox row is updated before its job is: wait for the job to be back in the queue too, or the fast-forward
    // below could land while the attempt is still active, and its retry would then wait out the real backoff.
    const first = await until('the failed connection', async () => {
      const x = await row(id);
      const [job] = await sql(app, `select state from queue_jobs where org_id = 'system' and payload->>'id' = $1`, [id]);
      return x.attempts === 1 && x.status === 'queued' && job.state === 'waiting' && x;
    });
    assert.match(first.last_error, /ECONNREFUSED|connect/i);
  } finally {
    smtp = await startSmtp(smtp.port);
  }
  const [{ id }] = await sql(app, 'select id from email_outbox where "to" = $1', [down]);
  await fastForward(id);
  await mailTo(down);
  const sent = await until('sent after the server came back', async () => {
    const x = await row(id);
    return x.status === 'sent' && x;
  });
  assert.equal(sent.attempts, 2);
});

test('never sent twice: two workers on two instances drain 20 messages, each delivered once; racing sends of one message send it once', async () => {
  const second = await app.second();
  const worker2 = await startWorker(second.app.services, { pollMs: 200 });
  try {
    const t = await app.tenant('Twice');
    const before = smtp.received.length;
    const emails = Array.from({ length: 20 }, (_, i) => `twice-${i}@example.com`);
    // Written as a service writes mail (queueEmail in its transaction), 20 at once.
    const { services } = app.app;
    await services.database.db.transaction(async (tx) => {
      for (const to of emails) await queueEmail(systemCtx(services, tx, t.orgId), { to, subject: 'Twice?', text: 'Once.' });
    });
    await until('20 mails', () => smtp.received.length - before >= 20);
    await sleep(500); // a duplicate would arrive now
    const mine = smtp.received.filter((m) => emails.includes(m.to[0]));
    assert.equal(mine.length, 20);
    assert.equal(new Set(mine.map((m) => m.messageId)).size, 20, 'each Message-ID once');
    const rows = await sql(app, `select status, attempts from email_outbox where "to" like 'twice-%'`);
    assert.deepEqual(
      rows.map((r) => [r.status, r.attempts]),
      rows.map(() => ['sent', 1]),
    );

    // Two sends of one queued message at once (as two workers would): one takes it, the other is refused.
    await sql(app, `insert into email_outbox (id, org_id, "to", subject, text, message_id) values ('eml_race', $1, 'race@example.com', 'Race', 'once', '<eml_race@example.test>')`, [
      t.orgId,
    ]);
    const results = await Promise.allSettled([
      sendOutboxMessage(app.app.services, 'eml_race', false),
      sendOutboxMessage(second.app.services, 'eml_race', false),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.match(String(refused.reason), /another attempt is sending/);
    await sleep(300);
    assert.equal(smtp.received.filter((m) => m.messageId === '<eml_race@example.test>').length, 1);
    assert.deepEqual(await row('eml_race').then((r) => [r.status, r.attempts]), ['sent', 1]);
    // Once sent, another attempt sends nothing.
    assert.deepEqual(await sendOutboxMessage(app.app.services, 'eml_race', false), { skipped: 'the message is already sent or failed' });
  } finally {
    await worker2.stop();
    await second.close();
  }
});
