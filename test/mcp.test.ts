// MCP end to end with the official SDK client: `opsbase mcp` spawned over stdio against a running server, and
// POST /mcp (Streamable HTTP) on the server itself — tools, annotations, output schemas that validate what the tools
// return, toolsets on both transports, errors as results.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import { contracts } from '../src/cli/contract.ts';
import { defineOperation, toolName, type Operation } from '../src/core/operation.ts';
import { isExposed } from '../src/mcp/tools.ts';
import { DEFAULT_TOOLSETS, toolsetOf } from '../src/mcp/toolsets.ts';
import { operations } from '../src/operations.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { MAIN, runProcess } from './helpers/run-process.ts';

// JSON Schema 2020-12 (MCP's default dialect), with formats, strict about the schema documents themselves.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false, validateSchema: true, allErrors: true }));

/** Validates `value` against a tool's declared output schema; fails the test with the schema errors. */
function assertMatchesOutput(tool: Tool | undefined, value: unknown) {
  assert.ok(tool?.outputSchema, `${tool?.name} declares an output schema`);
  const validate = ajv.compile(tool.outputSchema);
  assert.ok(validate(value), `${tool.name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

function env(app: TestApp, key: string | undefined): Record<string, string> {
  const e: Record<string, string> = { ...(process.env as Record<string, string>), OPSBASE_API_URL: app.url };
  delete e.OPSBASE_API_KEY;
  if (key) e.OPSBASE_API_KEY = key;
  return e;
}

async function stdioClient(app: TestApp, key: string | undefined, extraArgs: string[] = []) {
  const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [MAIN, 'mcp', ...extraArgs], env: env(app, key), stderr: 'pipe' }),
  );
  return client;
}

async function httpClient(app: TestApp, key: string, path = '/mcp', headers: Record<string, string> = {}) {
  const client = new Client({ name: 'opsbase-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(app.url + path), {
    requestInit: { headers: { Authorization: `Bearer ${key}`, ...headers } },
  });
  await client.connect(transport);
  return client;
}

async function withClient<T>(connect: Promise<Client>, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect;
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** The JSON a tool result carries in its text content. */
function json(result: unknown): any {
  const content = (result as CallToolResult).content;
  assert.equal(content[0]?.type, 'text');
  return JSON.parse((content[0] as { text: string }).text);
}

const names = (tools: Tool[]) => tools.map((t) => t.name).sort();

// Operations that exist only in this test's server: a paid one (the `confirm` gate) and one whose output is a
// list, not an object (its structured content is wrapped as `{ result }`).
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
const list = defineOperation({
  id: 'testing.names',
  method: 'GET',
  path: '/testing/names',
  summary: 'A bare list',
  scopes: [],
  input: z.object({}),
  output: z.array(z.string()),
  handler: async () => ['a', 'b'],
}) as unknown as Operation;

describe('mcp', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ operations: [...operations, paid, list] });
  });
  after(() => app?.close());

  test('stdio --toolsets all: every exposed operation is a tool with annotations and an object output schema', async () => {
    const t = await app.tenant();
    await withClient(stdioClient(app, t.key, ['--toolsets', 'all']), async (client) => {
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      const exposed = contracts().filter(isExposed);
      assert.deepEqual(names(tools), [...exposed.map((c) => toolName(c.id)), 'list_toolsets'].sort());
      // Credential-handling operations are deliberately not tools (passwords never pass through a model).
      assert.ok(!byName.has('auth_login') && !byName.has('auth_register') && !byName.has('auth_logout'));
      assert.ok(!byName.has('users_delete_me') && !byName.has('auth_change_password'));
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
      for (const tool of tools) {
        assert.equal(tool.outputSchema?.type, 'object', `${tool.name}: MCP output schemas are object schemas`);
        assert.doesNotThrow(() => ajv.compile(tool.outputSchema!), `${tool.name}: a valid JSON Schema 2020-12 document`);
      }
    });
  });

  test('stdio: structured results match the declared output schemas; API errors come back as results', async () => {
    const t = await app.tenant();
    await withClient(stdioClient(app, t.key, ['--toolsets', 'keys']), async (client) => {
      const { tools } = await client.listTools();
      const tool = (name: string) => tools.find((x) => x.name === name);

      // The SDK client itself checks structured content against the declared schema (it throws otherwise).
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.notEqual(who.isError, true, JSON.stringify(who));
      assert.equal((who.structuredContent as any)?.org?.id, t.orgId);
      assert.equal(json(who).key.id, t.keyId);
      assertMatchesOutput(tool('whoami'), who.structuredContent);

      const created = await client.callTool({ name: 'keys_create', arguments: { name: 'from-mcp', scopes: ['keys:read'] } });
      assert.notEqual(created.isError, true, JSON.stringify(created));
      assertMatchesOutput(tool('keys_create'), created.structuredContent);
      const res = await app.request('GET', `/api/v1/keys/${(created.structuredContent as any).id}`, { key: t.key });
      assert.equal(res.status, 200);
      assert.equal(res.body.name, 'from-mcp');

      const listed = await client.callTool({ name: 'keys_list', arguments: { limit: 1 } });
      assert.equal((listed.structuredContent as any).data.length, 1);
      assertMatchesOutput(tool('keys_list'), listed.structuredContent);
      // A schema that says nothing would pass anything: this one refuses a key without its id.
      const { id: _id, ...withoutId } = (listed.structuredContent as any).data[0];
      assert.equal(ajv.compile(tool('keys_list')!.outputSchema!)({ ...(listed.structuredContent as object), data: [withoutId] }), false);

      const missing = await client.callTool({ name: 'keys_get', arguments: { id: 'key_doesnotexist' } });
      assert.equal(missing.isError, true);
      assert.equal(json(missing).error, 'not_found');
      assert.ok(json(missing).request_id, 'the API envelope, request id included');
      // Validation is the API's: same code and per-field details as REST.
      const bad = await client.callTool({ name: 'keys_create', arguments: { name: '' } });
      assert.equal(bad.isError, true);
      assert.equal(json(bad).error, 'invalid_request');
      const noId = await client.callTool({ name: 'keys_get', arguments: {} });
      assert.equal(noId.isError, true);
      assert.equal(json(noId).error, 'invalid_request');
      assert.equal(json(noId).details[0].field, 'id');
    });
  });

  test('stdio toolsets: the default set, a chosen set (+ context and list_toolsets), and an unknown name exits 2', async () => {
    const t = await app.tenant();
    const exposed = contracts().filter(isExposed);
    const inToolsets = (sets: string[]) =>
      [...exposed.filter((c) => sets.includes(toolsetOf(c.id))).map((c) => toolName(c.id)), 'list_toolsets'].sort();

    await withClient(stdioClient(app, t.key), async (client) => {
      const { tools } = await client.listTools();
      assert.deepEqual(names(tools), inToolsets(DEFAULT_TOOLSETS));
      assert.ok(names(tools).includes('whoami') && !names(tools).includes('keys_create'), 'administration is not in the default set');

      const found = await client.callTool({ name: 'list_toolsets', arguments: {} });
      assertMatchesOutput(
        tools.find((x) => x.name === 'list_toolsets'),
        found.structuredContent,
      );
      const keys = (found.structuredContent as any).toolsets.find((s: any) => s.name === 'keys');
      assert.equal(keys.enabled, false);
      assert.ok(keys.tools.includes('keys_create'), 'the discovery tool lists what a disabled toolset holds');
      assert.match(keys.description, /API keys/);
      assert.match((found.structuredContent as any).how_to_enable, /--toolsets/);

      await assert.rejects(client.callTool({ name: 'keys_create', arguments: { name: 'x' } }), /toolset `keys`, which is not enabled/);
    });

    await withClient(stdioClient(app, t.key, ['--toolsets', 'keys,billing']), async (client) => {
      assert.deepEqual(names((await client.listTools()).tools), inToolsets(['context', 'keys', 'billing']));
    });

    const bad = await runProcess(['mcp', '--toolsets', 'keys,nope'], env(app, t.key));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown toolset nope: choose from all, default, context, .*keys/);
    assert.equal(bad.stdout, '', 'nothing on the protocol stream');
  });

  test('stdio --readonly lists only read-only tools and refuses writes', async () => {
    const t = await app.tenant();
    await withClient(stdioClient(app, t.key, ['--readonly', '--toolsets', 'all']), async (client) => {
      const { tools } = await client.listTools();
      const listed = names(tools);
      assert.ok(listed.includes('keys_list') && listed.includes('whoami'));
      assert.ok(!listed.includes('keys_create') && !listed.includes('keys_delete'));
      assert.ok(tools.every((tool) => tool.annotations?.readOnlyHint === true));
      await assert.rejects(client.callTool({ name: 'keys_create', arguments: { name: 'x' } }), /read-only/);
    });
  });

  test('stdio without a credential: tools answer 401 as an error result', async () => {
    await withClient(stdioClient(app, undefined), async (client) => {
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(who.isError, true);
      assert.equal(json(who).error, 'unauthorized');
    });
  });

  test('HTTP toolsets: default, ?toolsets=, the X-MCP-Toolsets header, and 400 for an unknown name', async () => {
    const t = await app.tenant();
    const defaults = await withClient(httpClient(app, t.key), async (c) => names((await c.listTools()).tools));
    assert.ok(defaults.includes('whoami') && defaults.includes('list_toolsets') && !defaults.includes('keys_create'));

    const chosen = await withClient(httpClient(app, t.key, '/mcp?toolsets=keys'), async (c) => names((await c.listTools()).tools));
    assert.ok(chosen.includes('keys_create') && chosen.includes('whoami'));
    assert.ok(!chosen.includes('activity_list'), 'only what was asked for (and context)');

    const header = await withClient(httpClient(app, t.key, '/mcp', { 'X-MCP-Toolsets': 'default,billing' }), async (c) =>
      names((await c.listTools()).tools),
    );
    assert.ok(header.includes('billing_get') && header.includes('activity_list') && !header.includes('keys_create'));

    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const bad = await app.request('POST', '/mcp?toolsets=nope', {
      body: init,
      key: t.key,
      headers: { accept: 'application/json, text/event-stream' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_request');
    assert.match(bad.body.message, /Unknown toolset nope/);
    assert.ok(bad.body.request_id);
  });

  test('HTTP: tool calls carry the caller’s scopes and X-Org-Id; ?readonly=true hides writes', async () => {
    const t = await app.tenant();
    const created = await app.request('POST', '/api/v1/keys', { key: t.key, body: { name: 'reader', scopes: ['keys:read'] } });
    assert.equal(created.status, 201);
    await withClient(httpClient(app, created.body.secret, '/mcp?toolsets=keys'), async (reader) => {
      const denied = await reader.callTool({ name: 'keys_create', arguments: { name: 'nope' } });
      assert.equal(denied.isError, true);
      assert.equal(json(denied).error, 'forbidden');
      const listed = await reader.callTool({ name: 'keys_list', arguments: { limit: 1 } });
      assert.notEqual(listed.isError, true, JSON.stringify(listed));
      assert.equal((listed.structuredContent as any).data.length, 1);
    });
    const ro = await withClient(httpClient(app, t.key, '/mcp?readonly=true&toolsets=all'), async (c) => names((await c.listTools()).tools));
    assert.ok(ro.includes('keys_list') && !ro.includes('keys_create'));

    // A session token reaches user tools and acts in the org chosen with X-Org-Id.
    const other = await app.request('POST', '/api/v1/orgs', { key: t.sessionToken, body: { name: 'Second org' } });
    assert.equal(other.status, 201);
    await withClient(httpClient(app, t.sessionToken, '/mcp?toolsets=orgs', { 'X-Org-Id': other.body.id }), async (client) => {
      const orgs = await client.callTool({ name: 'orgs_list', arguments: {} });
      assert.notEqual(orgs.isError, true, JSON.stringify(orgs));
      const ids = json(orgs).data.map((o: { id: string }) => o.id);
      assert.ok(ids.includes(t.orgId) && ids.includes(other.body.id));
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal((who.structuredContent as any)?.org?.id, other.body.id);
    });
  });

  test('HTTP: an output that is not an object is declared and returned as { result }; the text stays the API JSON', async () => {
    const t = await app.tenant();
    await withClient(httpClient(app, t.key, '/mcp?toolsets=testing'), async (client) => {
      const tool = (await client.listTools()).tools.find((x) => x.name === 'testing_names');
      assert.deepEqual(tool?.outputSchema, {
        type: 'object',
        properties: { result: { type: 'array', items: { type: 'string' } } },
        required: ['result'],
      });
      const res = await client.callTool({ name: 'testing_names', arguments: {} });
      assert.deepEqual(res.structuredContent, { result: ['a', 'b'] });
      assert.deepEqual(json(res), ['a', 'b']);
      assertMatchesOutput(tool, res.structuredContent);
    });
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
    await withClient(httpClient(app, t.key, '/mcp?toolsets=testing'), async (client) => {
      const tool = (await client.listTools()).tools.find((x) => x.name === 'testing_paid');
      assert.ok(tool?.inputSchema.required?.includes('confirm'));
      const before = paidCalls;
      const refused = await client.callTool({ name: 'testing_paid', arguments: {} });
      assert.equal(refused.isError, true);
      assert.match(json(refused).message, /costs 3 credits/);
      assert.equal(paidCalls, before, 'the operation did not run');
      const confirmed = await client.callTool({ name: 'testing_paid', arguments: { confirm: true } });
      assert.doesNotMatch(JSON.stringify(confirmed), /confirm: true/, 'confirmed calls reach the API');
    });
  });
});
