// The offline model (DESIGN §1, §9): a real AI SDK language model that needs no network and no key, the default, so
// every flow (runs, tools, budgets) works on a laptop and in CI. It is deterministic — the same prompt always gives
// the same output and the same usage — and useful: it turns the task's text into a structured summary and plan.
// When tools are offered and none has been called yet, it calls one with arguments derived from the input, then
// answers using the tool's result, so the tool-calling loop is exercised for real.
import type {
  JSONSchema7,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FunctionTool,
  LanguageModelV4GenerateResult,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';

export const OFFLINE_MODEL_ID = 'opsbase-offline-1';

/** Deterministic token count: one token per word or punctuation mark (roughly what BPE tokenizers give for prose). */
export function countTokens(text: string): number {
  return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)?.length ?? 0;
}

function partText(part: unknown): string {
  const p = part as { type: string; text?: string; input?: unknown; output?: unknown; toolName?: string };
  if (p.type === 'text' || p.type === 'reasoning') return p.text ?? '';
  if (p.type === 'tool-call') return `${p.toolName} ${JSON.stringify(p.input ?? null)}`;
  if (p.type === 'tool-result') return `${p.toolName} ${JSON.stringify(p.output ?? null)}`;
  return '';
}

export function promptText(prompt: LanguageModelV4Prompt): string {
  return prompt.map((m) => (typeof m.content === 'string' ? m.content : m.content.map(partText).join('\n'))).join('\n');
}

interface ToolOutcome {
  toolName: string;
  value: unknown;
}

/** The last user message, and the tool results that came after it (this run's tool round trips). */
function conversation(prompt: LanguageModelV4Prompt): { user: string; results: ToolOutcome[] } {
  let lastUser = -1;
  for (let i = prompt.length - 1; i >= 0; i--) {
    if (prompt[i].role === 'user') {
      lastUser = i;
      break;
    }
  }
  const userMsg = prompt[lastUser];
  const user = userMsg && typeof userMsg.content !== 'string' ? userMsg.content.map(partText).join('\n') : '';
  const results: ToolOutcome[] = [];
  for (const m of prompt.slice(lastUser + 1)) {
    if (m.role !== 'tool') continue;
    for (const part of m.content) {
      if (part.type !== 'tool-result') continue;
      const out = part.output as { type: string; value?: unknown };
      results.push({ toolName: part.toolName, value: out.value ?? out });
    }
  }
  return { user, results };
}

const sentences = (text: string) =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.replace(/^[-*•\d.)\s]+/, '').trim())
    .filter(Boolean);

/** A value for one JSON-schema property, derived from the input text (the model's "reading" of the task). */
function valueFor(schema: JSONSchema7, name: string, text: string): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default: {
      const first = sentences(text)[0] ?? name;
      const max = typeof schema.maxLength === 'number' ? schema.maxLength : 200;
      return (schema.format === 'uri' ? 'https://example.com/' : first).slice(0, Math.max(1, max));
    }
  }
}

/** Arguments for `tool`: every required property filled from the input text. */
export function argumentsFor(tool: LanguageModelV4FunctionTool, text: string): Record<string, unknown> {
  const schema = tool.inputSchema as JSONSchema7;
  const props = (schema.properties ?? {}) as Record<string, JSONSchema7>;
  const args: Record<string, unknown> = {};
  for (const name of schema.required ?? []) args[name] = valueFor(props[name] ?? {}, name, text);
  return args;
}

function summarise(value: unknown): string {
  const json = JSON.stringify(value);
  return json.length > 300 ? `${json.slice(0, 300)}…` : json;
}

/** The answer: a summary of the task, a numbered plan from its sentences, and what the tools returned. */
export function answerFor(user: string, results: ToolOutcome[]): string {
  const parts = sentences(user);
  const title = parts[0] ?? 'the task';
  const steps = parts.length > 1 ? parts.slice(1) : [`Work out what "${title}" requires`, 'Do it', 'Check the result'];
  const lines = [`Summary: ${title}`, '', 'Plan:', ...steps.slice(0, 8).map((s, i) => `${i + 1}. ${s}`)];
  if (results.length) {
    lines.push('', 'Tool results:', ...results.map((r) => `- ${r.toolName}: ${summarise(r.value)}`));
  }
  lines.push('', `Outcome: planned ${Math.min(steps.length, 8)} step(s) for "${title}".`);
  return lines.join('\n');
}

function usage(input: number, output: number): LanguageModelV4Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}

/** One deterministic model turn. */
export function offlineTurn(options: LanguageModelV4CallOptions): LanguageModelV4GenerateResult {
  const inputTokens = countTokens(promptText(options.prompt));
  const { user, results } = conversation(options.prompt);
  const tools = (options.tools ?? []).filter((t): t is LanguageModelV4FunctionTool => t.type === 'function');
  const mayCall = options.toolChoice?.type !== 'none';
  // The first tool by name: which one is picked must not depend on the order the caller listed them in.
  const tool = [...tools].sort((a, b) => a.name.localeCompare(b.name))[0];
  if (tool && mayCall && results.length === 0) {
    const input = JSON.stringify(argumentsFor(tool, user));
    const content: LanguageModelV4Content[] = [{ type: 'tool-call', toolCallId: `call_offline_${inputTokens}`, toolName: tool.name, input }];
    return {
      content,
      finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
      usage: usage(inputTokens, countTokens(`${tool.name} ${input}`)),
      warnings: [],
    };
  }
  let text = answerFor(user, results);
  let finish: LanguageModelV4GenerateResult['finishReason'] = { unified: 'stop', raw: 'stop' };
  const max = options.maxOutputTokens;
  if (max !== undefined && countTokens(text) > max) {
    // Honour the output cap like a real model: cut at a token boundary and say so in the finish reason.
    const tokens = text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]|\s+/gu) ?? [];
    let kept = 0;
    let out = '';
    for (const t of tokens) {
      if (!/^\s+$/.test(t) && ++kept > max) break;
      out += t;
    }
    text = out.trimEnd();
    finish = { unified: 'length', raw: 'length' };
  }
  return { content: [{ type: 'text', text }], finishReason: finish, usage: usage(inputTokens, countTokens(text)), warnings: [] };
}

function toStream(result: LanguageModelV4GenerateResult): ReadableStream<LanguageModelV4StreamPart> {
  const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  for (const c of result.content) {
    if (c.type === 'text') {
      parts.push({ type: 'text-start', id: 't0' });
      // Word by word, as a streaming model would send it.
      for (const piece of c.text.match(/\S+\s*|\s+/g) ?? []) parts.push({ type: 'text-delta', id: 't0', delta: piece });
      parts.push({ type: 'text-end', id: 't0' });
    } else if (c.type === 'tool-call') {
      parts.push(c);
    }
  }
  parts.push({ type: 'finish', usage: result.usage, finishReason: result.finishReason });
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(p);
      controller.close();
    },
  });
}

export class OfflineModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4' as const;
  readonly provider = 'offline';
  readonly modelId: string;
  readonly supportedUrls = {};

  constructor(modelId = OFFLINE_MODEL_ID) {
    this.modelId = modelId;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    options.abortSignal?.throwIfAborted();
    return offlineTurn(options);
  }

  async doStream(options: LanguageModelV4CallOptions) {
    options.abortSignal?.throwIfAborted();
    return { stream: toStream(offlineTurn(options)) };
  }
}
