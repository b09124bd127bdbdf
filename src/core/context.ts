// What every service function receives: who is acting, for which org, inside which transaction.
import type { Role } from '../db/schema/orgs.ts';
import type { DbOrTx } from '../db/client.ts';
import type { AppServices } from './services.ts';

export type ActorType = 'user' | 'agent' | 'system';

export interface Ctx {
  requestId: string;
  /** The transaction of this operation (mutations), or the pool (reads). */
  db: DbOrTx;
  /** The org the operation acts on; null for instance-level operations (register, login, users.*). */
  orgId: string | null;
  /** How the activity log names the actor: a session acts as its user; an API key as `system` (an integration). */
  actorType: ActorType;
  actorId: string | null;
  userId: string | null;
  keyId: string | null;
  keyName: string | null;
  sessionId: string | null;
  role: Role | null;
  scopes: readonly string[];
  isInstanceAdmin: boolean;
  ip: string;
  userAgent: string | null;
  services: AppServices;
  /** A paid operation's reservation, while its handler runs (a `deferred` one records it with the work it starts). */
  hold?: { id: string; amount: number };
  /** Only for operations with `rawBody` (signed webhooks): the exact bytes received and the request headers. */
  request?: { rawBody: Buffer; headers: Readonly<Record<string, string | string[] | undefined>> };
  /** Only for `upload` operations: the file's bytes, whether they came raw or base64 in JSON. */
  upload?: Buffer;
}

/** A context for work the system does on its own (jobs, `opsbase init`). */
export function systemCtx(services: AppServices, db: DbOrTx, orgId: string | null = null): Ctx {
  return {
    requestId: 'system',
    db,
    orgId,
    actorType: 'system',
    actorId: null,
    userId: null,
    keyId: null,
    keyName: null,
    sessionId: null,
    role: null,
    scopes: ['*'],
    isInstanceAdmin: true,
    ip: '127.0.0.1',
    userAgent: null,
    services,
  };
}

/** The org of an org-scoped operation; the framework guarantees it is set for `auth: 'org'`. */
export function requireOrg(ctx: Ctx): string {
  if (!ctx.orgId) throw new Error('org-scoped service called without an org');
  return ctx.orgId;
}
