// The AI layer: the offline model, providers from settings, and the tool-calling loop against a model vendor on
// loopback (OpenAI chat-completions protocol, streaming and not), with tools that are real registry operations
// executed through the API path.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Tool, tool, jsonSchema } from 'ai';
import { runModelLoop, LoopError, type LoopEvent } from '../src/ai/loop.ts';
import { countTokens, OfflineModel } from '../src/ai/offline.ts';
import { agentSettings, languageModel, settingsProblem } from '../src/ai/provider.ts';
import { agentExecutor, agentTools, httpFetchTool, toolRefusal } from '../src/ai/tools.ts';
import { findOperation, operations } from '../src/operations.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { startTestApp, type Tenant, type TestApp } from './helpers/harness.ts';

let app: TestApp;
let fake: FakeOpenAI;
let t: Tenant;
before(async () => {
  app = await startTestApp();
  fake = await startFakeOpenAI();
  t = await app.tenant('AiLoop');
});
after(async () => {
  await fake.close();
  await app.close();
});

const compatible = () => languageModel({ provider: 'openai-compatible', baseUrl: fake.url, model: 'fake-model', apiKey: 'sk-test' });
const notifyTools = () =>
  agentTools({ allow: ['notifications.create'], operations, executor: agentExecutor(app.app.server, t.key), allowPrivateNetwork: true });

test('the offline model is deterministic and useful: same prompt → same plan and same usage, counted from the text', async () => {
  const run = () =>
    runModelLoop({
      model: new OfflineModel(),
      system: 'You are a planner.',
      prompt: 'Write the launch post. Draft the outline. Ask legal to review it.',
    });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a, b);
  assert.match(a.text, /^Summary: Write the launch post\./);
  assert.match(a.text, /1\. Draft the outline\.\n2\. Ask legal to review it\./);
  assert.equal(a.stop_reason, 'completed');
  assert.equal(a.steps, 1);
  assert.equal(a.usage.output_tokens, countTokens(a.text));
  assert.equal(a.usage.input_tokens, countTokens('You are a planner.\nWrite the launch post. Draft the outline. Ask legal to review it.'));
  assert.equal(a.usage.total_tokens, a.usage.input_tokens + a.usage.output_tokens);
  // Another text, another answer.
  const c = await runModelLoop({ model: new OfflineModel(), system: 'x', prompt: 'Fix the login bug.' });
  assert.notEqual(c.text, a.text);
});

test('the offline model calls an offered tool with arguments from the input, then answers with its result', async () => {
  const calls: unknown[] = [];
  const lookup: Tool = tool({
    description: 'Look a customer up',
    inputSchema: jsonSchema<{ name: string; limit: number }>({
      type: 'object',
      properties: { name: { type: 'string', maxLength: 20 }, limit: { type: 'integer', minimum: 3 } },
      required: ['name', 'limit'],
    }),
    execute: async (args) => {
      calls.push(args);
      return { customer: 'cus_42', plan: 'gold' };
    },
  });
  const events: LoopEvent[] = [];
  const run = (stream: boolean) =>
    runModelLoop({
      model: new OfflineModel(),
      system: 's',
      prompt: 'Upgrade the Acme account. Then email them.',
      tools: { lookup },
      stream,
      onEvent: (e) => void events.push(e),
    });
  const r = await run(false);
  assert.deepEqual(calls, [{ name: 'Upgrade the Acme acc', limit: 3 }]);
  assert.equal(r.steps, 2);
  assert.match(r.text, /Tool results:\n- lookup: \{"customer":"cus_42","plan":"gold"\}/);
  assert.deepEqual(
    events.map((e) => `${e.type}@${e.step}`),
    ['tool_call@0', 'tool_result@0', 'usage@0', 'message@1', 'usage@1'],
  );
  // Streaming gives the very same result.
  const s = await run(true);
  assert.deepEqual(s, r);
});

