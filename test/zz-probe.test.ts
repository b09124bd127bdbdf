import { test } from 'node:test';
import { startTestApp } from '/work/main/test/helpers/harness.ts';
test('probe', async () => {
  const app = await startTestApp();
  const t = await app.tenant();
  console.log(JSON.stringify((await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: [[]], description: [[]], scopes: [[]], expires_at: [[]], rate_limit_per_minute: [[]] } })).body));
  console.log(JSON.stringify((await app.request('POST', '/api/v1/keys', { key: t.key, body: {} })).body));
  console.log(JSON.stringify((await app.request('DELETE', '/api/v1/users/me', { key: t.sessionToken, raw: '{bad' })).body));
  console.log(JSON.stringify((await app.request('POST', '/api/v1/activity-log', { key: t.key, raw: 'hello', headers: {'content-type': 'text/plain'} })).body));
  const r = await app.request('GET', '/api/docs');
  console.log(r.status, r.headers.get('content-type'), String(r.body).slice(0, 100));
  await app.close();
});
