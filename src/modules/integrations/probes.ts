// Connection tests: each one really calls the service with the configured credentials and reads one cheap,
// side-effect-free endpoint (Slack's incoming webhook, which has none, posts one short message). Every URL passes the
// private-network guard first; redirects are not followed (a test that lands elsewhere failed).
import { AwsClient } from 'aws4fetch';
import { createTransport } from 'nodemailer';
import { guardedFetch } from '../../core/guarded-fetch.ts';
import { checkOutboundUrl } from '../../core/net-guard.ts';

/** One test never takes longer than this: it runs while the person who clicked "Test connection" waits. */
export const PROBE_TIMEOUT_MS = 10_000;

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export type ProbeConfig = Record<string, string | number | boolean | undefined>;

/** A probe's request: sent through guardedFetch (the address checked is the one connected to), redirects not followed. */
interface ProbeInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

interface ProbeEnv {
  allowPrivate: boolean;
}

class ProbeFailure extends Error {}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
const join = (base: unknown, path: string) => `${str(base).replace(/\/+$/, '')}${path}`;

/** Why a vendor refused, from the common error shapes (`{error:{message}}`, `{error:"…"}`, `{message}`). */
function reason(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const e = b.error;
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
    if (typeof e === 'string') return e;
    if (typeof b.message === 'string') return b.message;
  }
  return '';
}

