// A model vendor on loopback speaking the OpenAI chat-completions protocol (what OpenAI, Ollama, vLLM and
// llama.cpp serve), streaming and not: each request takes the next scripted reply. It stands in for what lives
// outside Opsbase; everything of ours runs for real against it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export type Reply =
  | { kind: 'text'; text: string; usage: FakeUsage }
  | { kind: 'tool'; name: string; args: Record<string, unknown>; usage: FakeUsage; id?: string }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'garbage' }
  | { kind: 'hang' };

export interface FakeOpenAI {
  url: string;
  /** Request bodies received, in order. */
  requests: Record<string, any>[];
  /** Authorization headers received, in order. */
  authorizations: (string | undefined)[];
  script: (...replies: Reply[]) => void;
  /** Drops unused replies and the recorded requests. */
  reset: () => void;
  close: () => Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => resolve(data));
  });
}

const usageOf = (u: FakeUsage) => ({ ...u, total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens });

function message(reply: Extract<Reply, { kind: 'text' | 'tool' }>) {
  if (reply.kind === 'text') return { role: 'assistant', content: reply.text };
  return {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: reply.id ?? 'call_1', type: 'function', function: { name: reply.name, arguments: JSON.stringify(reply.args) } }],
  };
}

function sendJson(res: ServerResponse, reply: Extract<Reply, { kind: 'text' | 'tool' }>, model: string) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: message(reply), finish_reason: reply.kind === 'tool' ? 'tool_calls' : 'stop' }],
      usage: usageOf(reply.usage),
    }),
  );
}

function sendStream(res: ServerResponse, reply: Extract<Reply, { kind: 'text' | 'tool' }>, model: string, withUsage: boolean) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: object, finish: string | null, usage?: object) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }, null));
  if (reply.kind === 'text') {
    for (const piece of reply.text.match(/.{1,5}/gs) ?? []) res.write(chunk({ content: piece }, null));
    res.write(chunk({}, 'stop'));
  } else {
    const args = JSON.stringify(reply.args);
    res.write(chunk({ tool_calls: [{ index: 0, id: reply.id ?? 'call_1', type: 'function', function: { name: reply.name, arguments: '' } }] }, null));
    for (const piece of args.match(/.{1,7}/gs) ?? []) res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
    res.write(chunk({}, 'tool_calls'));
  }
  if (withUsage) res.write(chunk({}, null, usageOf(reply.usage)));
  res.end('data: [DONE]\n\n');
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const queue: Reply[] = [];
  const requests: Record<string, any>[] = [];
  const authorizations: (string | undefined)[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(text);
    requests.push(body);
    authorizations.push(req.headers.authorization);
    const reply = queue.shift() ?? { kind: 'status', status: 500, body: '{"error":{"message":"no scripted reply"}}' };
    switch (reply.kind) {
      case 'status':
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(reply.body ?? JSON.stringify({ error: { message: `fake error ${reply.status}`, type: 'server_error' } }));
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"this is": not json at all');
        return;
      case 'hang':
        hanging.add(res);
        return;
      default:
        if (body.stream) sendStream(res, reply, body.model, body.stream_options?.include_usage === true);
        else sendJson(res, reply, body.model);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    authorizations,
    script: (...replies) => queue.push(...replies),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      authorizations.length = 0;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
