/** Directory routes: the caller's tenant and its users; tenant admins manage users; the audit log. */
import { z } from 'zod';
import type { Kysely } from 'kysely';
import {
  AuditEntry,
  AuditQuery,
  CreateUserRequest,
  Id,
  Page,
  ParleyError,
  Tenant,
  UpdateUserRequest,
  User,
  UserSearchQuery,
} from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { Directory } from './directory.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { enrolUser } from './enrol.ts';
import { hashPassword } from '../credentials/passwords.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';

/**
 * What the directory needs from sign-in: ending a user's sessions. Declared here, implemented by auth
 * (AuthService), so the directory does not import the auth module that is built on top of it.
 */
export interface SessionRevoker {
  /** Ends every session of the user inside `tx`, the transaction of the change that requires it. */
  revokeUserSessions(tx: Kysely<Database>, userId: string): Promise<void>;
  /** After that transaction's COMMIT: cuts the user's open connections. */
  userRevoked(tenantId: string, userId: string): void;
}

export interface DirectoryRouteDeps {
  directory: Directory;
  audit: AuditLog;
  auth: SessionRevoker;
  write: StorageHandle['write'];
}

const UserParams = z.strictObject({ userId: Id });

/**
 * Who may change whom, beyond the route's `admin` role: operator accounts are not a tenant admin's to
 * change (even in the operator's own tenant; the operator's CLI manages them); an API key may not
 * demote, disable or reset the password of an admin (a leaked server-to-server key must not take over
 * the tenant's administration); nobody disables themselves. Keeping one enabled admin per tenant is
 * the directory's job (updateUser), atomically.
 */
function guardUserChange(
  principal: { kind: 'user' | 'api_key'; id: string } | null,
  target: User,
  change: { role?: string; enabled?: boolean; password?: string },
): void {
  if (target.role === 'operator')
    throw new ParleyError('forbidden', 'operator accounts are managed by the operator, not by tenant admins');
  const touchesAdmin =
    target.role === 'admin' &&
    (change.role === 'user' || change.enabled === false || change.password !== undefined);
  if (principal?.kind === 'api_key' && touchesAdmin)
    throw new ParleyError(
      'forbidden',
      'an API key cannot demote, disable or reset an admin; sign in as an admin',
    );
  if (principal?.kind === 'user' && principal.id === target.id && change.enabled === false)
    throw new ParleyError('conflict', 'you cannot disable yourself');
}

export function directoryRoutes({ directory, audit, auth, write }: DirectoryRouteDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/tenant',
      tag: 'directory',
      summary: "The caller's organisation",
      access: 'user',
      response: Tenant,
      handler: async ({ scope }) => (await directory.getTenant(scope.tenantId))!,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/users',
      tag: 'directory',
      summary: "Search the caller's tenant directory by name or address prefix (role: only that role)",
      access: 'user',
      query: UserSearchQuery,
      response: Page(User),
      handler: ({ scope, query }) =>
        directory.searchUsers(scope, query.query, query.limit, query.cursor, query.role),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/users/:userId',
      tag: 'directory',
      summary: 'One user of the tenant',
      access: 'user',
      params: UserParams,
      resources: { userId: 'user' },
      response: User,
      handler: async ({ scope, params }) => {
        const user = await directory.getUser(scope, params.userId);
        if (!user) throw new ParleyError('not_found', 'no such user');
        return user;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/users',
      tag: 'directory',
      summary: 'Add a user to the tenant (tenant admin)',
      access: 'admin',
      body: CreateUserRequest,
      response: User,
      status: 201,
      handler: ({ scope, body, actor }) => enrolUser({ directory, audit, write }, scope, actor, body),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/users/:userId',
      tag: 'directory',
      summary: 'Change a user: names, role, enabled, password (tenant admin)',
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      body: UpdateUserRequest,
      example: { title: 'Head of Sales', department: 'Sales' },
      response: User,
      handler: async ({ scope, params, body, actor, principal }) => {
        const before = await directory.getUser(scope, params.userId);
        if (!before) throw new ParleyError('not_found', 'no such user');
        guardUserChange(principal, before, body);
        const { password, ...rest } = body;
        // Hashing takes tens of milliseconds: before the write, so no writer waits behind it.
        const passwordHash = password
          ? await hashPassword(password, [before.address, before.displayName])
          : undefined;
        // The change, the end of the sessions it invalidates and its audit entry: one transaction.
        const { user, revoked } = await write(async (tx) => {
          const current = await directory.getUser(scope, params.userId, tx);
          if (!current) throw new ParleyError('not_found', 'no such user');
          const user = (await directory.updateUser(
            scope,
            params.userId,
            { ...rest, ...(passwordHash ? { passwordHash } : {}) },
            tx,
          ))!;
          // Disabling or a new password ends every session and open connection of that user.
          const revoked = (body.enabled === false && current.enabled) || passwordHash !== undefined;
          if (revoked) await auth.revokeUserSessions(tx, user.id);
          const changed = Object.keys(body).map((k) => (k === 'password' ? 'password' : k));
          await audit.record(
            actor,
            {
              tenantId: scope.tenantId,
              action: body.enabled === false ? 'user.disable' : 'user.update',
              target: user.id,
              detail: { changed },
            },
            tx,
          );
          return { user, revoked };
        });
        if (revoked) auth.userRevoked(scope.tenantId, user.id);
        return user;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/audit',
      tag: 'directory',
      summary: "The tenant's audit log, newest first (tenant admin)",
      access: 'admin',
      query: AuditQuery,
      response: Page(AuditEntry),
      handler: ({ scope, query }) => audit.list(scope, query.limit, query.cursor),
    }),
  ];
}
