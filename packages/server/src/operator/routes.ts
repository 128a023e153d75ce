/**
 * The operator console's API: tenants (create, change, suspend and resume), their domains, their users
 * and first admins, the platform audit log.
 */
import { z } from 'zod';
import {
  AddDomainRequest,
  AuditEntry,
  AuditQuery,
  CreateTenantRequest,
  Domain,
  CreateUserRequest,
  Id,
  Page,
  ParleyError,
  Tenant,
  UpdateTenantRequest,
  User,
  UserSearchQuery,
} from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { Directory } from '../directory/directory.ts';
import { trustedScope } from '../directory/scope.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { enrolUser } from '../directory/enrol.ts';
import type { StorageHandle } from '../storage/db.ts';

const TenantParams = z.strictObject({ tenantId: Id });
const DomainParams = z.strictObject({ tenantId: Id, domain: Domain });

export interface OperatorRouteDeps {
  directory: Directory;
  audit: AuditLog;
  write: StorageHandle['write'];
  /** Cuts a suspended tenant's open connections once the suspension has committed (AuthService). */
  auth: { tenantSuspended(tenantId: string): void };
}

export function operatorRoutes({ directory, audit, write, auth }: OperatorRouteDeps): AnyRoute[] {
  /** Suspends or resumes a tenant with its audit entry in one transaction. */
  const suspension = (suspend: boolean) =>
    defineRoute({
      method: 'POST',
      url: `/api/operator/tenants/:tenantId/${suspend ? 'suspend' : 'resume'}`,
      tag: 'operator',
      summary: suspend
        ? "Suspend a tenant: its users' sign-ins, sessions, connections and API keys are refused until resumed"
        : 'Resume a suspended tenant: its users may sign in again (sessions still in date work again)',
      access: 'operator',
      params: TenantParams,
      response: Tenant,
      handler: async ({ params, actor }) => {
        const before = await tenantOr404(params.tenantId);
        if (before.suspended === suspend) return before;
        await write(async (tx) => {
          if (!(await directory.setSuspended(params.tenantId, suspend ? Date.now() : null, tx)))
            throw new ParleyError('not_found', 'no such tenant');
          await audit.record(
            actor,
            {
              tenantId: params.tenantId,
              action: suspend ? 'tenant.suspend' : 'tenant.resume',
              target: params.tenantId,
            },
            tx,
          );
        });
        if (suspend) auth.tenantSuspended(params.tenantId);
        return tenantOr404(params.tenantId);
      },
    });
  const tenantOr404 = async (id: string) => {
    const t = await directory.getTenant(id);
    if (!t) throw new ParleyError('not_found', 'no such tenant');
    return t;
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/api/operator/tenants',
      tag: 'operator',
      summary: 'Every tenant',
      access: 'operator',
      response: z.object({ items: z.array(Tenant) }),
      handler: async () => ({ items: await directory.listTenants() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/tenants',
      tag: 'operator',
      summary: 'Create a tenant',
      access: 'operator',
      body: CreateTenantRequest,
      response: Tenant,
      status: 201,
      // The tenant and its audit entry commit together.
      handler: ({ body, actor }) =>
        write(async (tx) => {
          const t = await directory.createTenant(body, tx);
          await audit.record(
            actor,
            {
              tenantId: t.id,
              action: 'tenant.create',
              target: t.id,
              detail: { name: t.name, domains: t.domains },
            },
            tx,
          );
          return t;
        }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/tenants/:tenantId',
      tag: 'operator',
      summary: 'One tenant',
      access: 'operator',
      params: TenantParams,
      response: Tenant,
      handler: ({ params }) => tenantOr404(params.tenantId),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/operator/tenants/:tenantId',
      tag: 'operator',
      summary: 'Change a tenant',
      access: 'operator',
      params: TenantParams,
      body: UpdateTenantRequest,
      response: Tenant,
      handler: async ({ params, body, actor }) => {
        await tenantOr404(params.tenantId);
        const t = (await directory.updateTenant(params.tenantId, body))!;
        await audit.record(actor, {
          tenantId: t.id,
          action: 'tenant.update',
          target: t.id,
          detail: { changed: Object.keys(body) },
        });
        return t;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/tenants/:tenantId/domains',
      tag: 'operator',
      summary: 'Add a domain to a tenant',
      access: 'operator',
      params: TenantParams,
      body: AddDomainRequest,
      response: Tenant,
      status: 201,
      handler: async ({ params, body, actor }) => {
        await tenantOr404(params.tenantId);
        const t = await directory.addDomain(params.tenantId, body.domain);
        await audit.record(actor, {
          tenantId: t.id,
          action: 'tenant.domain.add',
          target: t.id,
          detail: { domain: body.domain },
        });
        return t;
      },
    }),
    suspension(true),
    suspension(false),
    defineRoute({
      method: 'DELETE',
      url: '/api/operator/tenants/:tenantId/domains/:domain',
      tag: 'operator',
      summary:
        "Take a domain from a tenant (refused while a user's address is in it, or for its last domain)",
      access: 'operator',
      params: DomainParams,
      response: Tenant,
      handler: async ({ params, actor }) => {
        await tenantOr404(params.tenantId);
        return write(async (tx) => {
          const t = await directory.removeDomain(params.tenantId, params.domain, tx);
          if (!t) throw new ParleyError('not_found', 'the tenant has no such domain');
          await audit.record(
            actor,
            {
              tenantId: t.id,
              action: 'tenant.domain.remove',
              target: t.id,
              detail: { domain: params.domain },
            },
            tx,
          );
          return t;
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/tenants/:tenantId/users',
      tag: 'operator',
      summary: "A tenant's users by name (role=admin: its admins), paged",
      access: 'operator',
      params: TenantParams,
      query: UserSearchQuery,
      response: Page(User),
      handler: async ({ params, query }) => {
        await tenantOr404(params.tenantId);
        return directory.searchUsers(
          trustedScope(params.tenantId),
          query.query,
          query.limit,
          query.cursor,
          query.role,
        );
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/tenants/:tenantId/users',
      tag: 'operator',
      summary: 'Add a user to a tenant (typically its first admin)',
      access: 'operator',
      params: TenantParams,
      body: CreateUserRequest,
      response: User,
      status: 201,
      handler: async ({ params, body, actor }) => {
        await tenantOr404(params.tenantId);
        return enrolUser({ directory, audit, write }, trustedScope(params.tenantId), actor, body);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/audit',
      tag: 'operator',
      summary: 'The whole platform audit log, newest first',
      access: 'operator',
      query: AuditQuery,
      response: Page(AuditEntry),
      handler: ({ query }) => audit.list(null, query.limit, query.cursor),
    }),
  ];
}
