/**
 * Adding a person to a tenant's directory, as every entry point does it (tenant admin, operator, CLI):
 * hash the password, then create the user in the tenant's scope and record who did it in one
 * transaction, so no user exists without its audit entry (nor an entry without its user).
 */
import type { User } from '@parley/protocol';
import type { Directory } from './directory.ts';
import type { TenantScope } from './scope.ts';
import type { Actor, AuditLog } from '../audit/audit-log.ts';
import { hashPassword } from '../credentials/passwords.ts';
import type { StorageHandle } from '../storage/db.ts';

export interface Enrolment {
  address: string;
  displayName: string;
  password: string;
  role: User['role'];
  title?: string | null;
  department?: string | null;
}

export type EnrolDeps = { directory: Directory; audit: AuditLog; write: StorageHandle['write'] };

export async function enrolUser(
  deps: EnrolDeps,
  scope: TenantScope,
  actor: Actor,
  e: Enrolment,
): Promise<User> {
  // Hashing takes tens of milliseconds: before the write, so no writer waits behind it.
  const passwordHash = await hashPassword(e.password, [e.address, e.displayName]);
  return enrolHashed(deps, scope, actor, e, passwordHash);
}

/** The write half of enrolUser, for a caller that hashed the password already (the bulk import). */
export function enrolHashed(
  deps: EnrolDeps,
  scope: TenantScope,
  actor: Actor,
  e: Omit<Enrolment, 'password'>,
  passwordHash: string,
): Promise<User> {
  return deps.write(async (tx) => {
    const user = await deps.directory.createUser(
      scope,
      {
        address: e.address,
        displayName: e.displayName,
        title: e.title ?? null,
        department: e.department ?? null,
        role: e.role,
        passwordHash,
      },
      tx,
    );
    await deps.audit.record(
      actor,
      {
        tenantId: e.role === 'operator' ? null : scope.tenantId,
        action: e.role === 'operator' ? 'operator.create' : 'user.create',
        target: user.id,
        detail: { address: user.address, role: user.role },
      },
      tx,
    );
    return user;
  });
}
