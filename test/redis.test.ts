// With REDIS_URL set, rate-limit counts are shared through Redis instead of PostgreSQL (DESIGN §7).
// Runs against the Redis at OPSBASE_TEST_REDIS_URL (CI sets it); skipped with the reason when unset or unreachable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'redis';
import { startTestApp } from './helpers/harness.ts';

const url = process.env.OPSBASE_TEST_REDIS_URL;

test('two instances share one rate limit through Redis', async (t) => {
  if (!url) return t.skip('OPSBASE_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379)');
  const probe = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  probe.on('error', () => {});
  try {
    await probe.connect();
  } catch (err) {
    return t.skip(`Redis at OPSBASE_TEST_REDIS_URL is unreachable: ${(err as Error).message}`);
  }
  const a = await startTestApp({ env: { REDIS_URL: url } });
  const b = await a.second();
  try {
    const tenant = await a.tenant('Redis');
    const created = await a.request('POST', '/api/v1/keys', { key: tenant.key, body: { name: 'limited', rate_limit_per_minute: 6 } });
    assert.equal(created.status, 201);
    const key = created.body.secret as string;
    for (const app of [a, a, a, b, b, b]) assert.equal((await app.request('GET', '/api/v1/whoami', { key })).status, 200);
    // Let both instances push their counts to Redis and read the shared total back.
    await new Promise((r) => setTimeout(r, 600));
    const over = await b.request('GET', '/api/v1/whoami', { key });
    assert.equal(over.status, 429);
    assert.equal(over.body.error, 'rate_limited');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    const keys = await probe.keys(`opsbase:rl:key:${created.body.id}@60000:*`);
    assert.equal(keys.length, 1);
    // The six admitted requests of both instances were synced (the seventh may still be pending locally).
    assert.ok(Number(await probe.get(keys[0])) >= 6);
  } finally {
    await b.close();
    await a.close();
    await probe.quit().catch(() => {});
  }
});
