// Quota periods are UTC months: usage counts from the first day of the month and resets at the next one.

export interface Period {
  /** `YYYY-MM-01`, the key of `quota_usage.period_start`. */
  start: string;
  startAt: Date;
  /** The start of the next UTC month: when the counters reset. */
  resetAt: Date;
}

export function monthOf(at: Date = new Date()): Period {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const startAt = new Date(Date.UTC(y, m, 1));
  return { start: startAt.toISOString().slice(0, 10), startAt, resetAt: new Date(Date.UTC(y, m + 1, 1)) };
}
