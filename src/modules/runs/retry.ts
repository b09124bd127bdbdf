// What a failed run does to its task's next try. Without this a failing task went back to `todo` and the agent's next
// heartbeat picked it again — every wake one more failed run, its tokens spent, for as long as the cause lasted.
// Now each failure in a row (`tasks.run_failures`) makes heartbeats leave the task alone for twice as long as the
// last (`tasks.retry_after`: 5, 10, 20, 40 min), and the fifth moves it to `blocked` with the error in a comment, for a
// person to look at: a passing outage (a provider down for a while) is retried for over an hour, a task that cannot
// succeed stops costing anything after five runs. A run started by hand (`tasks.run`) ignores the wait; it may also
// run a task its failures blocked, which is how a person retries it after fixing the cause.
import type { TaskStatus } from '../../db/schema/tasks.ts';

/** The wait after the first failure; each further failure in a row doubles it. */
export const RETRY_BASE_SECONDS = 300;
/** Failures in a row after which the task is blocked rather than retried. */
export const BLOCK_AFTER_FAILURES = 5;

/** Failures that are not the task's: its agent's budget ran out (the agent is paused for that instead). */
const NOT_THE_TASKS = new Set(['budget']);

export const countsAgainstTask = (status: string, reason: string) => (status === 'failed' || status === 'timed_out') && !NOT_THE_TASKS.has(reason);

export interface AfterFailure {
  status: Extract<TaskStatus, 'todo' | 'blocked'>;
  runFailures: number;
  /** Seconds heartbeats wait before trying it again (null once blocked: it waits for a person). */
  retryInSeconds: number | null;
}

/** Where the task goes after its `failuresBefore + 1`-th failure in a row. */
export function afterFailure(failuresBefore: number): AfterFailure {
  const runFailures = failuresBefore + 1;
  if (runFailures >= BLOCK_AFTER_FAILURES) return { status: 'blocked', runFailures, retryInSeconds: null };
  return { status: 'todo', runFailures, retryInSeconds: RETRY_BASE_SECONDS * 2 ** (runFailures - 1) };
}

/** A task its failures blocked (not one a person marked blocked): a run by hand may still take it. */
export const blockedByFailures = (t: { status: TaskStatus; runFailures: number }) => t.status === 'blocked' && t.runFailures >= BLOCK_AFTER_FAILURES;
