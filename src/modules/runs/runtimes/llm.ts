// The `llm` runtime: the agent's model in the tool-calling loop (src/ai/loop.ts), its tools acting as the agent.
// Every model message, tool call, tool result and usage becomes a run event as it happens; the run's token counts
// are kept current after each model call, so budgets (which read them) see this run's spend while it runs.
import { LoopError, type LoopEvent, runModelLoop, type Usage } from '../../../ai/loop.ts';
import { AiConfigError } from '../../../ai/provider.ts';
import { llmRunSetup } from '../../agents/llm-run.ts';
import { budgetVerdict } from '../budget.ts';
import { internalServer } from '../internal-server.ts';
import type { NewRunEvent } from '../events.ts';
import { RunFailure, type Runtime } from './types.ts';

function toRunEvent(e: LoopEvent): NewRunEvent {
  const { type, ...data } = e;
  return { type, data };
}

export function taskPrompt(task: { number: number; title: string; description: string | null }): string {
  return `Task #${task.number}: ${task.title}${task.description?.trim() ? `\n\n${task.description.trim()}` : ''}`;
}

/** A model call's events that end the loop: its message says it stopped for a reason other than calling tools. */
const endsTheLoop = (events: NewRunEvent[]) => events.some((e) => e.type === 'message' && e.data.finish_reason !== 'tool-calls');

export const llmRuntime: Runtime = async ({ services, run, task, agent, systemPrompt, signal, timeoutMs, emit, emitProgress }) => {
  const db = services.database.db;
  let setup: Awaited<ReturnType<typeof llmRunSetup>>;
  try {
    setup = await llmRunSetup(services, await internalServer(services), agent, systemPrompt);
  } catch (err) {
    if (err instanceof AiConfigError) throw new RunFailure('configuration', err.message);
    throw err;
  }
  let lastStep: Usage | null = null;
  // A model message is written with the usage of its call (one statement per model call); tool calls and results
  // are written as they happen. The last call's message and usage (it asked for no tool: no step and no budget check
  // follows) are left to the run's end, which writes them with the result in its own statement: one write fewer on
  // every run's way to its end. The run's token counts then come with its outcome.
  let pending: NewRunEvent[] = [];
  let final: NewRunEvent[] = [];
  try {
    const out = await runModelLoop({
      ...setup.limits,
      timeoutMs: Math.min(setup.limits.timeoutMs, timeoutMs),
      model: setup.model,
      system: setup.system.prompt,
      tools: setup.tools,
      prompt: taskPrompt(task),
      signal,
      onEvent: async (e) => {
        if (e.type === 'message') {
          pending.push(toRunEvent(e));
        } else if (e.type === 'usage') {
          lastStep = e.usage;
          const events = [...pending, toRunEvent(e)];
          pending = [];
          if (endsTheLoop(events)) {
            final = events;
            return;
          }
          // On top of what earlier attempts (lost with their worker) recorded: execute.ts adds them to the outcome too.
          await emitProgress(
            { tokensIn: run.tokensIn + e.total.input_tokens, tokensOut: run.tokensOut + e.total.output_tokens, steps: run.steps + e.step + 1 },
            ...events,
          );
        } else {
          await emit(toRunEvent(e));
        }
      },
      // The budget re-check after every model call that wants another (DESIGN §9).
      beforeNextStep: async () => (await budgetVerdict(db, agent, lastStep)) ?? true,
    });
    if (out.stop_reason === 'stopped') {
      throw new RunFailure('budget', `Stopped before the next model call: ${out.stopped_by}.`, {
        usage: out.usage,
        steps: out.steps,
        ruleIds: setup.system.rule_ids,
        events: final,
      });
    }
    return { result: out.text, usage: out.usage, steps: out.steps, ruleIds: setup.system.rule_ids, model: setup.model.modelId, events: final };
  } catch (err) {
    if (!(err instanceof LoopError)) throw err;
    const opts = { usage: err.usage, steps: err.steps, ruleIds: setup.system.rule_ids, events: final };
    if (err.code === 'timeout') throw new RunFailure('timeout', err.message, { ...opts, status: 'timed_out' });
    if (err.code === 'aborted') throw new RunFailure('aborted', err.message, opts);
    throw new RunFailure(err.code, err.message, opts);
  }
};