test('loop against an OpenAI-compatible server: tool call → operation runs through the API → final answer; usage exact', async () => {
  for (const stream of [false, true]) {
    const title = `from the model (${stream ? 'streamed' : 'plain'})`;
    fake.requests.length = 0;
    fake.script(
      { kind: 'tool', name: 'notifications_create', args: { title }, usage: { prompt_tokens: 120, completion_tokens: 17 } },
      { kind: 'text', text: 'Done: the team was notified.', usage: { prompt_tokens: 180, completion_tokens: 9 } },
    );
    const events: LoopEvent[] = [];
    const r = await runModelLoop({
      model: compatible(),
      system: 'You notify people.',
      prompt: 'Tell the team the release is out.',
      tools: notifyTools(),
      stream,
      onEvent: (e) => void events.push(e),
    });
    assert.equal(r.text, 'Done: the team was notified.');
    assert.equal(r.stop_reason, 'completed');
    assert.equal(r.steps, 2);
    assert.deepEqual(r.usage, { input_tokens: 300, output_tokens: 26, total_tokens: 326 });
    // The operation really ran, in the tenant's org.
    const list = await app.request('GET', '/api/v1/notifications', { key: t.key });
    assert.ok(
      list.body.data.some((n: { title: string }) => n.title === title),
      JSON.stringify(list.body),
    );
    const result = events.find((e) => e.type === 'tool_result');
    assert.ok(result && result.type === 'tool_result');
    assert.equal(result.is_error, false);
    assert.equal((result.result as { title: string }).title, title);
    assert.deepEqual(
      events.filter((e) => e.type === 'usage').map((e) => (e.type === 'usage' ? e.usage.total_tokens : 0)),
      [137, 189],
    );
    // What the vendor saw: the system prompt, the tool's schema from the operation's input, then the tool's result.
    assert.equal(fake.requests.length, 2);
    assert.equal(fake.requests[0].messages[0].content, 'You notify people.');
    const fn = fake.requests[0].tools[0].function;
    assert.equal(fn.name, 'notifications_create');
    assert.ok(fn.parameters.properties.title, JSON.stringify(fn.parameters));
    const toolMsg = fake.requests[1].messages.find((m: { role: string }) => m.role === 'tool');
    assert.match(toolMsg.content, new RegExp(title.replace(/[()]/g, '.')));
    assert.equal(fake.authorizations.at(-1), 'Bearer sk-test');
    assert.equal(fake.requests[0].stream === true, stream);
  }
});

test('a tool call the API refuses comes back to the model as the error envelope, and the loop goes on', async () => {
  fake.script(
    { kind: 'tool', name: 'notifications_create', args: { title: '' }, usage: { prompt_tokens: 10, completion_tokens: 5 } },
    { kind: 'text', text: 'I could not.', usage: { prompt_tokens: 20, completion_tokens: 3 } },
  );
  const events: LoopEvent[] = [];
  const r = await runModelLoop({ model: compatible(), system: 's', prompt: 'p', tools: notifyTools(), onEvent: (e) => void events.push(e) });
  assert.equal(r.text, 'I could not.');
  const result = events.find((e) => e.type === 'tool_result');
  assert.ok(result && result.type === 'tool_result');
  assert.equal(result.is_error, true);
  assert.equal((result.result as { error: string }).error, 'invalid_request');
});

test('beforeNextStep sees the exact usage after each model call and can stop the loop (the budget re-check)', async () => {
  fake.requests.length = 0;
  fake.script(
    { kind: 'tool', name: 'notifications_create', args: { title: 'budget' }, usage: { prompt_tokens: 50, completion_tokens: 50 } },
    { kind: 'text', text: 'never sent', usage: { prompt_tokens: 1, completion_tokens: 1 } },
  );
  const seen: number[] = [];
  const r = await runModelLoop({
    model: compatible(),
    system: 's',
    prompt: 'p',
    tools: notifyTools(),
    beforeNextStep: (usage) => {
      seen.push(usage.total_tokens);
      return usage.total_tokens >= 100 ? 'monthly token budget reached' : true;
    },
  });
  assert.deepEqual(seen, [100]);
  assert.equal(r.stop_reason, 'stopped');
  assert.equal(r.stopped_by, 'monthly token budget reached');
  assert.equal(fake.requests.length, 1, 'no second model call');
  assert.deepEqual(r.usage, { input_tokens: 50, output_tokens: 50, total_tokens: 100 });
  fake.reset();
});

test('max steps ends a loop that keeps calling tools', async () => {
  fake.reset();
  fake.script(
    { kind: 'tool', name: 'notifications_create', args: { title: 'one' }, usage: { prompt_tokens: 1, completion_tokens: 1 } },
    { kind: 'tool', name: 'notifications_create', args: { title: 'two' }, usage: { prompt_tokens: 1, completion_tokens: 1 } },
  );
  const r = await runModelLoop({ model: compatible(), system: 's', prompt: 'p', tools: notifyTools(), maxSteps: 2 });
  assert.equal(r.steps, 2);
  assert.equal(r.stop_reason, 'max_steps');
  assert.equal(fake.requests.length, 2);
});

