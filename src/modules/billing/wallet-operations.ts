import { z } from 'zod';
import { defineOperation } from '../../core/operation.ts';
import { listOf, PageInput } from '../../core/pagination.ts';
import { Timestamp } from '../../core/schemas.ts';
import { CURRENCIES, LEDGER_KINDS } from '../../db/schema/billing.ts';
import * as wallet from './wallet.ts';

/** A positive whole amount of credits or tokens. */
export const Amount = z.number().int('must be a whole number').positive('must be greater than zero').max(1_000_000_000);

const AutoRecharge = z.object({
  enabled: z.boolean(),
  threshold: z.number().int().optional(),
  pack_id: z.string().optional(),
  max_per_month: z.number().int().optional(),
});

export const LedgerEntry = z
  .object({
    id: z.string(),
    currency: z.enum(CURRENCIES),
    type: z.enum(LEDGER_KINDS),
    amount: z.number().int().describe('Effect on the balance'),
    held_delta: z.number().int().describe('Effect on the credits held for running paid actions'),
    balance_after: z.number().int(),
    held_after: z.number().int(),
    reference: z.string().nullable(),
    hold_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: Timestamp,
  })
  .meta({ id: 'LedgerEntry' });

const Applied = LedgerEntry.extend({
  replayed: z.boolean().describe('True when this idempotency key was already applied: nothing moved this time'),
  balance: z.number().int(),
  available: z.number().int(),
});

export const getWallet = defineOperation({
  id: 'wallet.get',
  method: 'GET',
  path: '/wallet',
  summary: 'Credits: balance, available (balance minus holds), holds, funding and auto-recharge',
  scopes: ['billing:read'],
  input: z.object({}),
  output: z.object({
    currency: z.literal('credits'),
    balance: z.number().int(),
    available: z.number().int(),
    holds: z.number().int().describe('Credits reserved by paid actions still running'),
    funding: z.enum(['manual', 'stripe']),
    plan: z.string(),
    auto_recharge: AutoRecharge,
  }),
  cli: { columns: ['balance', 'available', 'holds', 'plan', 'funding'] },
  handler: (ctx) => wallet.wallet(ctx),
});

export const tokenBalance = defineOperation({
  id: 'tokens.balance',
  method: 'GET',
  path: '/tokens/balance',
  summary: 'Token balance',
  scopes: ['billing:read'],
  input: z.object({}),
  output: z.object({
    currency: z.literal('tokens'),
    balance: z.number().int(),
    available: z.number().int(),
    holds: z.number().int(),
    auto_topup: AutoRecharge,
  }),
  cli: { columns: ['balance', 'available', 'holds'] },
  handler: (ctx) => wallet.tokenBalance(ctx),
});

export const transactions = defineOperation({
  id: 'wallet.transactions',
  method: 'GET',
  path: '/wallet/transactions',
  summary: 'Ledger entries of the credits and token wallets, newest first',
  scopes: ['billing:read'],
  input: PageInput.extend({
    currency: z.enum(CURRENCIES).optional().describe('Only this wallet (default: both)'),
    type: z.enum(LEDGER_KINDS).optional().describe('Only entries of this kind'),
    since: z.iso.datetime({ offset: true }).optional().describe('Only entries made at or after this time'),
    until: z.iso.datetime({ offset: true }).optional().describe('Only entries made before this time'),
  }),
  output: listOf(LedgerEntry),
  cli: { columns: ['created_at', 'currency', 'type', 'amount', 'balance_after', 'reference'] },
  handler: (ctx, input) => wallet.transactions(ctx, input),
});

export const consumeTokens = defineOperation({
  id: 'tokens.consume',
  method: 'POST',
  path: '/tokens/consume',
  summary: 'Spend tokens (402 when short; idempotent on reference_id)',
  scopes: ['billing:write'],
  status: 200,
  input: z.object({
    amount: Amount,
    action: z.string().min(1).max(100),
    reference_id: z.string().min(1).max(200).describe('Your id for this spend: a repeat with the same id spends nothing'),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
  output: Applied,
  cli: { columns: ['id', 'amount', 'balance', 'available', 'replayed'] },
  handler: (ctx, input) => wallet.consumeTokens(ctx, input),
});

export const grant = defineOperation({
  id: 'billing.grant',
  method: 'POST',
  path: '/billing/grants',
  summary: 'Grant credits or tokens to an org (instance admins; the manual payment provider)',
  auth: 'user',
  instanceAdmin: true,
  scopes: [],
  input: z.object({
    org: z.string().min(1).max(64).describe('The org id'),
    credits: Amount.optional().describe('Credits to grant'),
    tokens: Amount.optional().describe('Tokens to grant (give credits or tokens, not both)'),
    reason: z.string().max(500).nullish(),
    idempotency_key: z.string().max(200).nullish().describe('A repeat with the same key grants nothing'),
  }),
  output: Applied,
  cli: { columns: ['id', 'currency', 'amount', 'balance', 'replayed'] },
  handler: (ctx, input) => wallet.adminGrant(ctx, input),
});

export const walletOperations = [getWallet, tokenBalance, transactions, consumeTokens, grant];
