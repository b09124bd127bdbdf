// Stripe's side of a webhook, for tests: events shaped as Stripe sends them, posted to Opsbase's webhook with a
// Stripe-Signature made by the Stripe SDK's own test helper (so the real verification runs).
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { TestApp } from './harness.ts';

const signer = new Stripe('sk_test_signer_only');

/** A fresh webhook signing secret, as STRIPE_WEBHOOK_SECRET. */
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

export function stripeEvent(type: string, object: Record<string, unknown>, id = `evt_${randomBytes(12).toString('hex')}`) {
  return {
    id,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export interface DeliverOptions {
  secret?: string;
  /** Seconds since the epoch, for the signature's `t=`. */
  timestamp?: number;
  /** The exact Stripe-Signature header (null: none at all). */
  header?: string | null;
  /** Send these bytes instead of the signed payload (tampering). */
  body?: string;
}

/** Posts events as Stripe does: the JSON bytes and a Stripe-Signature under `secret` (unless the options say otherwise). */
export function stripeDeliverer(secret: string) {
  return (target: TestApp, event: object, o: DeliverOptions = {}) => {
    const payload = JSON.stringify(event);
    const header =
      o.header !== undefined ? o.header : signer.webhooks.generateTestHeaderString({ payload, secret: o.secret ?? secret, timestamp: o.timestamp });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (header !== null) headers['stripe-signature'] = header;
    return target.request('POST', '/api/v1/billing/webhook', { raw: o.body ?? payload, headers });
  };
}
