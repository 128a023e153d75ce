/**
 * Tenant scoping, enforced in one place. A `TenantScope` can only be made by the request guard (from
 * the authenticated principal) or by trusted code paths (CLI, operator routes) through `trustedScope`;
 * every tenant-owned query takes one, so a handler cannot forget the tenant.
 */
declare const scopeBrand: unique symbol;

export interface TenantScope {
  readonly tenantId: string;
  readonly [scopeBrand]: true;
}

/** For the guard, the CLI and operator routes: code that has already established who may act. */
export function trustedScope(tenantId: string): TenantScope {
  return { tenantId } as TenantScope;
}
