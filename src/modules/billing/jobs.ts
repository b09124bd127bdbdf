// Billing's background work: three periodic sweeps, each a singleton system job (whichever worker takes it, never
// two at once). The sweeps themselves live beside the code they sweep.
import { defineJob } from '../../jobs/define.ts';
import { scanAutoTopups } from './auto-topup.ts';
import { expireHolds } from './holds.ts';
import { grantDueMonthlyCredits } from './monthly-credits.ts';

/** Holds whose paid action never settled (the process died) go back to the wallet (DESIGN §6). */
export const expireHoldsJob = defineJob({
  type: 'billing.expire_holds',
  schedule: '* * * * *',
  timeout: 120,
  max_attempts: 3,
  backoff: 5,
  handler: async ({ services, log }) => {
    const expired = await expireHolds(services.database.db);
    if (expired) log.info({ expired }, 'expired holds released');
    return { expired };
  },
});

/** Auto top-up: balances below their threshold are charged off-session (the credit lands with Stripe's webhook). */
export const autoTopupJob = defineJob({
  type: 'billing.auto_topup',
  schedule: '* * * * *',
  timeout: 300,
  max_attempts: 3,
  backoff: 5,
  handler: async ({ services, log }) => {
    const result = await scanAutoTopups(services);
    if (result.checked) log.info(result, 'auto top-up scan');
    return result;
  },
});

/**
 * Each tier's credits_per_month, once per org and UTC month (new orgs get theirs at creation; hourly catches the new
 * month and orgs that just moved to a granting tier).
 */
export const monthlyCreditsJob = defineJob({
  type: 'billing.monthly_credits',
  schedule: '7 * * * *',
  timeout: 600,
  max_attempts: 3,
  backoff: 30,
  handler: async ({ services, log }) => {
    const result = await grantDueMonthlyCredits(services);
    if (result.granted) log.info(result, 'monthly credits granted');
    return result;
  },
});

export const billingJobs = [expireHoldsJob, autoTopupJob, monthlyCreditsJob];
