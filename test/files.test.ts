// Files (issue 12): upload in base64, upsert by path, text extracted by the worker's job (PDF, DOCX, HTML, text) and
// found by files.search, raw and JSON downloads, blobs collected when unreferenced, the S3 store against a fake that
// checks every signature, tenancy and bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Worker, startWorker } from '../src/jobs/worker.ts';
import { closeDb, sql } from './helpers/db.ts';
import { assertEnvelope } from './helpers/envelope.ts';
import { type FakeS3, startFakeS3 } from './helpers/fake-s3.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';
import { runProcess } from './helpers/run-process.ts';
import { until } from './helpers/until.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

async function startWithWorker(env: Record<string, string> = {}) {
  const app = await startTestApp({ env });
  const worker = await startWorker(app.app.services, { pollMs: 200 });
  return { app, worker };
}

async function extracted(app: TestApp, key: string, id: string) {
  return until(`extraction of ${id}`, async () => {
    const res = await app.request('GET', `/api/v1/files/${id}`, { key });
    return res.body.extraction_status !== 'pending' && res.body;
  });
}

describe('files in the data dir', () => {
  let app: TestApp;
  let worker: Worker;
  let t: Tenant;
  let other: Tenant;
  before(async () => {
    // A small limit, so the too-large cases are cheap to send.
    ({ app, worker } = await startWithWorker({ OPSBASE_FILE_MAX_BYTES: '4096' }));
    t = await app.tenant('Files');
    other = await app.tenant('Other');
  });
  after(async () => {
    await worker.stop();
    await closeDb(app);
    await app.close();
  });

  test('a PDF and a DOCX are uploaded, their text extracted, found by files.search', async () => {
    const pdf = await app.request('POST', '/api/v1/files', {
      key: t.key,
      body: { name: 'contract.pdf', path: 'contracts/acme.pdf', category: 'contract', content_base64: fixture('contract.pdf').toString('base64') },
    });
    assert.equal(pdf.status, 201, JSON.stringify(pdf.body));
    assert.match(pdf.body.id, /^file_/);
    assert.equal(pdf.body.type, 'application/pdf');
    assert.equal(pdf.body.result, 'created');
    assert.equal(pdf.body.extraction_status, 'pending');
    assert.equal(pdf.body.size, fixture('contract.pdf').length);

    const docx = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'agreement.docx', content_base64: fixture('agreement.docx').toString('base64') } });
    assert.equal(docx.status, 201);
    assert.equal(docx.body.path, 'agreement.docx');

    const pdfDone = await extracted(app, t.key, pdf.body.id);
    assert.equal(pdfDone.extraction_status, 'done', pdfDone.extraction_error);
    assert.match(pdfDone.text_content, /zebrafinch refund term is 30 days/);
    const docxDone = await extracted(app, t.key, docx.body.id);
    assert.equal(docxDone.extraction_status, 'done', docxDone.extraction_error);
    assert.match(docxDone.text_content, /quokkaberry clause/);

    const found = await app.request('GET', '/api/v1/files/search?q=zebrafinch', { key: t.key });
    assert.equal(found.status, 200);
    assert.deepEqual(
      found.body.data.map((f: { id: string }) => f.id),
      [pdf.body.id],
    );
    assert.match(found.body.data[0].snippet, /<mark>zebrafinch<\/mark>/);
    // The org's retrieve finds the PDF's text too, saying where the file is.
    const retrieved = await app.request('GET', '/api/v1/org/retrieve?q=zebrafinch%20refund', { key: t.key });
    assert.deepEqual(
      retrieved.body.data.map((h: { kind: string; id: string; where: { path: string } }) => [h.kind, h.id, h.where.path]),
      [['file', pdf.body.id, 'contracts/acme.pdf']],
    );
    const byName = await app.request('GET', '/api/v1/files/search?q=agreem', { key: t.key });
    assert.deepEqual(
      byName.body.data.map((f: { id: string }) => f.id),
      [docx.body.id],
      'a part of the name is found',
    );
    // The other org finds nothing of it.
    const theirs = await app.request('GET', '/api/v1/files/search?q=zebrafinch', { key: other.key });
    assert.deepEqual(theirs.body.data, []);
    const [entry] = await sql(app, "select meta from search_entries where kind = 'file' and object_id = $1", [pdf.body.id]);
    assert.deepEqual(entry.meta, { path: 'contracts/acme.pdf', type: 'application/pdf' });
    const [event] = await sql(app, "select data from events where type = 'file.created' and subject = $1", [pdf.body.id]);
    assert.equal(event.data.path, 'contracts/acme.pdf');
  });

  test('HTML is reduced to its visible text; an image is skipped', async () => {
    const html = '<html><head><title>t</title><style>.x{color:red}</style></head><body><script>alert("nightjar")</script><p>Our pangolin&amp;co policy</p></body></html>';
    const page = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'policy.html', content_base64: b64(html) } });
    const img = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'logo.png', content_base64: b64(Buffer.from([0x89, 0x50, 0x4e, 0x47])) } });
    const pageDone = await extracted(app, t.key, page.body.id);
    assert.equal(pageDone.text_content, 'Our pangolin&co policy');
    const imgDone = await extracted(app, t.key, img.body.id);
    assert.equal(imgDone.extraction_status, 'skipped');
    assert.equal(imgDone.text_content, null);
    // A corrupt PDF fails its extraction with a reason, and stays downloadable.
    const broken = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'broken.pdf', content_base64: b64('%PDF-1.4\nthis is not a pdf') } });
    const brokenDone = await extracted(app, t.key, broken.body.id);
    assert.equal(brokenDone.extraction_status, 'failed');
    assert.ok(brokenDone.extraction_error.length > 0);
    assert.equal((await app.request('GET', `/api/v1/files/${broken.body.id}/download`, { key: t.key })).status, 200);
  });

  test('an upload to the same path replaces the file: same id, version +1, new text; identical bytes change nothing', async () => {
    const first = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'notes.md', path: './notes//notes.md', content_base64: b64('# Alpha wombat') } });
    assert.equal(first.status, 201);
    assert.equal(first.body.path, 'notes/notes.md');
    await extracted(app, t.key, first.body.id);
    const second = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'notes.md', path: 'notes/notes.md', content_base64: b64('# Beta narwhal') } });
    assert.equal(second.status, 200);
    assert.equal(second.body.result, 'replaced');
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.body.version, 2);
    const done = await extracted(app, t.key, first.body.id);
    assert.equal(done.text_content, '# Beta narwhal');
    const same = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'notes.md', path: 'notes/notes.md', content_base64: b64('# Beta narwhal') } });
    assert.equal(same.status, 200);
    assert.equal(same.body.result, 'unchanged');
    assert.equal(same.body.version, 2);
    const [{ n }] = await sql(app, 'select count(*)::int as n from files where org_id = $1 and path = $2', [t.orgId, 'notes/notes.md']);
    assert.equal(n, 1);
    const old = (await app.request('GET', '/api/v1/files/search?q=wombat', { key: t.key })).body.data;
    assert.deepEqual(old, [], 'the replaced text is no longer found');
  });

  test('concurrent first uploads to one path: one file, one of them created', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'race.txt', path: 'race/race.txt', content_base64: b64(`take ${i % 2}`) } })),
    );
    assert.ok(results.every((r) => r.status === 200 || r.status === 201), JSON.stringify(results.map((r) => r.body)));
    assert.equal(results.filter((r) => r.body.result === 'created').length, 1);
    assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    const [{ n }] = await sql(app, "select count(*)::int as n from files where org_id = $1 and path = 'race/race.txt'", [t.orgId]);
    assert.equal(n, 1);
  });

  test('download: raw bytes with type and disposition (the CLI takes these); JSON with base64 for MCP', async () => {
    const bytes = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]);
    const up = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'raw é.bin', type: 'application/x-test', content_base64: bytes.toString('base64') } });
    const raw = await fetch(`${app.url}/api/v1/files/${up.body.id}/download`, { headers: { authorization: `Bearer ${t.key}` } });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'application/x-test');
    assert.match(raw.headers.get('content-disposition') ?? '', /^attachment; filename="raw _.bin"; filename\*=UTF-8''raw%20%C3%A9\.bin$/);
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), bytes);
    const json = await app.request('GET', `/api/v1/files/${up.body.id}/download`, { key: t.key, headers: { accept: 'application/json' } });
    assert.equal(json.status, 200);
    assert.deepEqual(Buffer.from(json.body.content_base64, 'base64'), bytes);
    const inline = await fetch(`${app.url}/api/v1/files/${up.body.id}/download?inline=true`, { headers: { authorization: `Bearer ${t.key}` } });
    assert.match(inline.headers.get('content-disposition') ?? '', /^inline;/);
    await inline.arrayBuffer();
    // The OpenAPI document tells both answers apart.
    const doc = await app.request('GET', '/api/openapi.json');
    const content = doc.body.paths['/api/v1/files/{id}/download'].get.responses['200'].content;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/octet-stream']);
    assert.equal(content['application/octet-stream'].schema.format, 'binary');
    assert.ok(content['application/json'].schema.properties?.content_base64 || content['application/json'].schema.$ref, JSON.stringify(content['application/json']));
  });

  test('upload: the file itself as the body (fields in the query string) is the same upload as base64 in JSON', async () => {
    const bytes = Buffer.from('# Raw upload\nquokka ledger\n');
    const raw = await fetch(`${app.url}/api/v1/files?name=raw.md&path=raw/raw.md&category=note`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const made = (await raw.json()) as { id: string; path: string; size: number; category: string; result: string; type: string };
    assert.equal(raw.status, 201, JSON.stringify(made));
    assert.deepEqual([made.path, made.size, made.category, made.result, made.type], ['raw/raw.md', bytes.length, 'note', 'created', 'text/markdown']);
    // The same bytes in JSON to the same path change nothing: one mechanism, one file.
    const same = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'raw.md', path: 'raw/raw.md', category: 'note', content_base64: bytes.toString('base64') } });
    assert.equal(same.status, 200);
    assert.deepEqual([same.body.id, same.body.result], [made.id, 'unchanged']);
    const back = await fetch(`${app.url}/api/v1/files/${made.id}/download`, { headers: { authorization: `Bearer ${t.key}` } });
    assert.deepEqual(Buffer.from(await back.arrayBuffer()), bytes);
    // No file in either body: a 400 naming the field; a raw body past OPSBASE_FILE_MAX_BYTES: 413; a bad query field: 400.
    const none = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'none.txt' } });
    assertEnvelope(none, 400, 'invalid_request');
    assert.equal(none.body.details[0].field, 'content_base64');
    const big = await fetch(`${app.url}/api/v1/files?name=big.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(4097),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: string }).error, 'payload_too_large');
    const unnamed = await fetch(`${app.url}/api/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/octet-stream' }, body: bytes });
    assert.equal(unnamed.status, 400);
    assert.match(await unnamed.text(), /name/);
    // OpenAPI shows both bodies.
    const doc = await app.request('GET', '/api/openapi.json');
    const content = doc.body.paths['/api/v1/files'].post.requestBody.content;
    assert.ok(content['application/json'].schema && content['application/octet-stream'].schema.format === 'binary', JSON.stringify(content));
  });

  test('list filters by path prefix, category and type, with a cursor', async () => {
    for (const n of [1, 2, 3]) {
      await app.request('POST', '/api/v1/files', { key: t.key, body: { name: `r${n}.txt`, path: `reports/r${n}.txt`, category: 'report', content_base64: b64(`report ${n}`) } });
    }
    const page1 = await app.request('GET', '/api/v1/files?path_prefix=reports/&limit=2', { key: t.key });
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.body.data.map((f: { path: string }) => f.path),
      ['reports/r3.txt', 'reports/r2.txt'],
    );
    assert.equal(page1.body.meta.has_more, true);
    const page2 = await app.request('GET', `/api/v1/files?path_prefix=reports/&limit=2&cursor=${page1.body.meta.next_cursor}`, { key: t.key });
    assert.deepEqual(
      page2.body.data.map((f: { path: string }) => f.path),
      ['reports/r1.txt'],
    );
    const cat = await app.request('GET', '/api/v1/files?category=report', { key: t.key });
    assert.equal(cat.body.data.length, 3);
    const images = await app.request('GET', '/api/v1/files?type=image/', { key: t.key });
    assert.ok(images.body.data.length >= 1);
    assert.ok(images.body.data.every((f: { type: string }) => f.type.startsWith('image/')));
    assert.equal((await app.request('GET', '/api/v1/files', { key: other.key })).body.data.length, 0);
  });

  test('delete removes the index entry, and the blob once no other file holds the same bytes', async () => {
    const content = b64('shared bytes for two paths');
    const a = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'a.txt', content_base64: content } });
    const b = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'b.txt', content_base64: content } });
    const blob = join(app.app.services.config.dataDir, 'blobs', t.orgId, a.body.content_hash);
    assert.ok(existsSync(blob));
    assert.equal((await app.request('DELETE', `/api/v1/files/${a.body.id}`, { key: t.key })).status, 200);
    assert.equal((await app.request('GET', `/api/v1/files/${a.body.id}`, { key: t.key })).status, 404);
    // The collection job runs and keeps the blob: b still holds those bytes.
    await until('a.txt collection ran', async () => (await sql(app, "select 1 from queue_jobs where queue = 'files.collect_blob' and state = 'completed'")).length > 0);
    assert.ok(existsSync(blob), 'kept while b.txt references it');
    await app.request('DELETE', `/api/v1/files/${b.body.id}`, { key: t.key });
    await until('blob deleted', () => !existsSync(blob));
    const entries = await sql(app, 'select 1 from search_entries where object_id = any($1)', [[a.body.id, b.body.id]]);
    assert.equal(entries.length, 0);
  });

  test('an upload whose transaction never committed leaves no blob: the later orphan check removes it, and keeps a referenced one', async () => {
    const kept = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'kept.txt', content_base64: b64('bytes a file keeps') } });
    const lost = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'lost.txt', content_base64: b64('bytes nothing keeps') } });
    const blobOf = (hash: string) => join(app.app.services.config.dataDir, 'blobs', t.orgId, hash);
    assert.ok(existsSync(blobOf(kept.body.content_hash)) && existsSync(blobOf(lost.body.content_hash)));
    // As if lost.txt's request had rolled back after writing its bytes: no row points at them.
    await sql(app, 'delete from files where id = $1', [lost.body.id]);
    const checks = await sql(app, `select singleton_key from queue_jobs where queue = 'files.collect_blob' and state = 'waiting' and singleton_key like 'orphan:%' and run_at > now()`);
    const pending = new Set(checks.map((c) => c.singleton_key));
    for (const hash of [kept.body.content_hash, lost.body.content_hash]) assert.ok(pending.has(`orphan:${t.orgId}:${hash}`), `a later check of ${hash}`);
    // Their time comes (ORPHAN_CHECK_DELAY_SECONDS after the upload).
    await sql(app, `update queue_jobs set run_at = now() where queue = 'files.collect_blob' and singleton_key like 'orphan:%' and state = 'waiting'`);
    await until('the orphan removed', () => !existsSync(blobOf(lost.body.content_hash)));
    await until('both checks ran', async () => (await sql(app, `select 1 from queue_jobs where singleton_key like 'orphan:%' and state = 'waiting'`)).length === 0);
    assert.ok(existsSync(blobOf(kept.body.content_hash)), 'a blob a file holds stays');
  });

  test('CLI: `files create --path` reads the local file; `files download --out` writes the same bytes', async () => {
    const env = { ...process.env, NO_COLOR: '1', OPSBASE_API_URL: app.url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'opsbase-cli-')) };
    const made = await runProcess(['--json', 'files', 'create', '--name', 'contract.pdf', '--path', './test/fixtures/contract.pdf'], env);
    assert.equal(made.code, 0, made.stderr);
    const file = JSON.parse(made.stdout);
    assert.equal(file.path, 'test/fixtures/contract.pdf');
    assert.equal(file.size, fixture('contract.pdf').length);
    const out = join(env.XDG_CONFIG_HOME, 'copy.pdf');
    const got = await runProcess(['files', 'download', file.id, '--out', out], env);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(readFileSync(out), fixture('contract.pdf'));
    assert.ok(!existsSync(`${out}.part`), 'the partial file took the name asked for');
    // Without --out the bytes go to standard output as they are.
    const text = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'note.txt', content_base64: b64('hello, stdout\n') } });
    const piped = await runProcess(['files', 'download', text.body.id], env);
    assert.deepEqual([piped.code, piped.stdout], [0, 'hello, stdout\n']);
    // A refused download writes nothing.
    const refused = join(env.XDG_CONFIG_HOME, 'refused.pdf');
    const nope = await runProcess(['files', 'download', 'file_nope', '--out', refused], env);
    assert.equal(nope.code, 1, nope.stderr);
    assert.deepEqual([existsSync(refused), existsSync(`${refused}.part`)], [false, false]);
    const missing = await runProcess(['files', 'create', '--name', 'x', '--path', './no/such/file'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*ENOENT/);
  });

  test('CLI: a download cut short fails and leaves no file, whole or partial, under the name asked for', async () => {
    // A server that promises 100,000 bytes, sends a few and drops the connection.
    const cut = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 1), () => res.destroy());
    });
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'opsbase-cli-'));
      const url = `http://127.0.0.1:${(cut.address() as AddressInfo).port}`;
      const out = join(dir, 'cut.pdf');
      const got = await runProcess(['files', 'download', 'file_x', '--out', out], { ...process.env, OPSBASE_API_URL: url, OPSBASE_API_KEY: t.key, XDG_CONFIG_HOME: dir });
      assert.equal(got.code, 5, got.stderr);
      assert.match(got.stderr, /download .* stopped .*nothing was saved/);
      assert.deepEqual([existsSync(out), existsSync(`${out}.part`)], [false, false]);
    } finally {
      cut.close();
    }
  });

  test("another org's file is a 404 everywhere", async () => {
    const mine = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'secret.txt', content_base64: b64('s3cret') } });
    for (const [method, path] of [
      ['GET', `/api/v1/files/${mine.body.id}`],
      ['GET', `/api/v1/files/${mine.body.id}/download`],
      ['DELETE', `/api/v1/files/${mine.body.id}`],
    ]) {
      const res = await app.request(method, path, { key: other.key });
      assert.equal(res.status, 404, `${method} ${path}`);
      assertEnvelope(res, 404, 'not_found');
    }
    assert.equal((await app.request('GET', `/api/v1/files/${mine.body.id}`, { key: t.key })).status, 200);
  });

  test('bad input is a 400 naming the field, and changes nothing', async () => {
    const before = (await sql(app, 'select count(*)::int as n from files'))[0].n;
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x.txt', content_base64: 'not base64!!' }, 'content_base64'],
      [{ name: 'x.txt', path: '../etc/passwd', content_base64: b64('x') }, 'path'],
      [{ name: 'x.txt', path: '/', content_base64: b64('x') }, 'path'],
      [{ content_base64: b64('x') }, 'name'],
      [{ name: 'x.txt', type: 'not a type', content_base64: b64('x') }, 'type'],
    ];
    for (const [body, field] of cases) {
      const res = await app.request('POST', '/api/v1/files', { key: t.key, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assertEnvelope(res, 400, 'invalid_request');
      assert.match(JSON.stringify(res.body), new RegExp(field));
    }
    assert.equal((await app.request('GET', '/api/v1/files/search?q=', { key: t.key })).status, 400);
    // Past OPSBASE_FILE_MAX_BYTES: 422 naming the field; far past it, the body itself is refused (413).
    const big = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'big.bin', content_base64: Buffer.alloc(4097).toString('base64') } });
    assertEnvelope(big, 422, 'unprocessable');
    assert.match(JSON.stringify(big.body.details), /content_base64/);
    const huge = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'huge.bin', content_base64: Buffer.alloc(2 * 1024 * 1024).toString('base64') } });
    assertEnvelope(huge, 413, 'payload_too_large');
    assert.equal((await sql(app, 'select count(*)::int as n from files'))[0].n, before);
  });
});

