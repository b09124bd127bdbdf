// Documents and folders (issue 12): revisions only when the title or content changes, the line diff between two,
// folder paths wherever a folder id is taken, delete only when empty (or recursive), no move under itself, the
// summary drafted by a background job, and the search index following every change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { funded } from './helpers/funded.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { MAIN, runProcess } from './helpers/run-process.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const post = (t: Tenant, path: string, body: unknown) => app.request('POST', `/api/v1${path}`, { key: t.key, body });
const patch = (t: Tenant, path: string, body: unknown) => app.request('PATCH', `/api/v1${path}`, { key: t.key, body });
const get = (t: Tenant, path: string) => app.request('GET', `/api/v1${path}`, { key: t.key });
const del = (t: Tenant, path: string) => app.request('DELETE', `/api/v1${path}`, { key: t.key });

async function created(res: Awaited<ReturnType<typeof post>>) {
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** The document's row in search_entries, read directly. */
async function entry(docId: string) {
  const rows = await app.app.services.database.db.execute<{ org_id: string; title: string; body: string; meta: { folder: string; tags: string[] } }>(
    sql`select org_id, title, body, meta from search_entries where kind = 'document' and object_id = ${docId}`,
  );
  return rows.rows[0];
}

test('revisions: created at 1; a title or content change makes the next; tags, kind or a move alone make none', async () => {
  const t = await app.tenant('Revisions');
  const doc = await created(await post(t, '/documents', { title: 'Refund policy', content_md: 'Refunds within 14 days.\n', tags: ['policy'] }));
  assert.match(doc.id, /^doc_/);
  assert.equal(doc.revision, 1);
  assert.equal(doc.kind, 'note');
  assert.equal(doc.folder_id, null);

  const tagged = await patch(t, `/documents/${doc.id}`, { tags: ['policy', 'customers'], kind: 'policy' });
  assert.equal(tagged.status, 200, JSON.stringify(tagged.body));
  assert.equal(tagged.body.revision, 1, 'tags and kind alone make no revision');
  assert.deepEqual(tagged.body.tags, ['policy', 'customers']);
  const same = await patch(t, `/documents/${doc.id}`, { content_md: 'Refunds within 14 days.\n', title: 'Refund policy' });
  assert.equal(same.body.revision, 1, 'the same text again is no change');

  const edited = await patch(t, `/documents/${doc.id}`, { content_md: 'Refunds within 30 days.\nAsk support.\n' });
  assert.equal(edited.body.revision, 2);
  const renamed = await patch(t, `/documents/${doc.id}`, { title: 'Refunds' });
  assert.equal(renamed.body.revision, 3);

  const list = await get(t, `/documents/${doc.id}/revisions`);
  assert.equal(list.status, 200, JSON.stringify(list.body));
  assert.deepEqual(
    list.body.data.map((r: { number: number; title: string }) => [r.number, r.title]),
    [
      [3, 'Refunds'],
      [2, 'Refund policy'],
      [1, 'Refund policy'],
    ],
  );
  assert.equal(list.body.data[0].created_by.type, 'system', 'an API key acts as the system actor');
  assert.deepEqual(
    list.body.data.map((r: { lines: number }) => r.lines),
    [2, 2, 1],
    'lines of each revision (a final newline ends the last one)',
  );
  const paged = await get(t, `/documents/${doc.id}/revisions?limit=2`);
  assert.equal(paged.body.meta.has_more, true);
  const rest = await get(t, `/documents/${doc.id}/revisions?limit=2&cursor=${paged.body.meta.next_cursor}`);
  assert.deepEqual(
    rest.body.data.map((r: { number: number }) => r.number),
    [1],
  );

  const one = await get(t, `/documents/${doc.id}/revisions/1`);
  assert.equal(one.body.content_md, 'Refunds within 14 days.\n');
  assert.equal(one.body.lines, 1);
  assert.equal(one.body.diff, undefined);
  const diff = await get(t, `/documents/${doc.id}/revisions/3?compare_to=1`);
  assert.equal(diff.status, 200, JSON.stringify(diff.body));
  assert.equal(diff.body.diff.from, 1);
  assert.equal(diff.body.diff.to, 3);
  assert.equal(diff.body.diff.title_changed, true);
  assert.deepEqual(
    diff.body.diff.lines.map((l: { type: string; text: string }) => [l.type, l.text]),
    [
      ['removed', 'Refunds within 14 days.'],
      ['added', 'Refunds within 30 days.'],
      ['added', 'Ask support.'],
    ],
  );
  assert.equal(diff.body.diff.added, 2);
  assert.equal(diff.body.diff.removed, 1);
  assert.equal(diff.body.diff.unified, '- Refunds within 14 days.\n+ Refunds within 30 days.\n+ Ask support.');
  assertEnvelope(await get(t, `/documents/${doc.id}/revisions/9`), 404, 'not_found', 'a revision that does not exist');
  const badCompare = await get(t, `/documents/${doc.id}/revisions/1?compare_to=7`);
  assertEnvelope(badCompare, 404, 'not_found', 'compare_to a revision that does not exist');
  assert.equal(badCompare.body.details.field, 'compare_to');

  const acts = await get(t, `/activity-log?entity_type=document`);
  assert.deepEqual(acts.body.data.map((a: { action: string }) => a.action).sort(), ['document.created', ...Array(4).fill('document.updated')]);
  const events = await get(t, '/events?type=document.updated');
  assert.equal(events.status, 200, JSON.stringify(events.body));
  assert.ok(events.body.data.some((e: { data: { new_revision: boolean } }) => e.data.new_revision === true));
  assert.ok(events.body.data.some((e: { data: { new_revision: boolean } }) => e.data.new_revision === false));
});

test('folders: a tree with paths; a folder named by path wherever an id is; sibling names unique; no move under itself', async () => {
  const t = await app.tenant('Folders');
  const policies = await created(await post(t, '/folders', { name: 'Policies' }));
  assert.match(policies.id, /^fld_/);
  assert.equal(policies.path, 'Policies');
  const eu = await created(await post(t, '/folders', { name: 'EU', parent_id: 'policies' }));
  assert.equal(eu.parent_id, policies.id, 'the parent named by its path, whatever the case');
  assert.equal(eu.path, 'Policies/EU');
  const archive = await created(await post(t, '/folders', { name: 'Archive' }));
  const dup = await post(t, '/folders', { name: 'eu', parent_id: policies.id });
  assertEnvelope(dup, 409, 'conflict', 'a sibling with the same name');
  assert.equal(dup.body.details.field, 'name');
  assert.equal((await post(t, '/folders', { name: 'EU', parent_id: archive.id })).status, 201, 'the same name elsewhere is fine');

  const doc = await created(await post(t, '/documents', { title: 'GDPR', folder_id: 'Policies/EU', content_md: 'Data stays in the EU.' }));
  assert.equal(doc.folder_id, eu.id);
  assert.equal(doc.folder_path, 'Policies/EU');
  await created(await post(t, '/documents', { title: 'At the root' }));

  const tree = await get(t, '/folders');
  assert.deepEqual(
    tree.body.data.map((f: { path: string; depth: number; document_count: number }) => [f.path, f.depth, f.document_count]),
    [
      ['Archive', 0, 0],
      ['Archive/EU', 1, 0],
      ['Policies', 0, 0],
      ['Policies/EU', 1, 1],
    ],
  );
  const sub = await get(t, '/folders?parent_id=Policies');
  assert.deepEqual(
    sub.body.data.map((f: { path: string }) => f.path),
    ['Policies', 'Policies/EU'],
  );

  // Lists as BizOS: the root by default, one folder, or everything.
  const titles = async (q: string) => (await get(t, `/documents${q}`)).body.data.map((d: { title: string }) => d.title);
  assert.deepEqual(await titles(''), ['At the root']);
  assert.deepEqual(await titles('?folder_id=Policies%2FEU'), ['GDPR']);
  assert.deepEqual(await titles(`?folder_id=${eu.id}`), ['GDPR']);
  assert.deepEqual(await titles('?all=1'), ['At the root', 'GDPR']);
  assertEnvelope(await get(t, '/documents?folder_id=Nowhere'), 404, 'not_found', 'an unknown folder path');

  // A move under itself or under its own child: 422, nothing changed.
  const self = await patch(t, `/folders/${policies.id}`, { parent_id: policies.id });
  assertEnvelope(self, 422, 'unprocessable', 'a folder under itself');
  assert.equal(self.body.details.field, 'parent_id');
  assertEnvelope(await patch(t, `/folders/${policies.id}`, { parent_id: 'Policies/EU' }), 422, 'unprocessable', 'a folder under its child');
  assert.equal((await get(t, '/folders?parent_id=Policies')).body.data[0].parent_id, null);
  assertEnvelope(await patch(t, `/folders/${archive.id}`, { name: 'Policies' }), 409, 'conflict', 'a rename onto a sibling');

  // Rename and move: the documents below follow in the search index (meta.folder).
  assert.equal((await entry(doc.id)).meta.folder, 'Policies/EU');
  const renamed = await patch(t, `/folders/${policies.id}`, { name: 'Rules' });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  assert.equal(renamed.body.path, 'Rules');
  assert.equal((await entry(doc.id)).meta.folder, 'Rules/EU');
  const moved = await patch(t, '/folders/Rules%2FEU', { parent_id: archive.id, name: 'Europe' });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(moved.body.path, 'Archive/Europe');
  assert.equal((await entry(doc.id)).meta.folder, 'Archive/Europe');
  assert.equal((await get(t, `/documents/${doc.id}`)).body.folder_path, 'Archive/Europe');
  const toRoot = await patch(t, `/folders/${moved.body.id}`, { parent_id: null });
  assert.equal(toRoot.body.path, 'Europe');
  assert.equal((await entry(doc.id)).meta.folder, 'Europe');

  const acts = await get(t, '/activity-log?entity_type=folder');
  assert.ok(acts.body.data.some((a: { action: string }) => a.action === 'folder.moved'));
});

test('folder delete: refused while not empty (409); recursive deletes what is inside and its index entries', async () => {
  const t = await app.tenant('FolderDelete');
  const top = await created(await post(t, '/folders', { name: 'Handbook' }));
  const inner = await created(await post(t, '/folders', { name: 'Onboarding', parent_id: top.id }));
  const empty = await created(await post(t, '/folders', { name: 'Empty' }));
  const a = await created(await post(t, '/documents', { title: 'Welcome', folder_id: top.id, content_md: 'Hello' }));
  const b = await created(await post(t, '/documents', { title: 'First day', folder_id: inner.id, content_md: 'Laptop' }));
  const outside = await created(await post(t, '/documents', { title: 'Elsewhere' }));

  const refused = await del(t, `/folders/${top.id}`);
  assertEnvelope(refused, 409, 'conflict', 'a folder with documents and folders inside');
  assert.deepEqual(refused.body.details, { documents: 2, folders: 1 });
  assert.equal((await get(t, `/documents/${a.id}`)).status, 200, 'nothing was deleted');
  assert.ok(await entry(a.id));

  const gone = await del(t, `/folders/${empty.id}`);
  assert.equal(gone.status, 200, JSON.stringify(gone.body));
  assert.deepEqual(gone.body, { id: empty.id, deleted: true, documents_deleted: 0, folders_deleted: 0 });

  const all = await app.request('DELETE', `/api/v1/folders/${top.id}`, { key: t.key, body: { recursive: true } });
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.deepEqual(all.body, { id: top.id, deleted: true, documents_deleted: 2, folders_deleted: 1 });
  assertEnvelope(await get(t, `/documents/${a.id}`), 404, 'not_found', 'a document of the deleted folder');
  assertEnvelope(await get(t, `/documents/${b.id}`), 404, 'not_found', 'a document of the deleted subfolder');
  assert.equal(await entry(a.id), undefined);
  assert.equal(await entry(b.id), undefined);
  assert.ok(await entry(outside.id), 'a document elsewhere keeps its entry');
  assert.deepEqual((await get(t, '/folders')).body.data, []);
  const events = await get(t, '/events?type=document.deleted');
  assert.equal(events.body.data.length, 2);
});

test('documents put in a folder while it is deleted recursively: each is deleted with it or refused (404), never a 500', async () => {
  const t = await app.tenant('DeleteRace');
  const folder = await created(await post(t, '/folders', { name: 'Doomed' }));
  const [removal, ...creates] = await Promise.all([
    app.request('DELETE', `/api/v1/folders/${folder.id}`, { key: t.key, body: { recursive: true } }),
    ...Array.from({ length: 12 }, (_, i) => post(t, '/documents', { title: `Late ${i}`, folder_id: folder.id })),
  ]);
  assert.equal(removal.status, 200, JSON.stringify(removal.body));
  for (const res of creates) assert.ok(res.status === 201 || res.status === 404, `${res.status} ${JSON.stringify(res.body)}`);
  const left = await app.app.services.database.db.execute(sql`select id from documents where folder_id = ${folder.id}`);
  assert.equal(left.rows.length, 0, 'nothing left in a folder that is gone');
  const createdCount = creates.filter((r) => r.status === 201).length;
  assert.equal(removal.body.documents_deleted, createdCount, 'every document created before the delete went with it');
});

test('the search index follows create, update and delete', async () => {
  const t = await app.tenant('Index');
  await created(await post(t, '/folders', { name: 'Specs' }));
  const doc = await created(await post(t, '/documents', { title: 'Pricing spec', folder_id: 'Specs', content_md: 'Plans cost https://acme.test/p/X-42', tags: ['pricing'] }));
  const first = await entry(doc.id);
  assert.deepEqual(first, { org_id: t.orgId, title: 'Pricing spec', body: 'Plans cost https://acme.test/p/X-42', meta: { folder: 'Specs', tags: ['pricing'] } });
  // Found by a word and by a part of the URL (the index's generated columns).
  const found = await app.app.services.database.db.execute<{ object_id: string }>(
    sql`select object_id from search_entries where org_id = ${t.orgId} and (tsv @@ websearch_to_tsquery('english', 'plans') or terms ilike '%p/X-42%')`,
  );
  assert.deepEqual(
    found.rows.map((r) => r.object_id),
    [doc.id],
  );

  await patch(t, `/documents/${doc.id}`, { title: 'Pricing', content_md: 'Plans changed', tags: ['pricing', 'v2'], folder_id: null });
  assert.deepEqual(await entry(doc.id), { org_id: t.orgId, title: 'Pricing', body: 'Plans changed', meta: { folder: '', tags: ['pricing', 'v2'] } });

  const gone = await del(t, `/documents/${doc.id}`);
  assert.deepEqual(gone.body, { id: doc.id, deleted: true });
  assert.equal(await entry(doc.id), undefined);
  const revs = await app.app.services.database.db.execute(sql`select 1 from document_revisions where document_id = ${doc.id}`);
  assert.equal(revs.rows.length, 0, 'its revisions went with it');
});

test("another org's document and folder are 404 everywhere; bad input is a 400 naming the field", async () => {
  const a = await app.tenant('OwnerA');
  const b = await app.tenant('OtherB');
  const folder = await created(await post(a, '/folders', { name: 'Secret' }));
  const doc = await created(await post(a, '/documents', { title: 'Plans', folder_id: folder.id, content_md: 'x' }));
  for (const [what, res] of [
    ['get', await get(b, `/documents/${doc.id}`)],
    ['update', await patch(b, `/documents/${doc.id}`, { title: 'Hijacked' })],
    ['delete', await del(b, `/documents/${doc.id}`)],
    ['revisions', await get(b, `/documents/${doc.id}/revisions`)],
    ['revision', await get(b, `/documents/${doc.id}/revisions/1`)],
    ['folder update', await patch(b, `/folders/${folder.id}`, { name: 'Hijacked' })],
    ['folder delete', await del(b, `/folders/${folder.id}`)],
    ['folder by path', await del(b, '/folders/Secret')],
    ['list in it', await get(b, `/documents?folder_id=${folder.id}`)],
    ['create in it', await post(b, '/documents', { title: 'Mine', folder_id: folder.id })],
    ['folder under it', await post(b, '/folders', { name: 'Mine', parent_id: folder.id })],
  ] as const) {
    assertEnvelope(res, 404, 'not_found', `B's ${what}`);
  }
  const moveIn = await patch(b, `/documents/${(await created(await post(b, '/documents', { title: 'B doc' }))).id}`, { folder_id: folder.id });
  assertEnvelope(moveIn, 404, 'not_found', "moving B's document into A's folder");
  assert.equal(moveIn.body.details.field, 'folder_id');
  assert.equal((await get(a, `/documents/${doc.id}`)).body.title, 'Plans', 'nothing of A changed');
  assert.deepEqual((await get(b, '/documents?all=1')).body.data.map((d: { title: string }) => d.title), ['B doc']);

  const fieldOf = (res: { body: { details: { field: string }[] } }) => res.body.details.map((d) => d.field);
  for (const [body, field] of [
    [{}, 'title'],
    [{ title: '' }, 'title'],
    [{ title: 'x', kind: 'poem' }, 'kind'],
    [{ title: 'x', tags: 'a,b' }, 'tags'],
    [{ title: 'x', content_md: 42 }, 'content_md'],
  ] as const) {
    const res = await post(a, '/documents', body);
    assertEnvelope(res, 400, 'invalid_request', JSON.stringify(body));
    assert.ok(fieldOf(res).includes(field), `${JSON.stringify(body)} names ${field}: ${JSON.stringify(res.body.details)}`);
  }
  const slash = await post(a, '/folders', { name: 'a/b' });
  assertEnvelope(slash, 400, 'invalid_request', 'a folder name with a slash');
  assert.deepEqual(fieldOf(slash), ['name']);
  assertEnvelope(await get(a, `/documents/${doc.id}/revisions/zero`), 404, 'not_found', 'a revision number that is not one names none');
  const badCompare = await get(a, `/documents/${doc.id}/revisions/1?compare_to=first`);
  assertEnvelope(badCompare, 400, 'invalid_request', 'compare_to that is not a number');
  assert.deepEqual(fieldOf(badCompare), ['compare_to']);
  assert.equal((await get(a, '/documents?all=1')).body.data.length, 1, 'nothing was created by the bad calls');
});

test('a summary is drafted by the background job when none is given, without a revision; an author summary stays', async () => {
  const t = await app.tenant('Summary');
  const worker: Worker = await startWorker(app.app.services, { pollMs: 100 });
  try {
    const doc = await created(
      await post(t, '/documents', { title: 'Travel policy', content_md: 'Book economy for flights under six hours. Hotels up to 150 EUR a night.' }),
    );
    assert.equal(doc.summary, null);
    const drafted = await waitFor(async () => {
      const d = (await get(t, `/documents/${doc.id}`)).body;
      return d.summary ? d : null;
    });
    assert.equal(drafted.summary_source, 'ai');
    assert.equal(drafted.summary, 'Book economy for flights under six hours.', 'the offline model summarises by the opening sentence');
    assert.doesNotMatch(drafted.summary, /^Summary:/, 'the label is not part of the summary');
    assert.equal(drafted.revision, 1, 'a drafted summary makes no revision');

    // A content change redrafts a drafted summary.
    await patch(t, `/documents/${doc.id}`, { title: 'Expenses policy', content_md: 'Receipts within 30 days.' });
    const redrafted = await waitFor(async () => {
      const d = (await get(t, `/documents/${doc.id}`)).body;
      return /Receipts within 30 days/.test(d.summary ?? '') ? d : null;
    });
    assert.equal(redrafted.revision, 2);
    const quota = (await get(t, '/quota/status')).body.quotas.ai_calls;
    assert.equal(quota.used, 2, 'each drafted summary is one of the org’s ai_calls');

    // The author's own summary is kept across content changes, and no job replaces it.
    await patch(t, `/documents/${doc.id}`, { summary: 'How we pay back what staff spend.' });
    await patch(t, `/documents/${doc.id}`, { content_md: 'Receipts within 60 days.' });
    const withOwn = await created(await post(t, '/documents', { title: 'Own', content_md: 'Body', summary: 'Written by a person.' }));
    await new Promise((r) => setTimeout(r, 1000));
    const kept = (await get(t, `/documents/${doc.id}`)).body;
    assert.deepEqual([kept.summary, kept.summary_source, kept.revision], ['How we pay back what staff spend.', 'author', 3]);
    assert.equal((await get(t, `/documents/${withOwn.id}`)).body.summary, 'Written by a person.');
    const jobs = await app.app.services.database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from queue_jobs where task_type = 'documents.draft_summary' and payload->>'document_id' = ${withOwn.id}`,
    );
    assert.equal(jobs.rows[0].n, 0, 'no job for a document with its author summary');
  } finally {
    await worker.stop();
  }
});

test('past the org’s monthly ai_calls no summary is drafted: the document keeps none, and nothing more is counted', async () => {
  const t = await app.tenant('No AI left');
  const { limit } = (await get(t, '/quota/status')).body.quotas.ai_calls;
  const spent = await post(t, '/quota/consume', { resource: 'ai_calls', amount: limit });
  assert.equal(spent.body.allowed, true, JSON.stringify(spent.body));
  const worker: Worker = await startWorker(app.app.services, { pollMs: 100 });
  try {
    const doc = await created(await post(t, '/documents', { title: 'Leave policy', content_md: 'Twenty-five days a year.' }));
    const done = await waitFor(async () => {
      const jobs = await app.app.services.database.db.execute<{ state: string; result: { reason?: string } | null }>(
        sql`select state, result from queue_jobs where task_type = 'documents.draft_summary' and payload->>'document_id' = ${doc.id}`,
      );
      return jobs.rows[0]?.state === 'completed' ? jobs.rows[0] : null;
    });
    assert.equal(done.result?.reason, 'ai_calls quota');
    assert.equal((await get(t, `/documents/${doc.id}`)).body.summary, null);
    assert.equal((await get(t, '/quota/status')).body.quotas.ai_calls.used, limit);
  } finally {
    await worker.stop();
  }
});

test('an agent with the document tools writes a document in its run, as itself', async () => {
  const t = await funded(app, 'AgentTools');
  const agent = await post(t, '/agents', { name: 'librarian', tools: ['documents.create', 'documents.list', 'documents.get', 'documents.update'] });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  assert.deepEqual(agent.body.scopes.sort(), ['documents:read', 'documents:write'], 'the scopes its tools need');
  const task = await created(await post(t, '/tasks', { title: 'Write the onboarding guide', assignee: 'agent:librarian' }));
  const worker = await startWorker(app.app.services, { pollMs: 100 });
  try {
    const queued = await post(t, `/tasks/${task.number}/run`, {});
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    const run = await waitFor(async () => {
      const r = (await get(t, `/runs/${queued.body.id}`)).body;
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(r.status) ? r : null;
    }, 30_000);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    // The offline model calls the first tool (documents_create) with a title read from the task.
    const [doc] = (await get(t, '/documents?all=1')).body.data;
    assert.ok(doc, 'the agent created a document');
    assert.match(doc.title, /Write the onboarding guide/);
    assert.deepEqual(doc.created_by, { type: 'agent', id: agent.body.id });
    assert.ok(await entry(doc.id), 'indexed like any other');
  } finally {
    await worker.stop();
  }
});

test('CLI: `opsbase docs create --folder Policies --file refund.md`, `docs list --folder`, `docs get`, `docs revisions`', async () => {
  const t = await app.tenant('Cli');
  const dir = mkdtempSync(join(tmpdir(), 'opsbase-docs-'));
  try {
    const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: dir };
    const run = async (...args: string[]) => {
      const r = await runProcess(args, env, MAIN);
      assert.equal(r.code, 0, `opsbase ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const json = async (...args: string[]) => JSON.parse(await run('--json', ...args));
    await json('folders', 'create', 'Policies');
    await json('folders', 'create', 'EU', '--parent', 'Policies');
    const file = join(dir, 'refund.md');
    writeFileSync(file, '# Refunds\n\nWithin 14 days.\n');
    const doc = await json('docs', 'create', '--title', 'Refund policy', '--folder', 'Policies', '--file', file, '--tags', 'policy,customers');
    assert.equal(doc.folder_path, 'Policies');
    assert.equal(doc.content_md, '# Refunds\n\nWithin 14 days.\n');
    assert.deepEqual(doc.tags, ['policy', 'customers']);

    const listed = await run('docs', 'list', '--folder', 'Policies');
    assert.match(listed, new RegExp(`${doc.id}.*Refund policy`));
    assert.deepEqual((await json('documents', 'list', '--folder', 'Policies/EU')).data, []);
    assert.equal((await json('docs', 'get', doc.id)).title, 'Refund policy');

    writeFileSync(file, '# Refunds\n\nWithin 30 days.\n');
    assert.equal((await json('docs', 'update', doc.id, '--file', file)).revision, 2);
    const revisions = await json('docs', 'revisions', doc.id);
    assert.deepEqual(
      revisions.data.map((r: { number: number }) => r.number),
      [2, 1],
      '`docs revisions <id>` is `docs revisions list <id>`',
    );
    const diff = await json('docs', 'revisions', 'get', doc.id, '2', '--compare-to', '1');
    assert.equal(diff.diff.unified, '  # Refunds\n  \n- Within 14 days.\n+ Within 30 days.');

    const missing = await runProcess(['docs', 'create', '--title', 'x', '--file', join(dir, 'nope.md')], env, MAIN);
    assert.equal(missing.code, 2, 'an unreadable file is a usage error');
    assert.match(missing.stderr, /cannot read/);
    const both = await runProcess(['docs', 'create', '--title', 'x', '--file', file, '--content-md', 'y'], env, MAIN);
    assert.equal(both.code, 2);
    assert.equal((await get(t, '/documents?all=1')).body.data.length, 1, 'the refused commands created nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor<T>(check: () => Promise<T | null>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 150));
  }
}
