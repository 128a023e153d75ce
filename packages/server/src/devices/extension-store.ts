/**
 * Extensions: the short numbers a tenant gives its users (2001 rings Alice), one per user at most and
 * unique within the tenant, so a phone can dial a colleague by number. The numbers are the tenant's own:
 * 2001 in one tenant and 2001 in another are different people.
 */
import type { Kysely } from 'kysely';
import { ParleyError, type ExtensionEntry } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import { isUniqueViolation } from '../storage/db.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { ExtensionOwner } from './sip-device-directory.ts';

export class ExtensionStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The user's extension, or null. */
  async of(scope: TenantScope, userId: string, db: Kysely<Database> = this.db): Promise<string | null> {
    const r = await db
      .selectFrom('user_extensions')
      .select('extension')
      .where('tenant_id', '=', scope.tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return r?.extension ?? null;
  }

  /**
   * Gives the user `extension` in `tx`, replacing the one they had. Another user's number is
   * `duplicate_extension`; the caller checks that the user is the tenant's.
   */
  async set(scope: TenantScope, userId: string, extension: string, tx: Kysely<Database>): Promise<void> {
    const holder = await tx
      .selectFrom('user_extensions')
      .select('user_id')
      .where('tenant_id', '=', scope.tenantId)
      .where('extension', '=', extension)
      .executeTakeFirst();
    if (holder && holder.user_id !== userId) throw duplicate(extension);
    if (holder) return;
    try {
      await tx.deleteFrom('user_extensions').where('user_id', '=', userId).execute();
      await tx
        .insertInto('user_extensions')
        .values({ user_id: userId, tenant_id: scope.tenantId, extension })
        .execute();
    } catch (err) {
      // Two admins giving the same number at once: the unique index decides.
      if (isUniqueViolation(err)) throw duplicate(extension);
      throw err;
    }
  }

  /** Takes the user's extension away in `tx`; the number it was, or null. */
  async clear(scope: TenantScope, userId: string, tx: Kysely<Database>): Promise<string | null> {
    const had = await this.of(scope, userId, tx);
    if (had !== null)
      await tx
        .deleteFrom('user_extensions')
        .where('tenant_id', '=', scope.tenantId)
        .where('user_id', '=', userId)
        .execute();
    return had;
  }

  /** Every extension of the tenant, by number (a tenant has at most a few thousand). */
  async list(scope: TenantScope): Promise<ExtensionEntry[]> {
    const rows = await this.db
      .selectFrom('user_extensions')
      .innerJoin('users', 'users.id', 'user_extensions.user_id')
      .select([
        'user_extensions.extension as extension',
        'users.id as userId',
        'users.address as address',
        'users.display_name as displayName',
      ])
      .where('user_extensions.tenant_id', '=', scope.tenantId)
      .execute();
    // Numeric order (2 before 10), which text order in SQL would not give.
    return rows.sort(
      (a, b) => a.extension.length - b.extension.length || (a.extension < b.extension ? -1 : 1),
    );
  }

  /** See SipDeviceDirectory.userByExtension: the enabled user with that number in the tenant. */
  async userByExtension(tenantId: string, extension: string): Promise<ExtensionOwner | null> {
    const r = await this.db
      .selectFrom('user_extensions')
      .innerJoin('users', 'users.id', 'user_extensions.user_id')
      .select(['users.id as userId', 'users.address as address', 'users.display_name as displayName'])
      .where('user_extensions.tenant_id', '=', tenantId)
      .where('user_extensions.extension', '=', extension)
      .where('users.enabled', '=', 1)
      .executeTakeFirst();
    return r ?? null;
  }
}

const duplicate = (extension: string) =>
  new ParleyError('duplicate_extension', `extension ${extension} is already another user's`, {
    field: 'extension',
  });
