/** Sign-in, refresh, sign-out, the signed-in user, and the tenant's API keys. */
import { z } from 'zod';
import {
  ApiKey,
  CreateApiKeyRequest,
  CreateApiKeyResponse,
  Id,
  LoginRequest,
  LoginResponse,
  LogoutRequest,
  ParleyError,
  RefreshRequest,
  User,
} from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { AuthService } from './auth-service.ts';
import { toUser, type Directory } from '../directory/directory.ts';
import type { AuditLog } from '../audit/audit-log.ts';

export function authRoutes(auth: AuthService, directory: Directory, audit: AuditLog): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/auth/login',
      tag: 'auth',
      summary: 'Sign in with address and password',
      access: 'public',
      body: LoginRequest,
      response: LoginResponse,
      handler: ({ body, client }) => auth.login(body.address, body.password, client),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/auth/refresh',
      tag: 'auth',
      summary: 'Exchange a refresh token for new tokens (the old one stops working)',
      access: 'public',
      body: RefreshRequest,
      response: LoginResponse,
      handler: ({ body }) => auth.refresh(body.refreshToken),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/auth/logout',
      tag: 'auth',
      summary: 'Sign out: revokes this session, its refresh token and its connections',
      access: 'user',
      body: LogoutRequest.optional(),
      response: z.void(),
      status: 204,
      handler: async ({ principal }) => {
        if (principal?.sessionId) await auth.revokeSession(principal.sessionId);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/me',
      tag: 'auth',
      summary: 'The signed-in user',
      access: 'user',
      response: User,
      handler: async ({ principal, scope }) => {
        if (principal?.kind !== 'user') throw new ParleyError('forbidden', 'an API key is not a user');
        const rec = await directory.findUserRecordById(principal.id);
        if (!rec || rec.tenant_id !== scope.tenantId) throw new ParleyError('not_found', 'no such user');
        return toUser(rec);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/api-keys',
      tag: 'auth',
      summary: "The tenant's API keys (tenant admin)",
      access: 'admin',
      response: z.object({ items: z.array(ApiKey) }),
      handler: async ({ scope }) => ({ items: await auth.listApiKeys(scope.tenantId) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/api-keys',
      tag: 'auth',
      summary: 'Create an API key for a server-to-server app; the secret is shown once (tenant admin)',
      access: 'admin',
      body: CreateApiKeyRequest,
      response: CreateApiKeyResponse,
      status: 201,
      handler: async ({ scope, body, actor }) => {
        const key = await auth.createApiKey(scope.tenantId, body.name, body.role, actor.id);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'api_key.create',
          target: key.id,
          detail: { name: key.name, role: key.role },
        });
        return key;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/api-keys/:keyId',
      tag: 'auth',
      summary: 'Revoke an API key (tenant admin)',
      access: 'admin',
      params: z.strictObject({ keyId: Id }),
      resources: { keyId: 'api_key' },
      response: z.void(),
      status: 204,
      handler: async ({ scope, params, actor }) => {
        if (!(await auth.revokeApiKey(scope.tenantId, params.keyId)))
          throw new ParleyError('not_found', 'no such API key');
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'api_key.revoke',
          target: params.keyId,
        });
      },
    }),
  ];
}
