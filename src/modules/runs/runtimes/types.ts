// What every runtime (one module each: llm, http, process) gets and gives back. A runtime does the work of one run
// attempt; execute.ts around it claims the task, watches for cancellation and the timeout, and ends the run once.
import type { Logger } from 'pino';
import type { Usage } from '../../../ai/loop.ts';
import type { AppServices } from '../../../core/services.ts';
import type { SystemPrompt } from '../../agents/prompt.ts';
import type { AgentRow } from '../../agents/service.ts';
import type { TaskRow } from '../../tasks/service.ts';
import type { NewRunEvent, RunProgress } from '../events.ts';
import type { RunRow } from '../service.ts';

export interface RuntimeContext {
  services: AppServices;
  run: RunRow;
  task: TaskRow;
  agent: AgentRow;
  /** An llm run's system prompt, already being read while the run started (execute.ts). */
  systemPrompt?: Promise<SystemPrompt>;
  /** Aborted on cancel, timeout or worker shutdown: stop then. */
  signal: AbortSignal;
  /** The run's time limit from now (ms): the runtime should finish (or give up) within it. */
  timeoutMs: number;
  log: Logger;
  /** Appends events to the run (stored in order, streamed live). */
  emit: (...events: NewRunEvent[]) => Promise<void>;
  /** The same, with the run's counters after a model call (budgets read them while the run goes on). */
  emitProgress: (progress: RunProgress, ...events: NewRunEvent[]) => Promise<void>;
}

export interface RuntimeResult {
  result: string;
  usage?: Usage;
  steps?: number;
  /** Rule ids the run was given (llm). */
  ruleIds?: string[];
  model?: string | null;
  /**
   * Events left for the run's end to write with its outcome, in the same statement as its last events: the final
   * model message and its usage (an llm run's last step, which no further step or budget check reads before the end).
   */
  events?: NewRunEvent[];
}

/** A run that ends without a result: `reason` is the run's reason (`budget`, `provider_error`, `agent_error`, …). */
export class RunFailure extends Error {
  readonly reason: string;
  readonly usage?: Usage;
  readonly steps?: number;
  readonly status: 'failed' | 'timed_out' | 'cancelled';
  readonly ruleIds?: string[];
  /** As RuntimeResult's: events the run's end writes. */
  readonly events?: NewRunEvent[];
  constructor(
    reason: string,
    message: string,
    opts: { usage?: Usage; steps?: number; status?: 'failed' | 'timed_out' | 'cancelled'; ruleIds?: string[]; events?: NewRunEvent[] } = {},
  ) {
    super(message);
    this.reason = reason;
    this.usage = opts.usage;
    this.steps = opts.steps;
    this.status = opts.status ?? 'failed';
    this.ruleIds = opts.ruleIds;
    this.events = opts.events;
  }
}

export type Runtime = (rt: RuntimeContext) => Promise<RuntimeResult>;
