/**
 * Giving users extensions, as the tenant admin's HTTP API and the CLI do it: the user must be the
 * tenant's (and no operator account), and the change commits with its audit entry.
 */
import { ParleyError, type UserExtension } from '@parley/protocol';
import type { Directory } from '../directory/directory.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { Actor, AuditLog } from '../audit/audit-log.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { ExtensionStore } from './extension-store.ts';
import { managedUser } from './device-admin.ts';

export interface ExtensionAdminDeps {
  extensions: ExtensionStore;
  directory: Pick<Directory, 'getUser'>;
  audit: AuditLog;
  write: StorageHandle['write'];
}

export class ExtensionAdmin {
  constructor(private readonly deps: ExtensionAdminDeps) {}

  async get(scope: TenantScope, userId: string): Promise<UserExtension> {
    await this.userOf(scope, userId, false);
    return { userId, extension: await this.deps.extensions.of(scope, userId) };
  }

  /** Gives the user `extension` (replacing theirs); another user's number is `duplicate_extension`. */
  async set(scope: TenantScope, actor: Actor, userId: string, extension: string): Promise<UserExtension> {
    await this.userOf(scope, userId, true);
    await this.deps.write(async (tx) => {
      const before = await this.deps.extensions.of(scope, userId, tx);
      if (before === extension) return;
      await this.deps.extensions.set(scope, userId, extension, tx);
      await this.deps.audit.record(
        actor,
        {
          tenantId: scope.tenantId,
          action: 'extension.set',
          target: userId,
          detail: { extension, previous: before },
        },
        tx,
      );
    });
    return { userId, extension };
  }

  /** Takes the user's extension away; having none already is no error (the answer is the same). */
  async clear(scope: TenantScope, actor: Actor, userId: string): Promise<void> {
    await this.userOf(scope, userId, true);
    await this.deps.write(async (tx) => {
      const had = await this.deps.extensions.clear(scope, userId, tx);
      if (had !== null)
        await this.deps.audit.record(
          actor,
          { tenantId: scope.tenantId, action: 'extension.clear', target: userId, detail: { extension: had } },
          tx,
        );
    });
  }

  private async userOf(scope: TenantScope, userId: string, changing: boolean): Promise<void> {
    if (changing) await managedUser(this.deps.directory, scope, userId);
    else if (!(await this.deps.directory.getUser(scope, userId)))
      throw new ParleyError('not_found', 'no such user');
  }
}
