// The S3 client (src/core/s3.ts) against the local fake, which checks every SigV4 signature with its own code.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readConfig } from '../src/config.ts';
import { S3Client, S3Error, s3SettingsFrom } from '../src/core/s3.ts';
import { type FakeS3, startFakeS3 } from './helpers/fake-s3.ts';

let fake: FakeS3;
let s3: S3Client;
before(async () => {
  fake = await startFakeS3();
  const settings = s3SettingsFrom(readConfig(fake.env));
  assert.ok(settings, 'the env configures a store');
  s3 = new S3Client(settings);
});
after(() => fake.close());

test('no store without endpoint, bucket and both keys', () => {
  assert.equal(s3SettingsFrom(readConfig({ OPSBASE_S3_ENDPOINT: fake.url, OPSBASE_S3_BUCKET: 'b' })), null);
});

test('put, head, get (bytes and stream), list by prefix, delete — every request signed and verified', async () => {
  const bytes = Buffer.from([0, 1, 2, 255, ...Buffer.from(' hello')]);
  const key = 'blobs/org_x/a b+c(1).bin';
  await s3.putObject(key, bytes, { contentType: 'application/x-test' });
  await s3.putObject('blobs/org_y/other', Buffer.from('y'));
  await s3.putObject('backups/z', Buffer.from('z'));
  assert.deepEqual(fake.objects.get(key)?.body, bytes);

  const head = await s3.headObject(key);
  assert.equal(head?.size, bytes.length);
  assert.equal(head?.contentType, 'application/x-test');
  assert.equal(await s3.headObject('blobs/missing'), null);

  assert.deepEqual(await s3.getObject(key), bytes);
  const { stream, size } = await s3.getObjectStream(key);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), bytes);
  assert.equal(size, bytes.length);

  const page = await s3.listObjects({ prefix: 'blobs/', maxKeys: 1 });
  assert.equal(page.objects.length, 1);
  assert.ok(page.nextContinuationToken);
  const all = [];
  for await (const o of s3.listAllObjects('blobs/')) all.push(o.key);
  assert.deepEqual(all, [key, 'blobs/org_y/other']);

  await s3.deleteObject(key);
  await s3.deleteObject(key); // absent: still fine
  await assert.rejects(s3.getObject(key), (e: unknown) => e instanceof S3Error && e.status === 404 && e.code === 'NoSuchKey');
  assert.ok(fake.requests.length >= 10);
  assert.ok(fake.requests.every((r) => r.signed), 'every request verified');
});

test('a wrong secret is refused by the signature check', async () => {
  const bad = new S3Client({ ...s3.settings, secretAccessKey: 'not-the-secret' });
  await assert.rejects(bad.putObject('k', Buffer.from('x')), (e: unknown) => e instanceof S3Error && e.status === 403 && e.code === 'SignatureDoesNotMatch');
  assert.equal(fake.objects.has('k'), false);
});
