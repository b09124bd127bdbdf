// MCP end to end with the official SDK client: `opsbase mcp` spawned over stdio against a running server, and
// POST /mcp (Streamable HTTP) on the server itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { defineOperation, type Operation } from '../src/core/operation.ts';
import { operations } from '../src/operations.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

async function stdioClient(app: TestApp, key: string | undefined, extraArgs: string[] = []) {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), OPSBASE_API_URL: app.url };
  delete env.OPSBASE_API_KEY;
  if (key) env.OPSBASE_API_KEY = key;
  const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', ...extraArgs], env, stderr: 'pipe' }));
  return client;
}

async function httpClient(app: TestApp, key: string, path = '/mcp') {
  const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(app.url + path), { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  return client;
}

/** The JSON a tool result carries in its text content. */
function json(result: unknown): any {
  const content = (result as CallToolResult).content;
  assert.equal(content[0]?.type, 'text');
  return JSON.parse((content[0] as { text: string }).text);
}

// A paid operation that exists only in this test's server, to check the `confirm` gate.
let paidCalls = 0;
const paid = defineOperation({
  id: 'testing.paid',
  method: 'POST',
  path: '/testing/paid',
  summary: 'A paid test operation',
  scopes: [],
  cost: 3,
  status: 200,
  input: z.object({ note: z.string().optional() }),
  output: z.object({ ok: z.literal(true) }),
  handler: async () => {
    paidCalls++;
    return { ok: true as const };
  },
}) as unknown as Operation;

describe('mcp', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ operations: [...operations, paid] });
  });
  after(() => app?.close());

  test('stdio: tools mirror the registry with annotations; whoami works; API errors come back as results', async () => {
    const t = await app.tenant();
    const client = await stdioClient(app, t.key);
    try {
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      for (const name of ['whoami', 'keys_create', 'keys_get', 'keys_delete', 'orgs_members_list', 'activity_list']) {
        assert.ok(byName.has(name), `tool ${name} is listed`);
      }
      // Credential-handling operations are deliberately not tools (passwords never pass through a model).
      assert.ok(!byName.has('auth_login') && !byName.has('auth_register') && !byName.has('auth_logout'));
      assert.ok(!byName.has('users_delete_me'));
      assert.deepEqual(byName.get('keys_get')?.annotations, {
        title: byName.get('keys_get')?.title,
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
      assert.equal(byName.get('keys_create')?.annotations?.readOnlyHint, false);
      assert.equal(byName.get('keys_create')?.annotations?.idempotentHint, false);
      assert.equal(byName.get('keys_delete')?.annotations?.destructiveHint, true);
      assert.deepEqual(byName.get('keys_create')?.inputSchema.required, ['name']);

      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.notEqual(who.isError, true, JSON.stringify(who));
      assert.equal((who.structuredContent as any)?.org?.id, t.orgId);
      assert.equal(json(who).key.id, t.keyId);

      const missing = await client.callTool({ name: 'keys_get', arguments: { id: 'key_doesnotexist' } });
      assert.equal(missing.isError, true);
      assert.equal(json(missing).error, 'not_found');
      assert.ok(json(missing).request_id, 'the API envelope, request id included');

      // Validation is the API's: same code and per-field details as REST.
      const bad = await client.callTool({ name: 'keys_create', arguments: { name: '' } });
      assert.equal(bad.isError, true);
      assert.equal(json(bad).error, 'invalid_request');

      const created = await client.callTool({ name: 'keys_create', arguments: { name: 'from-mcp', scopes: ['keys:read'] } });
      assert.notEqual(created.isError, true, JSON.stringify(created));
      const res = await app.request('GET', `/api/v1/keys/${(created.structuredContent as any).id}`, { key: t.key });
      assert.equal(res.status, 200);
      assert.equal(res.body.name, 'from-mcp');
    } finally {
      await client.close();
    }
  });

  test('stdio --readonly lists only read-only tools and refuses writes', async () => {
    const t = await app.tenant();
    const client = await stdioClient(app, t.key, ['--readonly']);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name);
      assert.ok(names.includes('keys_list') && names.includes('whoami'));
      assert.ok(!names.includes('keys_create') && !names.includes('keys_delete'));
      assert.ok(tools.every((tool) => tool.annotations?.readOnlyHint === true));
      await assert.rejects(client.callTool({ name: 'keys_create', arguments: { name: 'x' } }), /read-only/);
    } finally {
      await client.close();
    }
  });

  test('stdio without a credential: tools answer 401 as an error result', async () => {
    const client = await stdioClient(app, undefined);
    try {
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(who.isError, true);
      assert.equal(json(who).error, 'unauthorized');
    } finally {
      await client.close();
    }
  });

  test('HTTP: POST /mcp lists tools and calls whoami with the bearer key', async () => {
    const t = await app.tenant();
    const client = await httpClient(app, t.key);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((tool) => tool.name === 'whoami'));
      assert.ok(tools.some((tool) => tool.name === 'keys_create'));
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.notEqual(who.isError, true, JSON.stringify(who));
      assert.equal((who.structuredContent as any)?.org?.id, t.orgId);
    } finally {
      await client.close();
    }
  });

  test('HTTP: tool calls carry the caller’s scopes; ?readonly=true hides writes', async () => {
    const t = await app.tenant();
    const created = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'reader', scopes: ['keys:read'] } });
    assert.equal(created.status, 201);
    const reader = await httpClient(app, created.body.secret);
    try {
      const denied = await reader.callTool({ name: 'keys_create', arguments: { name: 'nope' } });
      assert.equal(denied.isError, true);
      assert.equal(json(denied).error, 'forbidden');
      const listed = await reader.callTool({ name: 'keys_list', arguments: { limit: 1 } });
      assert.notEqual(listed.isError, true, JSON.stringify(listed));
      assert.equal((listed.structuredContent as any).data.length, 1);
    } finally {
      await reader.close();
    }
    const ro = await httpClient(app, t.key, '/mcp?readonly=true');
    try {
      const names = (await ro.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('keys_list'));
      assert.ok(!names.includes('keys_create'));
    } finally {
      await ro.close();
    }
  });

  test('HTTP: a session token reaches user tools and acts in the org chosen with X-Org-Id', async () => {
    const t = await app.tenant();
    const other = await app.request('POST', '/api/v1/orgs', { key: t.sessionToken, body: { name: 'Second org' } });
    assert.equal(other.status, 201);
    const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
    const headers = { Authorization: `Bearer ${t.sessionToken}`, 'X-Org-Id': other.body.id };
    await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), { requestInit: { headers } }));
    try {
      const orgs = await client.callTool({ name: 'orgs_list', arguments: {} });
      assert.notEqual(orgs.isError, true, JSON.stringify(orgs));
      const ids = json(orgs).data.map((o: { id: string }) => o.id);
      assert.ok(ids.includes(t.orgId) && ids.includes(other.body.id));
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal((who.structuredContent as any)?.org?.id, other.body.id);
    } finally {
      await client.close();
    }
  });

  test('HTTP: no or bad credential → 401 envelope; GET → 405; body limits and content types as everywhere', async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const headers = { accept: 'application/json, text/event-stream' };
    const anon = await app.request('POST', '/mcp', { body: init, headers });
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error, 'unauthorized');
    assert.ok(anon.body.request_id);
    const bad = await app.request('POST', '/mcp', { body: init, headers, key: 'obk_live_not_a_real_key' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, 'unauthorized');
    const t = await app.tenant();
    const get = await app.request('GET', '/mcp', { key: t.key, headers });
    assert.equal(get.status, 405);
    assert.equal(get.body.error, 'method_not_allowed');
    const ok = await app.request('POST', '/mcp', { body: init, headers, key: t.key });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.serverInfo.name, 'opsbase');
    assert.ok(ok.headers.get('x-request-id'), "the app's headers survive the hijacked response");
    assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
    const openapi = await app.request('GET', '/api/openapi.json');
    assert.ok(openapi.body.paths['/api/v1/whoami'] && !openapi.body.paths['/mcp'], 'JSON-RPC is not part of the REST document');
    // Fastify's body limit and content-type handling still apply in front of the transport.
    const huge = await app.request('POST', '/mcp', { raw: JSON.stringify({ ...init, pad: 'x'.repeat(1_100_000) }), headers, key: t.key });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error, 'payload_too_large');
    const text = await app.request('POST', '/mcp', { raw: 'hello', headers: { ...headers, 'content-type': 'text/plain' }, key: t.key });
    assert.equal(text.status, 415);
    assert.equal(text.body.error, 'unsupported_media_type');
  });

  test('paid tools require confirm: true and say what they cost', async () => {
    const t = await app.tenant();
    const client = await httpClient(app, t.key);
    try {
      const tool = (await client.listTools()).tools.find((x) => x.name === 'testing_paid');
      assert.ok(tool?.inputSchema.required?.includes('confirm'));
      const before = paidCalls;
      const refused = await client.callTool({ name: 'testing_paid', arguments: {} });
      assert.equal(refused.isError, true);
      assert.match(json(refused).message, /costs 3 credits/);
      assert.equal(paidCalls, before, 'the operation did not run');
      const confirmed = await client.callTool({ name: 'testing_paid', arguments: { confirm: true } });
      assert.doesNotMatch(JSON.stringify(confirmed), /confirm: true/, 'confirmed calls reach the API');
    } finally {
      await client.close();
    }
  });
});
