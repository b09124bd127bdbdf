// Scopes are `<resource>:<read|write>` or `*`. A key carries scopes; a session's role in the org implies them.
import type { Role } from '../db/schema/orgs.ts';

/** Resources only owners and admins may change. */
const ADMIN_RESOURCES = new Set(['keys', 'members', 'org', 'billing', 'webhooks', 'credentials', 'integrations']);

export const SCOPE_PATTERN = /^(\*|[a-z_]+:(read|write|\*))$/;

/** Does a set of granted scopes allow `needed`? `write` implies `read`; `res:*` and `*` allow everything under them. */
export function scopesAllow(granted: readonly string[], needed: string): boolean {
  if (granted.includes('*') || granted.includes(needed)) return true;
  const [resource, verb] = needed.split(':');
  if (granted.includes(`${resource}:*`)) return true;
  return verb === 'read' && granted.includes(`${resource}:write`);
}

export function roleAllows(role: Role, needed: string): boolean {
  if (role === 'owner' || role === 'admin') return true;
  const [resource, verb] = needed.split(':');
  if (verb === 'read') return true;
  return role === 'member' && !ADMIN_RESOURCES.has(resource);
}

/** May this caller grant (or use) `needed`? A key is bounded by its scopes, a session by its role. */
export function callerAllows(caller: { keyId: string | null; scopes: readonly string[]; role: Role | null }, needed: string): boolean {
  if (caller.keyId) return scopesAllow(caller.scopes, needed);
  if (!caller.role) return false;
  if (needed === '*' || needed.endsWith(':*')) return caller.role === 'owner' || caller.role === 'admin';
  return roleAllows(caller.role, needed);
}

const ROLE_RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };
export const roleAtLeast = (role: Role, min: Role) => ROLE_RANK[role] >= ROLE_RANK[min];