test('the vendor failing: 500, garbage, or hanging past the timeout → a LoopError that says which', async () => {
  for (const stream of [false, true]) {
    fake.script({ kind: 'status', status: 500 });
    await assert.rejects(
      runModelLoop({ model: compatible(), system: 's', prompt: 'p', maxRetries: 0, stream }),
      (err: LoopError) => {
        assert.ok(err instanceof LoopError, String(err));
        assert.equal(err.code, 'provider_error');
        assert.equal(err.status, 500);
        assert.match(err.message, /500/);
        return true;
      },
    );
    fake.script({ kind: 'garbage' });
    await assert.rejects(runModelLoop({ model: compatible(), system: 's', prompt: 'p', maxRetries: 0, stream }), (err: LoopError) => {
      assert.ok(err instanceof LoopError, String(err));
      assert.ok(['invalid_response', 'provider_error'].includes(err.code), err.code);
      assert.ok(err.message.length > 10);
      return true;
    });
    fake.script({ kind: 'hang' });
    const started = Date.now();
    await assert.rejects(runModelLoop({ model: compatible(), system: 's', prompt: 'p', maxRetries: 0, timeoutMs: 400, stream }), (err: LoopError) => {
      assert.ok(err instanceof LoopError, String(err));
      assert.equal(err.code, 'timeout');
      assert.match(err.message, /400 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  }
  // A 401 (bad key) is a provider error too, with its status.
  fake.script({ kind: 'status', status: 401, body: '{"error":{"message":"Incorrect API key"}}' });
  await assert.rejects(runModelLoop({ model: compatible(), system: 's', prompt: 'p', maxRetries: 0 }), (err: LoopError) => err.status === 401);
});

test('a cancelled run stops the loop with `aborted`', async () => {
  fake.script({ kind: 'hang' });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(runModelLoop({ model: compatible(), system: 's', prompt: 'p', maxRetries: 0, signal: ac.signal }), (err: LoopError) => err.code === 'aborted');
});

test('providers from settings: offline needs nothing; others say what is missing; an agent overrides the instance', () => {
  assert.equal(settingsProblem({ provider: 'offline' }), null);
  assert.equal(settingsProblem({ provider: 'openai' })?.field, 'api_key');
  assert.equal(settingsProblem({ provider: 'anthropic' })?.field, 'api_key');
  assert.equal(settingsProblem({ provider: 'openai-compatible', model: 'm' })?.field, 'base_url');
  assert.equal(settingsProblem({ provider: 'openai-compatible', baseUrl: 'http://x/v1' })?.field, 'model');
  assert.throws(() => languageModel({ provider: 'openai' }), /API key/);
  assert.equal(languageModel({ provider: 'openai', apiKey: 'k' }).provider, 'openai.chat');
  assert.match(languageModel({ provider: 'anthropic', apiKey: 'k' }).provider, /anthropic/);
  assert.equal(languageModel({ provider: 'offline' }).modelId, 'opsbase-offline-1');
  const instance = { provider: 'openai' as const, model: 'gpt-4o-mini', apiKey: 'inst', baseUrl: null };
  assert.deepEqual(agentSettings(instance, { model: 'gpt-4.1' }), { provider: 'openai', model: 'gpt-4.1', apiKey: 'inst', baseUrl: null });
  // Another provider never inherits the instance's key.
  assert.deepEqual(agentSettings(instance, { provider: 'anthropic' }), { provider: 'anthropic', model: null, apiKey: null, baseUrl: null });
});

test('the openai provider speaks chat completions to its base URL with its key', async () => {
  fake.script({ kind: 'text', text: 'hi', usage: { prompt_tokens: 3, completion_tokens: 1 } });
  const r = await runModelLoop({ model: languageModel({ provider: 'openai', apiKey: 'sk-openai', baseUrl: fake.url, model: 'gpt-x' }), system: 's', prompt: 'p' });
  assert.equal(r.text, 'hi');
  assert.deepEqual(r.usage, { input_tokens: 3, output_tokens: 1, total_tokens: 4 });
  assert.equal(fake.authorizations.at(-1), 'Bearer sk-openai');
  assert.equal(fake.requests.at(-1)?.model, 'gpt-x');
});

test('tools: only org operations that handle no credentials may be allow-listed; http_fetch refuses private hosts', async () => {
  assert.equal(toolRefusal(findOperation('notifications.create'), 'notifications.create'), null);
  assert.match(toolRefusal(undefined, 'nope.nope') ?? '', /not an operation/);
  assert.match(toolRefusal(findOperation('keys.create'), 'keys.create') ?? '', /API keys/);
  assert.match(toolRefusal(findOperation('auth.login'), 'auth.login') ?? '', /user or the instance/);
  const fetchTool = httpFetchTool({ allowPrivate: false });
  const refused = await fetchTool.execute?.({ url: `${app.url}/api/health` }, { toolCallId: 'x', messages: [], context: {} });
  assert.equal((refused as { error: string }).error, 'forbidden_url');
  assert.equal((refused as { reason: string }).reason, 'private');
  const allowed = await httpFetchTool({ allowPrivate: true }).execute?.({ url: `${app.url}/api/health` }, { toolCallId: 'x', messages: [], context: {} });
  assert.equal((allowed as { status: number }).status, 200);
  assert.match((allowed as { body: string }).body, /"status":"ok"/);
});
