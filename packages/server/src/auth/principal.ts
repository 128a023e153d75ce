import type { Role } from '@parley/protocol';

/** Who is calling: a signed-in user (with a session) or a tenant's API key. */
export interface Principal {
  kind: 'user' | 'api_key';
  /** The user id, or the API key id. */
  id: string;
  address: string | null;
  tenantId: string;
  role: Role;
  sessionId: string | null;
}

/** Where a request came from, as the HTTP layer saw it (kept on sessions and in the audit log). */
export interface ClientInfo {
  sourceAddress: string | null;
  userAgent: string | null;
}

const rank: Record<Role, number> = { user: 1, admin: 2, operator: 3 };

/** Operators administer the platform, not tenants' own directories: `admin` routes are for tenant admins. */
export function hasRole(p: Principal, needed: Role): boolean {
  if (needed === 'operator') return p.role === 'operator';
  if (p.role === 'operator') return needed === 'user';
  return rank[p.role] >= rank[needed];
}
