// Prepared statements per shape (db/prepared.ts) on a real PostgreSQL: one shape is built once and run with each
// call's own values; another shape is another statement; PostgreSQL holds them under their names.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Db } from '../src/db/client.ts';
import { Bindings, preparedFor } from '../src/db/prepared.ts';
import { tasks } from '../src/db/schema/tasks.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

let app: TestApp;
const db = () => app.app.services.database.db;

before(async () => {
  app = await startTestApp();
});
after(() => app?.close());

/** Task titles of an org, archived or not: `archived` changes the statement's structure, the org only its values. */
function titles(orgId: string, archived: boolean, built: { count: number }, on: Db = db()) {
  const b = new Bindings();
  const org = b.bind('org', orgId);
  b.shape(archived ? 'archived' : 'live');
  const query = preparedFor(on, 'test_titles', b, () => {
    built.count++;
    return on
      .select({ title: tasks.title })
      .from(tasks)
      .where(and(eq(tasks.orgId, org), archived ? isNotNull(tasks.archivedAt) : isNull(tasks.archivedAt)))
      .orderBy(tasks.title);
  });
  return query.execute(b.values);
}

test('one shape is built once and runs with each call’s values; another shape is another statement', async () => {
  const other = await app.tenant('other');
  for (const [key, title] of [
    [app.admin.key, 'Ours'],
    [other.key, 'Theirs'],
  ]) {
    const res = await app.request('POST', '/api/v1/tasks', { key, body: { title } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const built = { count: 0 };
  assert.deepEqual(await titles(app.admin.orgId, false, built), [{ title: 'Ours' }]);
  assert.deepEqual(await titles(other.orgId, false, built), [{ title: 'Theirs' }]);
  assert.equal(built.count, 1, 'the second org reused the statement');
  assert.deepEqual(await titles(other.orgId, true, built), []);
  assert.equal(built.count, 2, 'archived is another shape');
  // PostgreSQL holds them by name: on a single connection, running both shapes leaves two statements of this scope.
  const client = await app.app.services.database.pool.connect();
  try {
    const one = drizzle(client) as unknown as Db;
    for (const archived of [false, true]) await titles(app.admin.orgId, archived, built, one);
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements where name like 'test_titles_%'`);
    assert.equal(rows[0].n, 2);
  } finally {
    client.release();
  }
});

test('a value bound twice under one name is refused (it would silently take one of them)', () => {
  const b = new Bindings();
  b.bind('org', 'a');
  assert.throws(() => b.bind('org', 'b'), /bound twice: org/);
});
