// The `api_calls` quota, enforced (docs/plans-and-quotas.md): an org past its tier's monthly API calls is refused
// with 402 `quota_exceeded` until the month resets. Checked without a query per request: the request log's
// flush (once a second) returns each org's global total for the month from the same statement that counts it,
// and this instance adds what it served since. Across instances an org can overshoot by about one flush
// interval of traffic, the same trade as the rate limits.
import type { Pool } from 'pg';
import { AppError } from '../core/errors.ts';
import { monthOf } from '../modules/quota/period.ts';

/** Reachable over quota, so an org can see its usage and pay or change plan: the billing and quota operations. */
const EXEMPT_DOMAINS = new Set(['billing', 'quota', 'auth', 'users', 'health']);
export const exemptFromApiQuota = (operationId: string) => EXEMPT_DOMAINS.has(operationId.split('.')[0]) || operationId === 'whoami';

interface OrgCount {
  period: string;
  /** The global total as of the last flush that included this org (or the first look-up). */
  flushed: number;
  /** Requests this instance served since then. */
  local: number;
}

export class ApiQuota {
  private counts = new Map<string, OrgCount>();
  private loading = new Set<string>();
  private pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  /** Refuses the request when the org is at or past `limit` (-1: unlimited) this month; otherwise counts it. */
  check(orgId: string, limit: number, plan: string): void {
    const period = monthOf();
    let c = this.counts.get(orgId);
    if (!c || c.period !== period.start) {
      c = { period: period.start, flushed: 0, local: 0 };
      this.counts.set(orgId, c);
      // First sight this month: read the org's total in the background (the flush keeps it fresh afterwards).
      void this.load(orgId, period.start);
    }
    if (limit >= 0 && c.flushed + c.local >= limit) {
      throw new AppError(
        'quota_exceeded',
        `This org has used its ${limit.toLocaleString('en-US')} API calls for this month (plan \`${plan}\`). The quota resets at ` +
          `${period.resetAt.toISOString()}; change plan with \`opsbase billing change-plan\` or \`opsbase billing checkout\`.`,
        { resource: 'api_calls', used: c.flushed + c.local, limit, plan, reset_at: period.resetAt.toISOString() },
      );
    }
    c.local++;
  }

  /** Totals written by a request-log flush: `served` is how many of the org's requests that flush carried. */
  flushed(totals: { orgId: string; period: string; used: number; served: number }[]): void {
    for (const t of totals) {
      const c = this.counts.get(t.orgId);
      if (!c || c.period !== t.period) continue;
      c.flushed = t.used;
      c.local = Math.max(0, c.local - t.served);
    }
  }

  private async load(orgId: string, period: string): Promise<void> {
    if (this.loading.has(orgId)) return;
    this.loading.add(orgId);
    try {
      const { rows } = await this.pool.query(
        `select used from quota_usage where org_id = $1 and resource = 'api_calls' and product_id = '' and period_start = $2`,
        [orgId, period],
      );
      const c = this.counts.get(orgId);
      if (c && c.period === period) c.flushed = Math.max(c.flushed, Number(rows[0]?.used ?? 0));
    } catch {
      // Unknown until the next flush brings the total: the request path never waits for this.
    } finally {
      this.loading.delete(orgId);
    }
  }
}
