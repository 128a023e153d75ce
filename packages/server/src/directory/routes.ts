/** Directory routes: the caller's tenant and its users; tenant admins manage users; the audit log. */
import { z } from 'zod';
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

/**
 * What the directory needs from sign-in: ending a user's sessions. Declared here, implemented by auth
 * (AuthService), so the directory does not import the auth module that is built on top of it.
 */
export interface SessionRevoker {
  revokeUser(tenantId: string, userId: string): Promise<void>;
}

export interface DirectoryRouteDeps {
  directory: Directory;
  audit: AuditLog;
  auth: SessionRevoker;
}

const UserParams = z.strictObject({ userId: Id });

export function directoryRoutes({ directory, audit, auth }: DirectoryRouteDeps): AnyRoute[] {
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
      summary: "Search the caller's tenant directory by name or address prefix",
      access: 'user',
      query: UserSearchQuery,
      response: Page(User),
      handler: ({ scope, query }) => directory.searchUsers(scope, query.query, query.limit, query.cursor),
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
      handler: ({ scope, body, actor }) => enrolUser({ directory, audit }, scope, actor, body),
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
      handler: async ({ scope, params, body, actor }) => {
        const before = await directory.getUser(scope, params.userId);
        if (!before) throw new ParleyError('not_found', 'no such user');
        if (body.enabled === false && params.userId === actor.id)
          throw new ParleyError('conflict', 'you cannot disable yourself');
        const { password, ...rest } = body;
        const user = (await directory.updateUser(scope, params.userId, {
          ...rest,
          ...(password
            ? { passwordHash: await hashPassword(password, [before.address, before.displayName]) }
            : {}),
        }))!;
        // Disabling or a new password ends every session and open connection of that user now.
        if ((body.enabled === false && before.enabled) || password)
          await auth.revokeUser(scope.tenantId, user.id);
        const changed = Object.keys(body).map((k) => (k === 'password' ? 'password' : k));
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: body.enabled === false ? 'user.disable' : 'user.update',
          target: user.id,
          detail: { changed },
        });
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
