// Issue 8 item 14: every operation's OpenAPI input says exactly what the server requires. Each operation is sent
// the minimal request its OpenAPI document describes — the required fields only, with the simplest value their
// schema allows — and the server must not answer that a field is missing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { operations } from '../src/operations.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let t: Tenant;
before(async () => {
  app = await startTestApp({ env: { OPSBASE_RATE_LIMIT_PER_MINUTE: '100000' } });
  t = await app.tenant('Minimal');
});
after(() => app.close());

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minLength?: number;
  minItems?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  format?: string;
  $ref?: string;
};

/** The simplest value `schema` accepts, as a client reading only the document would build it. */
function sample(schema: Schema, doc: { components?: { schemas?: Record<string, Schema> } }, depth = 0): unknown {
  if (schema.$ref) return sample(doc.components?.schemas?.[schema.$ref.split('/').at(-1)!] ?? {}, doc, depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const options = schema.anyOf ?? schema.oneOf;
  if (options && !schema.type && !schema.properties) return sample(options.find((o) => o.type !== 'null') ?? options[0], doc, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
      if (schema.format === 'uri') return 'https://example.com/';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}, doc, depth + 1));
    default: {
      // An object: its required fields, plus those a required-fields `anyOf` / `oneOf` branch asks for (the first branch).
      const required = new Set([...(schema.required ?? []), ...((schema.anyOf ?? schema.oneOf)?.[0]?.required ?? [])]);
      const out: Record<string, unknown> = {};
      for (const name of required) out[name] = sample(schema.properties?.[name] ?? {}, doc, depth + 1);
      return out;
    }
  }
}

const MISSING = /required|received undefined|missing/i;

test('the minimal request of every operation, built from its OpenAPI document, is never refused for a missing field', async () => {
  const doc = (await app.request('GET', '/api/openapi.json')).body;
  let sent = 0;
  for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, spec] of Object.entries<any>(methods)) {
      const op = operations.find((o) => o.id === spec.operationId);
      assert.ok(op, `${method} ${path}: operationId ${spec.operationId} is in the registry`);
      if (op.rawBody) continue; // a signed provider webhook: its body is the provider's
      const params: any[] = spec.parameters ?? [];
      let url = path.replace(/\{([a-z_]+)\}/g, (_, name: string) => (name === op.orgParam ? t.orgId : 'x'));
      const query = new URLSearchParams();
      for (const p of params.filter((x) => x.in === 'query' && x.required)) query.set(p.name, String(sample(p.schema, doc)));
      if (query.size) url += `?${query}`;
      const body = spec.requestBody ? sample(spec.requestBody.content['application/json'].schema, doc) : undefined;
      const key = op.auth === 'public' ? undefined : op.instanceAdmin ? app.admin.sessionToken : op.auth === 'user' ? t.sessionToken : t.key;
      // Leave this tenant's credentials alive for the rest of the sweep.
      if (['auth.logout', 'users.delete_me', 'orgs.delete', 'keys.delete', 'keys.revoke', 'keys.roll'].includes(op.id)) continue;
      const res = await app.request(method.toUpperCase(), url, { key, ...(op.method === 'GET' ? {} : { body: body ?? {} }) });
      sent++;
      assert.ok(res.status < 500, `${op.id}: ${res.status} ${JSON.stringify(res.body)}`);
      if (res.status !== 400) continue;
      const missing = (res.body.details ?? []).filter((d: { message: string }) => MISSING.test(d.message));
      assert.deepEqual(missing, [], `${op.id} with its minimal body ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    }
  }
  assert.ok(sent >= 80, `${sent} operations sent`);
});

test('queue.submit: OpenAPI says one job needs queue and task_type, or a batch needs jobs', async () => {
  const doc = (await app.request('GET', '/api/openapi.json')).body;
  const schema = doc.paths['/api/v1/queue/jobs'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(schema.anyOf, [{ required: ['queue', 'task_type'] }, { required: ['jobs'] }]);
  const res = await app.request('POST', '/api/v1/queue/jobs', { key: t.key, body: { queue: 'q' } });
  assert.equal(res.status, 400);
  assert.deepEqual(
    res.body.details.map((d: { field: string }) => d.field),
    ['task_type'],
  );
});
