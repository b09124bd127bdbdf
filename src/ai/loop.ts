// The tool-calling model loop every llm run (and later pilots) uses: model → tool calls → tool results → model …,
// bounded by steps, output tokens, a timeout and the caller's AbortSignal. Every model message, tool call, tool
// result and step usage goes to `onEvent` as it happens (runs store them as run events); `beforeNextStep` sees the
// exact usage so far after every model call that wants another step and may stop the loop (the budget re-check,
// DESIGN §9). Usage is what the provider reported, summed, never estimated.
import { generateText, type LanguageModelUsage, type StepResult, stepCountIs, streamText, type Tool, type ToolSet } from 'ai';
import type { LanguageModelV4 } from '@ai-sdk/provider';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export type LoopEvent =
  | { type: 'message'; step: number; text: string; finish_reason: string }
  | { type: 'tool_call'; step: number; tool_call_id: string; tool: string; args: unknown }
  | { type: 'tool_result'; step: number; tool_call_id: string; tool: string; result: unknown; is_error: boolean }
  | { type: 'usage'; step: number; usage: Usage; total: Usage };

/** `true` (or nothing) lets the loop go on; `false` or a reason string stops it before the next model call. */
export type BeforeNextStep = (usageSoFar: Usage, stepsDone: number) => boolean | string | undefined | Promise<boolean | string | undefined>;

export interface LoopOptions {
  model: LanguageModelV4;
  system: string;
  prompt: string;
  tools?: ToolSet;
  /** Model calls at most (default 10). */
  maxSteps?: number;
  /** Output tokens per model call. */
  maxOutputTokens?: number;
  temperature?: number;
  /** The whole loop, tool calls included (default 5 minutes). */
  timeoutMs?: number;
  /** Cancels the loop (a run cancelled by a user, a worker shutting down). */
  signal?: AbortSignal;
  /** Stream model output (same result; providers that only stream, or live output later). */
  stream?: boolean;
  /** Retries of a failed model call (5xx, network), with the SDK's backoff. Default 2. */
  maxRetries?: number;
  onEvent?: (event: LoopEvent) => void | Promise<void>;
  beforeNextStep?: BeforeNextStep;
}

export type StopReason = 'completed' | 'max_steps' | 'stopped' | 'length' | 'content_filter' | 'other';

export interface LoopResult {
  text: string;
  steps: number;
  usage: Usage;
  stop_reason: StopReason;
  /** Why `beforeNextStep` stopped the loop, when it did. */
  stopped_by: string | null;
}

export type LoopErrorCode = 'timeout' | 'aborted' | 'provider_error' | 'invalid_response';

/** A loop that could not finish: `code` says why, `usage` what was spent before it failed. */
export class LoopError extends Error {
  readonly code: LoopErrorCode;
  readonly usage: Usage;
  readonly steps: number;
  readonly status?: number;
  constructor(code: LoopErrorCode, message: string, usage: Usage, steps: number, status?: number) {
    super(message);
    this.name = 'LoopError';
    this.code = code;
    this.usage = usage;
    this.steps = steps;
    this.status = status;
  }
}

const ZERO: Usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };

export function toUsage(u: LanguageModelUsage | undefined): Usage {
  const input = u?.inputTokens ?? 0;
  const output = u?.outputTokens ?? 0;
  return { input_tokens: input, output_tokens: output, total_tokens: u?.totalTokens ?? input + output };
}

export const addUsage = (a: Usage, b: Usage): Usage => ({
  input_tokens: a.input_tokens + b.input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  total_tokens: a.total_tokens + b.total_tokens,
});

/** Wraps every tool so its call and its result are events, in order, with the step they belong to. */
function observed(tools: ToolSet, emit: (e: LoopEvent) => Promise<void>, step: () => number): ToolSet {
  const out: ToolSet = {};
  for (const [name, t] of Object.entries(tools)) {
    const execute = t.execute;
    if (!execute) {
      out[name] = t;
      continue;
    }
    out[name] = {
      ...t,
      execute: async (args: unknown, options: Parameters<NonNullable<Tool['execute']>>[1]) => {
        const at = step();
        await emit({ type: 'tool_call', step: at, tool_call_id: options.toolCallId, tool: name, args });
        let result: unknown;
        try {
          result = await execute(args, options);
        } catch (err) {
          // A tool that throws is a result the model can read, not the end of the run.
          result = { error: 'tool_failed', message: (err as Error)?.message ?? String(err) };
        }
        const isError = typeof result === 'object' && result !== null && 'error' in result;
        await emit({ type: 'tool_result', step: at, tool_call_id: options.toolCallId, tool: name, result, is_error: isError });
        return result;
      },
    } as Tool;
  }
  return out;
}

