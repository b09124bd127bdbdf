// One way to the API for every page: the session travels in its HttpOnly cookie (never in page scripts), the current
// org in X-Org-Id, and a 401 first tries the refresh cookie once, then sends the user to sign-in and back.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export interface FieldError {
  field: string;
  location: string;
  message: string;
}

/** The error envelope of DESIGN §4, as thrown by every call. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;
  readonly details?: unknown;
  constructor(status: number, body: { error?: string; message?: string; request_id?: string; details?: unknown } | null) {
    super(body?.message ?? `Request failed (${status})`);
    this.status = status;
    this.code = body?.error ?? 'internal';
    this.requestId = body?.request_id;
    this.details = body?.details;
  }
  /** Field-level validation messages, when the server gave them. */
  get fieldErrors(): FieldError[] {
    return Array.isArray(this.details) ? (this.details as FieldError[]).filter((d) => d && typeof d.field === 'string') : [];
  }
}

const ORG_KEY = 'opsbase.org';
export const currentOrg = () => localStorage.getItem(ORG_KEY);
export const setCurrentOrg = (id: string | null) => (id ? localStorage.setItem(ORG_KEY, id) : localStorage.removeItem(ORG_KEY));

let onSignedOut: () => void = () => {};
/** Where a session that cannot be renewed goes (the router installs it). */
export const whenSignedOut = (fn: () => void) => {
  onSignedOut = fn;
};

let refreshing: Promise<boolean> | undefined;
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => setTimeout(() => (refreshing = undefined), 0));
  return refreshing;
}

const NO_RETRY = /\/api\/v1\/auth\/(login|register|refresh|logout)$/;

/** fetch with the org header and one silent session renewal on 401. */
export async function apiFetch(input: Request): Promise<Response> {
  const org = currentOrg();
  if (org && !input.headers.has('x-org-id')) input.headers.set('x-org-id', org);
  const retry = input.clone();
  const res = await fetch(input);
  if (res.status !== 401 || NO_RETRY.test(new URL(input.url).pathname)) return res;
  // Retried whether or not this renewal worked: refresh tokens are single-use, so when another tab (or request)
  // renewed the session a moment earlier, this attempt fails while the browser already holds the new cookie.
  await refreshSession();
  const again = await fetch(retry);
  if (again.status !== 401) return again;
  onSignedOut();
  return again;
}

export const api = createClient<paths>({ baseUrl: window.location.origin, fetch: apiFetch });

/** Unwraps an openapi-fetch result: the data, or the server's error thrown as ApiError. */
export async function ok<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await p;
  if (error !== undefined || !response.ok) throw new ApiError(response.status, (error ?? null) as never);
  return data as T;
}

/** An untyped call, for pages derived at run time from the OpenAPI document (generic operation pages). */
export async function call(method: string, path: string, opts: { query?: Record<string, string>; body?: unknown } = {}): Promise<unknown> {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== '') url.searchParams.set(k, v);
  const init: RequestInit = { method };
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  const req = new Request(url, { ...init, headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {} });
  const res = await apiFetch(req);
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}
