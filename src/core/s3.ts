// A small S3-compatible client: the five calls Opsbase needs (put, get, head, delete, list by prefix) against AWS S3,
// MinIO, Ceph, R2, Backblaze… Requests are signed with AWS Signature V4 by `aws4fetch` (a compact, well-kept signer
// on WebCrypto: signing is never hand-written here). Path-style addressing (`<endpoint>/<bucket>/<key>`) is the
// default because every S3-compatible server speaks it; `OPSBASE_S3_PATH_STYLE=false` switches to virtual-hosted
// (`<bucket>.<endpoint host>/<key>`) for AWS buckets created after path-style was retired.
// The endpoint is the operator's own configuration, not user input, so it may be a private address (a MinIO beside
// the server): the private-network guard is for URLs that users and agents choose.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AwsClient } from 'aws4fetch';
import type { Config } from '../config.ts';

export interface S3Settings {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  pathStyle: boolean;
}

/** The S3 settings when the operator configured a store (endpoint, bucket and both keys), else null. */
export function s3SettingsFrom(cfg: Config): S3Settings | null {
  const { OPSBASE_S3_ENDPOINT: endpoint, OPSBASE_S3_BUCKET: bucket, OPSBASE_S3_ACCESS_KEY_ID: id, OPSBASE_S3_SECRET_ACCESS_KEY: secret } = cfg;
  if (!endpoint || !bucket || !id || !secret) return null;
  return { endpoint, bucket, accessKeyId: id, secretAccessKey: secret, region: cfg.OPSBASE_S3_REGION, pathStyle: cfg.OPSBASE_S3_PATH_STYLE };
}

/** A non-2xx answer: `code` is S3's own (`NoSuchKey`, `SignatureDoesNotMatch`, `AccessDenied` …). */
export class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`S3 ${status} ${code}: ${message}`);
    this.name = 'S3Error';
    this.status = status;
    this.code = code;
  }
}

export interface S3ObjectInfo {
  key: string;
  size: number;
  etag: string;
  lastModified: Date | null;
  contentType?: string;
}

export interface S3ListPage {
  objects: S3ObjectInfo[];
  /** Pass back as `continuationToken` for the next page; null on the last one. */
  nextContinuationToken: string | null;
}

const REQUEST_TIMEOUT_MS = 60_000;

// S3's canonical URI encodes each key segment per RFC 3986; aws4fetch re-derives it from the URL we build.
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))) : XML_ENTITIES[e.toLowerCase()],
  );
// The few elements of S3's fixed XML answers we read; a full XML parser would be a dependency for five tags.
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
};

export class S3Client {
  readonly settings: S3Settings;
  readonly #aws: AwsClient;

  constructor(settings: S3Settings) {
    this.settings = settings;
    // A few retries of 5xx and network errors (aws4fetch's default of 10 would hide an outage for minutes).
    this.#aws = new AwsClient({ accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, service: 's3', region: settings.region, retries: 3 });
  }

  /** The object's URL (query string added by the caller). */
  url(key = ''): URL {
    const base = new URL(this.settings.endpoint);
    const basePath = base.pathname.replace(/\/+$/, '');
    if (this.settings.pathStyle) {
      base.pathname = `${basePath}/${encodeURIComponent(this.settings.bucket)}${key ? `/${encodeKey(key)}` : '/'}`;
    } else {
      base.hostname = `${this.settings.bucket}.${base.hostname}`;
      base.pathname = `${basePath}/${encodeKey(key)}`;
    }
    return base;
  }

  async #send(method: string, url: URL, init: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
    const body = init.body;
    // Signing the payload hash (not UNSIGNED-PAYLOAD) lets the server reject a body altered on the way.
    const payloadHash = createHash('sha256')
      .update(body ?? new Uint8Array())
      .digest('hex');
    const res = await this.#aws.fetch(url.toString(), {
      method,
      body: body as Uint8Array<ArrayBuffer> | undefined,
      headers: { ...init.headers, 'x-amz-content-sha256': payloadHash },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (res.ok) return res;
    const text = method === 'HEAD' ? '' : await res.text().catch(() => '');
    throw new S3Error(res.status, tag(text, 'Code') ?? (res.status === 404 ? 'NotFound' : `Http${res.status}`), tag(text, 'Message') ?? res.statusText);
  }

  async putObject(key: string, body: Uint8Array, opts: { contentType?: string } = {}): Promise<{ etag: string }> {
    const res = await this.#send('PUT', this.url(key), {
      body,
      headers: { 'content-type': opts.contentType ?? 'application/octet-stream', 'content-length': String(body.byteLength) },
    });
    await res.body?.cancel();
    return { etag: res.headers.get('etag') ?? '' };
  }

  /** The object's bytes; `S3Error` with status 404 when it is absent. */
  async getObject(key: string): Promise<Buffer> {
    const res = await this.#send('GET', this.url(key));
    return Buffer.from(await res.arrayBuffer());
  }

  /** The object as a Node stream (for large downloads), with its size and type. */
  async getObjectStream(key: string): Promise<{ stream: Readable; size: number | null; contentType: string | null }> {
    const res = await this.#send('GET', this.url(key));
    const length = res.headers.get('content-length');
    // A successful GET has a body.
    const stream = Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream);
    return { stream, size: length === null ? null : Number(length), contentType: res.headers.get('content-type') };
  }

  /** Size, ETag and type of the object, or null when it does not exist. */
  async headObject(key: string): Promise<S3ObjectInfo | null> {
    try {
      const res = await this.#send('HEAD', this.url(key));
      const modified = res.headers.get('last-modified');
      return {
        key,
        size: Number(res.headers.get('content-length') ?? 0),
        etag: res.headers.get('etag') ?? '',
        lastModified: modified ? new Date(modified) : null,
        contentType: res.headers.get('content-type') ?? undefined,
      };
    } catch (err) {
      if (err instanceof S3Error && err.status === 404) return null;
      throw err;
    }
  }

  /** Deleting an absent key succeeds (S3 answers 204 either way). */
  async deleteObject(key: string): Promise<void> {
    const res = await this.#send('DELETE', this.url(key));
    await res.body?.cancel();
  }

  /** One page of ListObjectsV2 under `prefix`. */
  async listObjects(opts: { prefix?: string; continuationToken?: string; maxKeys?: number } = {}): Promise<S3ListPage> {
    const url = this.url();
    url.searchParams.set('list-type', '2');
    if (opts.prefix) url.searchParams.set('prefix', opts.prefix);
    if (opts.continuationToken) url.searchParams.set('continuation-token', opts.continuationToken);
    if (opts.maxKeys) url.searchParams.set('max-keys', String(opts.maxKeys));
    const xml = await (await this.#send('GET', url)).text();
    const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, c]) => {
      const modified = tag(c, 'LastModified');
      return { key: tag(c, 'Key') ?? '', size: Number(tag(c, 'Size') ?? 0), etag: tag(c, 'ETag') ?? '', lastModified: modified ? new Date(modified) : null };
    });
    const truncated = tag(xml, 'IsTruncated') === 'true';
    return { objects, nextContinuationToken: truncated ? (tag(xml, 'NextContinuationToken') ?? null) : null };
  }

  /** Every object under `prefix`, page after page. */
  async *listAllObjects(prefix?: string): AsyncGenerator<S3ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.listObjects({ prefix, continuationToken: token });
      yield* page.objects;
      token = page.nextContinuationToken ?? undefined;
    } while (token);
  }
}