async function call(env: ProbeEnv, url: string, init: ProbeInit): Promise<{ status: number; body: unknown }> {
  const check = await checkOutboundUrl(url, { allowPrivate: env.allowPrivate });
  if (!check.ok) throw new ProbeFailure(check.message);
  let res: Response;
  try {
    res = await guardedFetch(check.url, { ...init, allowPrivate: env.allowPrivate, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new ProbeFailure(`No answer from ${check.url.host} within ${PROBE_TIMEOUT_MS / 1000} s.`);
    throw new ProbeFailure(`Could not reach ${check.url.host}: ${e.cause?.code ?? e.cause?.message ?? e.message}.`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body };
}

/** A 2xx is success; anything else fails with the status and the vendor's reason. */
async function expectOk(env: ProbeEnv, what: string, url: string, init: ProbeInit): Promise<unknown> {
  const res = await call(env, url, init);
  if (res.status >= 200 && res.status < 300) return res.body;
  const why = reason(res.body) || (typeof res.body === 'string' ? res.body.slice(0, 200) : '');
  throw new ProbeFailure(`${what} answered ${res.status}${why ? `: ${why}` : ''}`);
}

const bearer = (token: unknown) => ({ authorization: `Bearer ${str(token)}` });

const PROBES: Record<string, (c: ProbeConfig, env: ProbeEnv) => Promise<string>> = {
  async smtp(c, env) {
    const host = str(c.host);
    const check = await checkOutboundUrl(`http://${host.includes(':') ? `[${host}]` : host}:${c.port}`, { allowPrivate: env.allowPrivate });
    if (!check.ok) throw new ProbeFailure(check.message);
    const transport = createTransport({
      host,
      port: Number(c.port),
      secure: Boolean(c.secure),
      auth: c.username ? { user: str(c.username), pass: str(c.password) } : undefined,
      connectionTimeout: PROBE_TIMEOUT_MS,
      greetingTimeout: PROBE_TIMEOUT_MS,
      socketTimeout: PROBE_TIMEOUT_MS,
    });
    try {
      await transport.verify();
    } catch (err) {
      throw new ProbeFailure(`The SMTP server ${host}:${c.port} refused: ${(err as Error).message}`);
    } finally {
      transport.close();
    }
    return `Connected to ${host}:${c.port} and greeted it${c.username ? ' (login accepted)' : ''}.`;
  },

  async slack(c, env) {
    if (c.bot_token) {
      const body = (await expectOk(env, 'Slack', join(c.api_base_url, '/auth.test'), { method: 'POST', headers: bearer(c.bot_token) })) as Record<
        string,
        unknown
      >;
      // Slack answers 200 with `ok: false` for a bad token.
      if (body?.ok !== true) throw new ProbeFailure(`Slack refused the bot token: ${str(body?.error) || 'not ok'}`);
      return `Bot token works (team ${str(body.team) || 'unknown'}).`;
    }
    await expectOk(env, 'The Slack webhook', str(c.webhook_url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Opsbase connection test: this channel will receive Opsbase messages.' }),
    });
    return 'The webhook accepted a test message.';
  },

  async stripe(c, env) {
    const body = (await expectOk(env, 'Stripe', join(c.api_base_url, '/v1/balance'), { headers: bearer(c.secret_key) })) as Record<string, unknown>;
    return `Stripe key works (${body?.livemode ? 'live' : 'test'} mode).`;
  },

  async meta(c, env) {
    const body = (await expectOk(env, 'The Graph API', join(c.graph_base_url, '/me'), { headers: bearer(c.access_token) })) as Record<
      string,
      unknown
    >;
    return `Access token works (${str(body?.name) || str(body?.id) || 'unnamed'}).`;
  },

  async openai(c, env) {
    return models(env, 'OpenAI', join(c.base_url, '/models'), bearer(c.api_key));
  },

  async openai_compatible(c, env) {
    return models(env, 'The server', join(c.base_url, '/models'), c.api_key ? bearer(c.api_key) : {});
  },

  async anthropic(c, env) {
    return models(env, 'Anthropic', join(c.base_url, '/models'), { 'x-api-key': str(c.api_key), 'anthropic-version': '2023-06-01' });
  },

  async s3(c, env) {
    // ListObjectsV2 of at most one key, signed with SigV4 (aws4fetch): proves the endpoint, the bucket and the keys.
    const url = new URL(join(c.endpoint, `/${encodeURIComponent(str(c.bucket))}`));
    url.searchParams.set('list-type', '2');
    url.searchParams.set('max-keys', '1');
    const check = await checkOutboundUrl(url.toString(), { allowPrivate: env.allowPrivate });
    if (!check.ok) throw new ProbeFailure(check.message);
    const aws = new AwsClient({ accessKeyId: str(c.access_key_id), secretAccessKey: str(c.secret_access_key), service: 's3', region: str(c.region), retries: 0 });
    let res: Response;
    try {
      const signed = await aws.sign(check.url.toString(), { method: 'GET' });
      res = await guardedFetch(signed.url, { headers: signed.headers, allowPrivate: env.allowPrivate, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new ProbeFailure(e.name === 'TimeoutError' ? `No answer from ${check.url.host} within ${PROBE_TIMEOUT_MS / 1000} s.` : `Could not reach ${check.url.host}: ${e.cause?.code ?? e.message}.`);
    }
    const text = await res.text();
    if (!res.ok) {
      // S3 answers errors as XML: <Code>NoSuchBucket</Code><Message>…</Message>.
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `Http${res.status}`;
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
      throw new ProbeFailure(`S3 answered ${res.status} ${code}${message ? `: ${message}` : ''}`);
    }
    return `Listed bucket ${c.bucket} with these keys.`;
  },
};

async function models(env: ProbeEnv, what: string, url: string, headers: Record<string, string>): Promise<string> {
  const body = (await expectOk(env, what, url, { headers })) as { data?: { id?: string }[] };
  const n = Array.isArray(body?.data) ? body.data.length : 0;
  return `Connected: ${n} model${n === 1 ? '' : 's'} available${n ? ` (e.g. ${body.data?.[0]?.id})` : ''}.`;
}

/**
 * Runs the kind's test. Never throws: a failure is `ok: false` with a message from which every secret value was
 * removed (vendors sometimes echo part of a key back).
 */
export async function probe(kind: string, config: ProbeConfig, secrets: string[], env: ProbeEnv): Promise<ProbeResult> {
  const run = PROBES[kind];
  let result: ProbeResult;
  try {
    result = { ok: true, message: await run(config, env) };
  } catch (err) {
    result = { ok: false, message: err instanceof ProbeFailure ? err.message : `The test failed: ${(err as Error).message}` };
  }
  let message = result.message;
  for (const s of secrets) if (s.length >= 4) message = message.split(s).join('[redacted]');
  return { ok: result.ok, message: message.slice(0, 500) };
}
