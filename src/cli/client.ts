// The CLI's HTTP client: where to send a request, with which credential, and the one refresh-and-retry when a saved
// session has expired. Everything the CLI does goes through the public API, like any other client.
import { routePath } from '../core/http-request.ts';
import { VERSION } from '../version.ts';
import { readSaved, writeSaved } from './config-file.ts';
import { findContract } from './contract.ts';
import { cliEnv } from './env.ts';
import { type BodySink, HttpFailure, type HttpResponse, httpRequest } from './http.ts';

export const DEFAULT_API_URL = 'http://localhost:4000';
/** Long work runs as jobs (DESIGN §7), so no request should take this long; past it the server counts as unreachable. */
const TIMEOUT_MS = 60_000;

/** The program-wide options (`opsbase --json --api-url … --api-key … --org …`). */
export interface GlobalOptions {
  json?: boolean;
  apiUrl?: string;
  apiKey?: string;
  orgId?: string;
}

export interface Target {
  apiUrl: string;
  token?: string;
  orgId?: string;
  /** The token is the saved session: only then may it be refreshed and the file rewritten. */
  savedSession: boolean;
  /** Said after a 401, when that is the likely reason. */
  authHint?: string;
}

export interface ApiResult {
  status: number;
  /** The response body exactly as received (`--json` prints it unchanged). */
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown;
  /** A download streamed to `RequestOptions.sink`: how many bytes it wrote. */
  streamed?: number;
}

export class NetworkError extends Error {
  readonly apiUrl: string;
  constructor(apiUrl: string, reason: string, midBody = false) {
    super(
      midBody
        ? `the download from ${apiUrl} stopped (${reason}): nothing was saved; run the command again.`
        : `the server at ${apiUrl} is unreachable (${reason}). Start it with \`npx opsbase start\`, ` +
            'or point --api-url / OPSBASE_API_URL at a running server.',
    );
    this.name = 'NetworkError';
    this.apiUrl = apiUrl;
  }
}

/** node:crypto loads only for the requests that need a key (POST): it costs ~7 ms of every start otherwise. */
const newKey = () => process.getBuiltinModule('node:crypto').randomUUID();

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** `--api-url` > OPSBASE_API_URL > saved login > default; `--api-key` > OPSBASE_API_KEY > saved token. */
export function resolveTarget(opts: GlobalOptions): Target {
  const env = cliEnv();
  const saved = readSaved();
  // A saved login's server wins over the default but not over an explicit OPSBASE_API_URL.
  const apiUrl = trimSlash(opts.apiUrl ?? env.OPSBASE_API_URL ?? saved.api_url ?? DEFAULT_API_URL);
  // A saved token goes only to the server it came from: pointing the CLI elsewhere must not leak it.
  const savedMatches = !!saved.token && (!saved.api_url || trimSlash(saved.api_url) === apiUrl);
  const explicit = opts.apiKey ?? env.OPSBASE_API_KEY;
  const token = explicit ?? (savedMatches ? saved.token : undefined);
  const authHint =
    !explicit && saved.token && !savedMatches
      ? `your saved login is for ${saved.api_url}, not ${apiUrl}: run \`opsbase login\` for this server`
      : !explicit && savedMatches
        ? 'your saved login may have expired: run `opsbase login` again'
        : undefined;
  return {
    apiUrl,
    token,
    orgId: opts.orgId ?? saved.org_id,
    savedSession: !explicit && savedMatches && !saved.token!.startsWith('obk_'),
    authHint,
  };
}

export interface RequestOptions {
  query?: URLSearchParams;
  body?: unknown;
  /** One Idempotency-Key per invocation, kept across the refresh retry (DESIGN §4). */
  idempotencyKey?: string;
  /** A file sent as the body (an upload operation) instead of JSON. */
  file?: Buffer;
  /** The bytes themselves, not JSON (a `binary` operation's raw face). */
  raw?: boolean;
  /** Where a successful answer's body streams instead of into memory (a download). */
  sink?: () => BodySink;
}

async function send(target: Target, method: string, path: string, opts: RequestOptions): Promise<ApiResult> {
  // Errors come as JSON whatever is accepted; a `binary` answer comes raw unless JSON alone is asked for.
  const headers: Record<string, string> = { accept: opts.raw ? '*/*' : 'application/json', 'user-agent': `opsbase-cli/${VERSION}` };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (target.orgId) headers['x-org-id'] = target.orgId;
  if (method === 'POST') headers['idempotency-key'] = opts.idempotencyKey ?? newKey();
  let body: string | Buffer | undefined;
  if (opts.file) {
    body = opts.file;
    headers['content-type'] = 'application/octet-stream';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const qs = opts.query?.toString();
  const url = `${target.apiUrl}${path}${qs ? `?${qs}` : ''}`;
  let res: HttpResponse;
  try {
    res = await httpRequest(url, { method, headers, body, timeoutMs: TIMEOUT_MS, sink: opts.sink });
  } catch (err) {
    throw new NetworkError(target.apiUrl, err instanceof HttpFailure ? err.reason : (err as Error).message, err instanceof HttpFailure && err.midBody);
  }
  const text = res.text;
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed, streamed: res.streamed };
}

/** Trades the saved refresh token for a new session, saves it, and returns the new token (or undefined). */
async function refreshSession(target: Target): Promise<string | undefined> {
  const saved = readSaved();
  const op = findContract('auth.refresh');
  if (!saved.refresh_token || !op) return undefined;
  const res = await send({ ...target, token: undefined }, 'POST', routePath(op), { body: { refresh_token: saved.refresh_token } });
  const body = res.body as { token?: string; refresh_token?: string } | undefined;
  if (res.status >= 300 || !body?.token) return undefined;
  writeSaved({ ...saved, token: body.token, refresh_token: body.refresh_token ?? saved.refresh_token });
  return body.token;
}

/** One API request; throws NetworkError when the server cannot be reached. */
export async function request(target: Target, method: string, path: string, opts: RequestOptions = {}): Promise<ApiResult> {
  const first = { ...opts, idempotencyKey: opts.idempotencyKey ?? (method === 'POST' ? newKey() : undefined) };
  const res = await send(target, method, path, first);
  if (res.status !== 401 || !target.savedSession) return res;
  const token = await refreshSession(target);
  return token ? send({ ...target, token }, method, path, first) : res;
}

/** 0 ok, 1 API error, 3 auth, 4 payment (the issue's exit codes; 2 usage and 5 network are decided elsewhere). */
export function exitCodeFor(status: number): number {
  if (status < 400) return 0;
  if (status === 401 || status === 403) return 3;
  if (status === 402) return 4;
  return 1;
}
