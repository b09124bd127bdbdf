// Issue 8, items 4–7: the rate limit in force is the smallest of the key's, the plan's and the instance's; failed
// authentication is throttled per client IP and cannot flood the credential cache; the login throttle counts each
// attempt atomically, across instances; a look-up racing a revocation never re-caches the revoked credential.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sha256 } from '../src/core/crypto.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let t: Tenant;
before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '1000', OPSBASE_AUTH_FAILURES_PER_MINUTE: '30' } });
  t = await app.tenant('Hardening');
});
after(() => app.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let ipCounter = 0;
/** A client address of its own (tests stand behind a trusted proxy), so throttles of one test do not touch another. */
const freshIp = () => `10.77.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

async function freshWindow(needMs: number) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await sleep(left + 50);
}

const whoami = (key: string, ip = freshIp()) => app.request('GET', '/api/v1/whoami', { key, headers: { 'x-forwarded-for': ip } });

test("a key cannot lift its own rate limit past the instance's", async () => {
  const created = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'greedy', scopes: ['keys:write', 'keys:read'] } });
  const greedy = created.body;
  // It may set its own limit (keys:write), even sky-high …
  const raised = await app.request('PATCH', `/api/v1/keys/${greedy.id}`, { key: greedy.secret, body: { rate_limit_per_minute: 1_000_000 } });
  assert.equal(raised.status, 200, JSON.stringify(raised.body));
  // … but the instance's 1,000 still holds.
  assert.equal((await whoami(greedy.secret)).headers.get('ratelimit-limit'), '1000');
  // Lower than the instance's, its own holds.
  await app.request('PATCH', `/api/v1/keys/${greedy.id}`, { key: t.key, body: { rate_limit_per_minute: 7 } });
  assert.equal((await whoami(greedy.secret)).headers.get('ratelimit-limit'), '7');
});

test("a plan's rate limit caps every key and session of its orgs, on every instance at once", async () => {
  // Its own database: changing the `free` tier here must not touch other tests.
  const own = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '1000' } });
  const second = await own.second();
  try {
    const org = await own.tenant('Planned');
    const tier = (await own.request('GET', '/api/v1/billing/tiers', { key: org.key })).body.data.find((x: { id: string }) => x.id === 'free');
    assert.equal(tier.rate_limit_per_minute, null, 'built-in tiers set no cap');
    const { id: _id, ...rest } = tier;
    const upsert = await own.request('PUT', '/api/v1/billing/tiers/free', {
      key: own.admin.sessionToken,
      body: { ...rest, description: rest.description ?? undefined, rate_limit_per_minute: 4 },
    });
    assert.equal(upsert.status, 200, JSON.stringify(upsert.body));
    assert.equal(upsert.body.rate_limit_per_minute, 4);
    const mine = await own.request('POST', '/api/v1/keys', { key: org.key, body: { name: 'own-limit', scopes: ['*'], rate_limit_per_minute: 100 } });
    await freshWindow(8000);
    for (const instance of [own, second]) {
      const res = await instance.request('GET', '/api/v1/whoami', { key: mine.body.secret });
      assert.equal(res.headers.get('ratelimit-limit'), '4', "the plan's 4 beats the key's 100 and the instance's 1,000");
    }
    const session = await own.request('GET', '/api/v1/whoami', { key: org.sessionToken });
    assert.equal(session.headers.get('ratelimit-limit'), '4', 'sessions too');
    for (let i = 0; i < 3; i++) await own.request('GET', '/api/v1/whoami', { key: mine.body.secret });
    assertEnvelope(await own.request('GET', '/api/v1/whoami', { key: mine.body.secret }), 429, 'rate_limited', 'the 5th request');
  } finally {
    await second.close();
    await own.close();
  }
});

test('failed authentication is throttled per client IP; a real credential from that IP keeps working', async () => {
  await freshWindow(8000);
  const ip = freshIp();
  assert.equal((await whoami(t.key, ip)).status, 200, 'the real key is resolved (and cached) first');
  for (let i = 0; i < 30; i++) assertEnvelope(await whoami(`obk_live_guess${i}`, ip), 401, 'unauthorized', `guess ${i + 1}`);
  const over = await whoami('obk_live_guess-over', ip);
  assertEnvelope(over, 429, 'rate_limited', 'the 31st failure');
  assert.ok(Number(over.headers.get('retry-after')) >= 1);
  // Malformed headers count too, and are refused as well.
  const malformed = await app.request('GET', '/api/v1/whoami', { headers: { authorization: 'Basic abc', 'x-forwarded-for': ip } });
  assertEnvelope(malformed, 429, 'rate_limited', 'a malformed header from a throttled address');
  assert.equal((await whoami(t.key, ip)).status, 200, 'the cached real key from the same address');
  assertEnvelope(await whoami('obk_live_other', freshIp()), 401, 'unauthorized', 'another address is not throttled');
});

test('unknown credentials cannot evict real ones from the cache: negatives are bounded apart, old entries go first', async () => {
  const cache = app.app.services.authCache;
  assert.equal((await whoami(t.key)).status, 200);
  const realKey = `p:${sha256(t.key)}`;
  assert.ok(cache.get(realKey), 'the real key is cached');
  // Unknown tokens over HTTP are remembered as negatives …
  const before = cache.size.negative;
  const ips = Array.from({ length: 100 }, freshIp);
  for (let batch = 0; batch < 3; batch++) await Promise.all(ips.map((ip, i) => whoami(`obk_live_flood_${batch}_${i}`, ip)));
  assert.ok(cache.size.negative >= before + 300, `negatives cached: ${cache.size.negative}`);
  // … in a store of their own, bounded, oldest out first: a flood far past the bound (as a look-up stores them).
  for (let i = 0; i < 8000; i++) cache.set(`p:${sha256(`obk_live_more_${i}`)}`, null, cache.generation);
  assert.ok(cache.size.negative <= 5000, `negatives bounded: ${cache.size.negative}`);
  assert.ok(cache.size.negative >= 4000, `the newest negatives are kept: ${cache.size.negative}`);
  assert.ok(cache.get(realKey), 'the real key is still cached');
  assert.equal(cache.get(`p:${sha256('obk_live_flood_0_0')}`), undefined, 'the oldest negatives went first');
  assert.equal(cache.get(`p:${sha256('obk_live_more_7999')}`), null, 'the newest negative is kept');
  assert.equal((await whoami(t.key)).status, 200);
});

test('login counts each attempt before checking it: 30 parallel guesses over two instances get at most 10 tries', async () => {
  const second = await app.second();
  try {
    const victim = await app.tenant('Victim');
    const guess = (instance: TestApp, i: number) =>
      instance.request('POST', '/api/v1/auth/login', { body: { email: victim.email, password: `wrong-guess-${i}` } });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => guess(i % 2 ? second : app, i)));
    const tried = results.filter((r) => r.status === 401).length;
    const refused = results.filter((r) => r.status === 429).length;
    assert.equal(tried, 10, `exactly 10 guesses were checked (${results.map((r) => r.status).join(',')})`);
    assert.equal(refused, 20);
    for (const r of results.filter((x) => x.status === 429)) assertEnvelope(r, 429, 'rate_limited');
    // The right password is refused too while the email is throttled.
    assert.equal((await app.request('POST', '/api/v1/auth/login', { body: { email: victim.email, password: victim.password } })).status, 429);
  } finally {
    await second.close();
  }
});

test('a successful login does not use up an attempt', async () => {
  const u = await app.tenant('Regular');
  for (let i = 0; i < 15; i++) {
    const res = await app.request('POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password }, headers: { 'x-forwarded-for': freshIp() } });
    assert.equal(res.status, 200, `login ${i + 1}: ${JSON.stringify(res.body)}`);
  }
});

test('revocation race: a look-up that read the key before the revoke committed cannot cache it after the NOTIFY', async () => {
  const second = await app.second();
  try {
    const created = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'racing', scopes: ['*'] } });
    const { id, secret } = created.body;
    const cache = app.app.services.authCache;
    // The look-up on this instance starts: it notes the generation and reads the key, still valid.
    const generation = cache.generation;
    const stale = (await app.app.services.database.pool.query('select id, org_id from api_keys where id = $1', [id])).rows[0];
    assert.ok(stale);
    // Meanwhile the key is revoked on the other instance; its NOTIFY reaches this one.
    assert.equal((await second.request('POST', `/api/v1/keys/${id}/revoke`, { key: t.key, body: {} })).status, 200);
    for (let i = 0; i < 100 && cache.generation === generation; i++) await sleep(10);
    assert.notEqual(cache.generation, generation, 'the NOTIFY arrived');
    // Only now does the slow look-up finish and try to cache what it read: it must be dropped.
    cache.set(
      `p:${sha256(secret)}`,
      { kind: 'key', keyId: id, orgId: stale.org_id, plan: 'free', name: 'racing', scopes: ['*'], rateLimit: null, validUntil: null, agentId: null },
      generation,
    );
    assertEnvelope(await whoami(secret), 401, 'unauthorized', 'the revoked key after the race');
    assertEnvelope(await second.request('GET', '/api/v1/whoami', { key: secret }), 401, 'unauthorized', 'on the other instance too');
  } finally {
    await second.close();
  }
});