function stopReasonOf(finish: string): StopReason {
  if (finish === 'stop') return 'completed';
  if (finish === 'length') return 'length';
  if (finish === 'content-filter') return 'content_filter';
  if (finish === 'tool-calls') return 'max_steps';
  return 'other';
}

function describe(err: unknown): { code: LoopErrorCode; message: string; status?: number } {
  const e = err as { name?: string; message?: string; statusCode?: number; lastError?: unknown; cause?: unknown };
  if (e?.name === 'AI_RetryError' && e.lastError) return describe(e.lastError);
  if (e?.name === 'AI_APICallError') {
    const status = e.statusCode;
    return {
      code: 'provider_error',
      status,
      message: `The model provider answered ${status ?? 'with an error'}${e.message ? `: ${e.message.slice(0, 300)}` : ''}`,
    };
  }
  if (e?.name === 'AI_JSONParseError' || e?.name === 'AI_TypeValidationError' || e?.name === 'AI_InvalidResponseDataError' || e?.name === 'AI_NoContentGeneratedError') {
    return { code: 'invalid_response', message: `The model provider sent a response that is not a valid completion: ${(e.message ?? '').slice(0, 300)}` };
  }
  return { code: 'provider_error', message: `The model call failed: ${(e?.message ?? String(err)).slice(0, 300)}` };
}

export async function runModelLoop(opts: LoopOptions): Promise<LoopResult> {
  const maxSteps = opts.maxSteps ?? 10;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 5 * 60_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let total = ZERO;
  let steps = 0;
  let stoppedBy: string | null = null;
  // Events are delivered one at a time, in order, even when the callback is async.
  let chain = Promise.resolve();
  const emit = (e: LoopEvent) => {
    chain = chain.then(() => opts.onEvent?.(e));
    return chain;
  };

  const onStepFinish = async (step: StepResult<ToolSet>) => {
    const u = toUsage(step.usage);
    total = addUsage(total, u);
    const at = steps++;
    if (step.text) await emit({ type: 'message', step: at, text: step.text, finish_reason: step.finishReason });
    await emit({ type: 'usage', step: at, usage: u, total });
  };
  const budgetCheck = async () => {
    if (!opts.beforeNextStep) return false;
    await chain;
    const verdict = await opts.beforeNextStep(total, steps);
    if (verdict === false || typeof verdict === 'string') {
      stoppedBy = typeof verdict === 'string' ? verdict : 'stopped by beforeNextStep';
      return true;
    }
    return false;
  };

  const common = {
    model: opts.model,
    system: opts.system,
    prompt: opts.prompt,
    tools: opts.tools ? observed(opts.tools, emit, () => steps) : undefined,
    stopWhen: [stepCountIs(maxSteps), budgetCheck],
    maxOutputTokens: opts.maxOutputTokens,
    temperature: opts.temperature,
    maxRetries: opts.maxRetries ?? 2,
    abortSignal: signal,
    onStepFinish,
  };

  let text: string;
  let finish: string;
  try {
    if (opts.stream) {
      let failure: unknown;
      const result = streamText({
        ...common,
        onError: ({ error }) => {
          failure ??= error;
        },
      });
      // Drain the stream: errors arrive as parts, not as a rejection.
      for await (const part of result.fullStream) {
        if (part.type === 'error') failure ??= part.error;
      }
      if (failure) throw failure;
      text = await result.text;
      finish = await result.finishReason;
    } else {
      const result = await generateText(common);
      text = result.text;
      finish = result.finishReason;
    }
    await chain;
  } catch (err) {
    await chain.catch(() => {});
    if (timeout.aborted) throw new LoopError('timeout', `The model loop ran past its timeout of ${opts.timeoutMs ?? 300_000} ms.`, total, steps);
    if (signal.aborted) throw new LoopError('aborted', 'The model loop was cancelled.', total, steps);
    const d = describe(err);
    throw new LoopError(d.code, d.message, total, steps, d.status);
  }
  const stop_reason: StopReason = stoppedBy ? 'stopped' : stopReasonOf(finish);
  return { text, steps, usage: total, stop_reason, stopped_by: stoppedBy };
}