describe('files in an S3-compatible store', () => {
  let fake: FakeS3;
  let app: TestApp;
  let worker: Worker;
  let t: Tenant;
  before(async () => {
    fake = await startFakeS3();
    ({ app, worker } = await startWithWorker(fake.env));
    t = await app.tenant('S3');
  });
  after(async () => {
    await worker.stop();
    await closeDb(app);
    await app.close();
    await fake.close();
  });

  test('bytes go to the bucket under blobs/<org>/<sha256>, signed; download and extraction read them back', async () => {
    const text = 'Stored offsite: the kakapo inventory.';
    const up = await app.request('POST', '/api/v1/files', { key: t.key, body: { name: 'inv.txt', content_base64: b64(text) } });
    assert.equal(up.status, 201);
    const key = `blobs/${t.orgId}/${up.body.content_hash}`;
    assert.equal(fake.objects.get(key)?.body.toString(), text);
    assert.equal(existsSync(join(app.app.services.config.dataDir, 'blobs', t.orgId, up.body.content_hash)), false, 'not in the data dir');
    const raw = await fetch(`${app.url}/api/v1/files/${up.body.id}/download`, { headers: { authorization: `Bearer ${t.key}` } });
    assert.equal(await raw.text(), text);
    const done = await extracted(app, t.key, up.body.id);
    assert.equal(done.text_content, text);
    await app.request('DELETE', `/api/v1/files/${up.body.id}`, { key: t.key });
    await until('object deleted from the bucket', () => !fake.objects.has(key));
    assert.ok(fake.requests.length >= 4);
    assert.ok(
      fake.requests.every((r) => r.signed),
      'every request carried a valid SigV4 signature',
    );
  });
});
