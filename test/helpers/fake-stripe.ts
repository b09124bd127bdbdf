// A local HTTP server that speaks the few Stripe API shapes Opsbase calls (customers, checkout and portal sessions,
// PaymentIntents, payment methods), records every request, and honours Idempotency-Key like Stripe does. Opsbase's
// real Stripe SDK talks to it through OPSBASE_STRIPE_API_BASE; nothing of ours is mocked.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The form body decoded into nested objects (`metadata[org_id]=x` → `{ metadata: { org_id: 'x' } }`). */
  body: Record<string, any>;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
}

export interface FakeStripe {
  /** For OPSBASE_STRIPE_API_BASE. */
  url: string;
  secretKey: string;
  requests: RecordedRequest[];
  /** Recorded requests to paths starting with `prefix` (e.g. `/v1/payment_intents`), POSTs by default. */
  calls: (prefix: string, method?: string) => RecordedRequest[];
  /** Makes a payment method Stripe knows, optionally already attached to a customer. */
  addPaymentMethod: (id: string, opts?: { customer?: string; declines?: boolean }) => void;
  paymentMethodCustomer: (id: string) => string | null | undefined;
  /** Makes the next calls answer 500 (Stripe being down), `n` times. */
  failNext: (n: number) => void;
  close: () => Promise<void>;
}

/** Decodes Stripe's form encoding (`a[b][0][c]=v`) into nested objects and arrays. */
export function decodeForm(text: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.replace(/\]/g, '').split('[');
    let node: any = out;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]);
      if (last) node[part] = value;
      else {
        node[part] ??= nextIsIndex ? [] : {};
        node = node[part];
      }
    });
  }
  return out;
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${Date.now()}` });
  res.end(JSON.stringify(body));
}

const stripeError = (type: string, message: string, extra: Record<string, unknown> = {}) => ({ error: { type, message, ...extra } });

export async function startFakeStripe(secretKey = 'sk_test_opsbase_fake'): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const paymentMethods = new Map<string, { customer: string | null; declines: boolean }>();
  let seq = 0;
  let failures = 0;
  const next = (prefix: string) => `${prefix}_fake${String(++seq).padStart(6, '0')}`;
  const now = () => Math.floor(Date.now() / 1000);

  function route(method: string, path: string, body: Record<string, any>): { status: number; body: unknown } {
    // What an integration's connection test reads.
    if (method === 'GET' && path === '/v1/balance') {
      return { status: 200, body: { object: 'balance', livemode: false, available: [{ amount: 0, currency: 'usd' }], pending: [] } };
    }
    if (method === 'POST' && path === '/v1/customers') {
      return { status: 200, body: { id: next('cus'), object: 'customer', name: body.name ?? null, metadata: body.metadata ?? {}, created: now() } };
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const id = next('cs_test');
      return {
        status: 200,
        body: {
          id,
          object: 'checkout.session',
          mode: body.mode,
          customer: body.customer ?? null,
          client_reference_id: body.client_reference_id ?? null,
          metadata: body.metadata ?? {},
          status: 'open',
          payment_status: 'unpaid',
          subscription: null,
          success_url: body.success_url,
          cancel_url: body.cancel_url ?? null,
          url: `https://checkout.stripe.test/c/pay/${id}`,
        },
      };
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const id = next('bps');
      return {
        status: 200,
        body: {
          id,
          object: 'billing_portal.session',
          customer: body.customer,
          return_url: body.return_url ?? null,
          url: `https://billing.stripe.test/p/session/${id}`,
        },
      };
    }
    if (method === 'POST' && path === '/v1/payment_intents') {
      const id = next('pi');
      const pi = {
        id,
        object: 'payment_intent',
        amount: Number(body.amount),
        amount_received: 0,
        currency: body.currency,
        customer: body.customer ?? null,
        description: body.description ?? null,
        metadata: body.metadata ?? {},
        payment_method: body.payment_method ?? null,
        client_secret: `${id}_secret_fake`,
        status: 'requires_payment_method',
        created: now(),
      };
      if (body.confirm === 'true') {
        const pm = paymentMethods.get(body.payment_method);
        if (!pm)
          return {
            status: 400,
            body: stripeError('invalid_request_error', `No such PaymentMethod: '${body.payment_method}'`, { code: 'resource_missing' }),
          };
        if (pm.declines) {
          return {
            status: 402,
            body: stripeError('card_error', 'Your card has insufficient funds.', {
              code: 'card_declined',
              decline_code: 'insufficient_funds',
              payment_intent: { ...pi, status: 'requires_payment_method' },
            }),
          };
        }
        return { status: 200, body: { ...pi, status: 'succeeded', amount_received: pi.amount } };
      }
      return { status: 200, body: pi };
    }
    const pmMatch = /^\/v1\/payment_methods\/([^/]+)(\/attach)?$/.exec(path);
    if (pmMatch) {
      const id = decodeURIComponent(pmMatch[1]);
      const pm = paymentMethods.get(id);
      if (!pm)
        return {
          status: 404,
          body: stripeError('invalid_request_error', `No such PaymentMethod: '${id}'`, { code: 'resource_missing', param: 'payment_method' }),
        };
      if (method === 'POST' && pmMatch[2]) pm.customer = body.customer;
      else if (method !== 'GET') return { status: 405, body: stripeError('invalid_request_error', 'method') };
      return { status: 200, body: { id, object: 'payment_method', type: 'card', customer: pm.customer, card: { brand: 'visa', last4: '4242' } } };
    }
    return { status: 404, body: stripeError('invalid_request_error', `Unrecognized request URL (${method}: ${path}).`) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const body = decodeForm(method === 'GET' ? url.searchParams.toString() : text);
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    requests.push({ method, path: url.pathname, body, idempotencyKey, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return send(res, 401, stripeError('invalid_request_error', 'Invalid API Key provided.'));
    }
    if (failures > 0) {
      failures--;
      return send(res, 500, stripeError('api_error', 'Something went wrong on Stripe’s end.'));
    }
    // Stripe's idempotency: the same key (per method and path) answers the first response again.
    const memo = idempotencyKey ? `${method} ${url.pathname} ${idempotencyKey}` : undefined;
    const remembered = memo ? idempotent.get(memo) : undefined;
    if (remembered) return send(res, remembered.status, remembered.body);
    const out = route(method, url.pathname, body);
    if (memo) idempotent.set(memo, out);
    send(res, out.status, out.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, stripeError('api_error', String(err))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    requests,
    calls: (prefix, method = 'POST') => requests.filter((r) => r.method === method && r.path.startsWith(prefix)),
    addPaymentMethod: (id, opts = {}) => paymentMethods.set(id, { customer: opts.customer ?? null, declines: opts.declines ?? false }),
    paymentMethodCustomer: (id) => paymentMethods.get(id)?.customer,
    failNext: (n) => {
      failures = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
