import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

test('health, ready and version answer without credentials', async () => {
  const health = await app.request('GET', '/api/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.db, 'up');
  assert.equal(typeof health.body.uptime_seconds, 'number');
  assert.equal((await app.request('GET', '/api/ready')).body.ready, true);
  const version = await app.request('GET', '/api/version');
  assert.match(version.body.version, /^\d+\.\d+\.\d+/);
});

test('whoami names the org, plan, credits and key', async () => {
  const t = await app.tenant('Whoami');
  const res = await app.request('GET', '/api/v1/whoami', { key: t.key });
  assert.equal(res.status, 200);
  assert.equal(res.body.org.id, t.orgId);
  assert.equal(res.body.plan, 'free');
  assert.equal(res.body.credits, 0);
  assert.deepEqual(res.body.key, { id: t.keyId, name: 'test', scopes: ['*'] });
  assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
});

test('concurrent whoami calls of different orgs, batched into one query, each get their own org and credits', async () => {
  const [a, b] = await Promise.all([app.tenant('BatchA'), app.tenant('BatchB')]);
  const grant = await app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body: { org: b.orgId, credits: 7 } });
  assert.equal(grant.status, 201);
  const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a));
  const results = await Promise.all(calls.map((t) => app.request('GET', '/api/v1/whoami', { key: t.key })));
  results.forEach((res, i) => {
    assert.equal(res.status, 200);
    assert.equal(res.body.org.id, calls[i].orgId);
    assert.equal(res.body.credits, calls[i] === b ? 7 : 0);
  });
});
