// A local HTTP server speaking the S3 REST shapes Opsbase uses (PutObject, GetObject, HeadObject, DeleteObject,
// ListObjectsV2, path-style) that CHECKS every request's AWS Signature V4 with its own implementation on Node's
// crypto — independent of the client's signer (aws4fetch), so a signing bug shows as a 403 here, as on a real S3.
// Objects live in memory; `requests` records what was asked and whether the signature held.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeS3Object {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
}

export interface FakeS3Request {
  method: string;
  path: string;
  /** Did the SigV4 signature (and the payload hash) check out? */
  signed: boolean;
  status: number;
}

export interface FakeS3 {
  /** For OPSBASE_S3_ENDPOINT. */
  url: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Objects by key. */
  objects: Map<string, FakeS3Object>;
  requests: FakeS3Request[];
  /** The env that points Opsbase at this fake. */
  env: Record<string, string>;
  close: () => Promise<void>;
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
// RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 requires.
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function s3Error(res: ServerResponse, status: number, code: string, message: string, head = false) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(head ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
}

/** Recomputes the request's SigV4 signature; returns an error text or null when it verifies. */
function verifySignature(req: IncomingMessage, rawPath: string, body: Buffer, keyId: string, secret: string, region: string): string | null {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed Authorization header';
  const [, id, date, credRegion, signedHeaders, signature] = m;
  if (id !== keyId) return 'InvalidAccessKeyId';
  if (credRegion !== region) return `wrong region ${credRegion}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential date';
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (!payloadHash) return 'missing x-amz-content-sha256';
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256Hex(body)) return 'XAmzContentSHA256Mismatch';
  const [pathPart, query = ''] = rawPath.split('?');
  const canonicalUri = pathPart
    .split('/')
    .map((seg) => rfc3986(decodeURIComponent(seg)))
    .join('/');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [k, v = ''] = pair.split('=');
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return [rfc3986(dec(k)), rfc3986(dec(v))];
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const canonicalHeaders = names.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/s3/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? null : 'SignatureDoesNotMatch';
}

export async function startFakeS3(opts: { bucket?: string; region?: string } = {}): Promise<FakeS3> {
  const bucket = opts.bucket ?? 'opsbase-test';
  const region = opts.region ?? 'eu-test-1';
  const accessKeyId = 'AKIAFAKES3TEST';
  const secretAccessKey = 'fake-s3-secret/with+chars';
  const objects = new Map<string, FakeS3Object>();
  const requests: FakeS3Request[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rawPath = req.url ?? '/';
      const method = req.method ?? 'GET';
      const head = method === 'HEAD';
      const record = (status: number, signed: boolean) => requests.push({ method, path: rawPath, signed, status });
      const problem = verifySignature(req, rawPath, body, accessKeyId, secretAccessKey, region);
      if (problem) {
        record(403, false);
        const code = problem === 'InvalidAccessKeyId' || problem === 'XAmzContentSHA256Mismatch' ? problem : 'SignatureDoesNotMatch';
        return s3Error(res, code === 'XAmzContentSHA256Mismatch' ? 400 : 403, code, problem, head);
      }
      const url = new URL(rawPath, 'http://fake');
      const [, b, ...rest] = url.pathname.split('/');
      if (decodeURIComponent(b ?? '') !== bucket) {
        record(404, true);
        return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', head);
      }
      const key = rest.map(decodeURIComponent).join('/');
      if (!key) {
        if (method !== 'GET' || url.searchParams.get('list-type') !== '2') {
          record(400, true);
          return s3Error(res, 400, 'InvalidRequest', 'only ListObjectsV2 on the bucket');
        }
        const prefix = url.searchParams.get('prefix') ?? '';
        const max = Math.min(Number(url.searchParams.get('max-keys') ?? 1000), 1000);
        const after = url.searchParams.get('continuation-token') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = keys.slice(0, max);
        const truncated = keys.length > max;
        const contents = page
          .map((k) => {
            const o = objects.get(k) as FakeS3Object;
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join('');
        record(200, true);
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${truncated ? `<NextContinuationToken>${xmlEscape(page[page.length - 1])}</NextContinuationToken>` : ''}</ListBucketResult>`,
        );
      }
      const found = objects.get(key);
      switch (method) {
        case 'PUT': {
          const etag = `"${createHash('md5').update(body).digest('hex')}"`;
          objects.set(key, { body, contentType: String(req.headers['content-type'] ?? 'application/octet-stream'), etag, lastModified: new Date() });
          record(200, true);
          res.writeHead(200, { etag });
          return res.end();
        }
        case 'GET':
        case 'HEAD': {
          if (!found) {
            record(404, true);
            return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.', head);
          }
          record(200, true);
          res.writeHead(200, {
            'content-type': found.contentType,
            'content-length': String(found.body.length),
            etag: found.etag,
            'last-modified': found.lastModified.toUTCString(),
          });
          return res.end(head ? undefined : found.body);
        }
        case 'DELETE':
          objects.delete(key);
          record(204, true);
          res.writeHead(204);
          return res.end();
        default:
          record(405, true);
          return s3Error(res, 405, 'MethodNotAllowed', method);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    bucket,
    region,
    accessKeyId,
    secretAccessKey,
    objects,
    requests,
    env: {
      OPSBASE_S3_ENDPOINT: url,
      OPSBASE_S3_BUCKET: bucket,
      OPSBASE_S3_REGION: region,
      OPSBASE_S3_ACCESS_KEY_ID: accessKeyId,
      OPSBASE_S3_SECRET_ACCESS_KEY: secretAccessKey,
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
