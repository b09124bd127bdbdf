// How an operation maps onto HTTP, in one place for the server (routes) and the clients (src/cli/request.ts): the
// path under /api/v1 (probes under /api), and which methods carry a JSON body (every one but GET: a DELETE may
// carry a password confirmation, which never belongs in a URL). No imports, so the CLI can load it in a blink.

export const API_PREFIX = '/api/v1';

export const routePath = (op: { path: string }): string => (op.path.startsWith('/api/') ? op.path : `${API_PREFIX}${op.path}`);

export const takesBody = (op: { method: string }): boolean => op.method !== 'GET';
