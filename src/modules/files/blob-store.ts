// Where file bytes live: one interface, two stores. By default the data dir (`<data dir>/blobs/<org>/<sha256>`); an
// S3-compatible bucket (`blobs/<org>/<sha256>`) when OPSBASE_S3_* is configured, so several API and worker
// instances share them. Blobs are content-addressed: writing the same bytes twice is one blob, and a blob is
// deleted only when no file of its org references its hash any more (service.ts).
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';
import { S3Client, S3Error, s3SettingsFrom } from '../../core/s3.ts';

export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(orgId: string, hash: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The blob's bytes and size; throws BlobMissing when it is absent. */
  open(orgId: string, hash: string): Promise<{ stream: Readable; size: number }>;
  read(orgId: string, hash: string): Promise<Buffer>;
  exists(orgId: string, hash: string): Promise<boolean>;
  delete(orgId: string, hash: string): Promise<void>;
}

export class BlobMissing extends Error {}

// Org ids and hashes become path segments: refuse anything else, whatever the caller passed.
function checked(orgId: string, hash: string) {
  if (!/^org_[0-9a-z]+$/.test(orgId) || !/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a blob address: ${orgId}/${hash}`);
  return { orgId, hash };
}

class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  readonly #root: string;
  constructor(root: string) {
    this.#root = root;
  }
  #file(orgId: string, hash: string) {
    checked(orgId, hash);
    return join(this.#root, orgId, hash);
  }
  async put(orgId: string, hash: string, bytes: Buffer) {
    const file = this.#file(orgId, hash);
    if (await this.exists(orgId, hash)) return;
    await mkdir(join(this.#root, orgId), { recursive: true });
    // Written aside then renamed: a reader never sees half a blob, and two writers of the same bytes both succeed.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes, { mode: 0o600 });
    await rename(tmp, file);
  }
  async open(orgId: string, hash: string) {
    const file = this.#file(orgId, hash);
    const info = await stat(file).catch(() => null);
    if (!info) throw new BlobMissing(`blob ${hash} of ${orgId} is missing`);
    return { stream: createReadStream(file), size: info.size };
  }
  async read(orgId: string, hash: string) {
    const { stream } = await this.open(orgId, hash);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  async exists(orgId: string, hash: string) {
    return (await stat(this.#file(orgId, hash)).catch(() => null)) !== null;
  }
  async delete(orgId: string, hash: string) {
    await rm(this.#file(orgId, hash), { force: true });
  }
}

class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly #s3: S3Client;
  constructor(s3: S3Client) {
    this.#s3 = s3;
  }
  #key(orgId: string, hash: string) {
    checked(orgId, hash);
    return `blobs/${orgId}/${hash}`;
  }
  async put(orgId: string, hash: string, bytes: Buffer, contentType: string) {
    // Same address, same bytes: a HEAD spares sending them again.
    if (await this.exists(orgId, hash)) return;
    await this.#s3.putObject(this.#key(orgId, hash), bytes, { contentType });
  }
  async open(orgId: string, hash: string) {
    try {
      const { stream, size } = await this.#s3.getObjectStream(this.#key(orgId, hash));
      return { stream, size: size ?? 0 };
    } catch (err) {
      if (err instanceof S3Error && err.status === 404) throw new BlobMissing(`blob ${hash} of ${orgId} is missing`);
      throw err;
    }
  }
  async read(orgId: string, hash: string) {
    try {
      return await this.#s3.getObject(this.#key(orgId, hash));
    } catch (err) {
      if (err instanceof S3Error && err.status === 404) throw new BlobMissing(`blob ${hash} of ${orgId} is missing`);
      throw err;
    }
  }
  async exists(orgId: string, hash: string) {
    return (await this.#s3.headObject(this.#key(orgId, hash))) !== null;
  }
  async delete(orgId: string, hash: string) {
    await this.#s3.deleteObject(this.#key(orgId, hash));
  }
}

const stores = new WeakMap<Config, BlobStore>();

/** The instance's blob store, made once per configuration. */
export function blobStoreFor(cfg: Config): BlobStore {
  let store = stores.get(cfg);
  if (!store) {
    const s3 = s3SettingsFrom(cfg);
    store = s3 ? new S3BlobStore(new S3Client(s3)) : new LocalBlobStore(join(cfg.dataDir, 'blobs'));
    stores.set(cfg, store);
  }
  return store;
}
