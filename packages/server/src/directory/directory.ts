/**
 * The directory: tenants (organisations with their domains) and their users. Every tenant-owned
 * operation takes a TenantScope; lookups across tenants exist only for sign-in and the operator.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { ParleyError, type Tenant, type User } from '@parley/protocol';
import type { Database, TenantsTable, UsersTable } from '../storage/schema.ts';
import { isUniqueViolation, type StorageHandle } from '../storage/db.ts';
import { newId, iso } from '../ids.ts';
import type { TenantScope } from './scope.ts';

export interface NewTenant {
  name: string;
  domains: string[];
  country: string;
  timeZone: string;
  isOperator?: boolean;
}

export interface NewUser {
  address: string;
  displayName: string;
  passwordHash: string | null;
  title?: string | null;
  department?: string | null;
  role: User['role'];
}

export interface UserPatch {
  displayName?: string;
  title?: string | null;
  department?: string | null;
  role?: 'user' | 'admin';
  enabled?: boolean;
  passwordHash?: string;
}

/** A user row as auth needs it (with the password hash, never sent out). */
export type UserRecord = Selectable<UsersTable>;

export function toUser(r: UserRecord): User {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    address: r.address,
    displayName: r.display_name,
    title: r.title,
    department: r.department,
    role: r.role,
    enabled: r.enabled === 1,
    createdAt: iso(r.created_at),
  };
}

const searchKey = (displayName: string) => displayName.normalize('NFKC').toLowerCase();

/** Escapes LIKE wildcards so user input matches literally. */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Writes run in the storage's writer queue; those a caller combines with others in one transaction
 * (a user's creation with its audit entry, a password change with its session revocation) take the
 * caller's `tx` and run their statements there.
 */
export class Directory {
  private readonly db: Kysely<Database>;
  private readonly write: StorageHandle['write'];

  constructor(storage: StorageHandle) {
    this.db = storage.db;
    this.write = storage.write;
  }

  private async tenantOut(t: Selectable<TenantsTable>, db: Kysely<Database> = this.db): Promise<Tenant> {
    const domains = await db
      .selectFrom('domains')
      .select('domain')
      .where('tenant_id', '=', t.id)
      .orderBy('domain')
      .execute();
    return {
      id: t.id,
      name: t.name,
      domains: domains.map((d) => d.domain),
      country: t.country,
      timeZone: t.time_zone,
      suspended: t.suspended_at !== null,
      createdAt: iso(t.created_at),
    };
  }

  /** Creates a tenant with its domains, in `tx` when given (else in a write of its own). */
  async createTenant(input: NewTenant, tx?: Kysely<Database>): Promise<Tenant> {
    const id = newId('ten');
    try {
      return await this.within(tx, async (tx) => {
        await tx
          .insertInto('tenants')
          .values({
            id,
            name: input.name,
            country: input.country,
            time_zone: input.timeZone,
            is_operator: input.isOperator ? 1 : 0,
            created_at: Date.now(),
          })
          .execute();
        for (const domain of new Set(input.domains))
          await tx.insertInto('domains').values({ domain, tenant_id: id }).execute();
        const row = await tx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        return this.tenantOut(row, tx);
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ParleyError('duplicate_domain', 'a domain is already in use by a tenant', {
          field: 'domains',
        });
      throw err;
    }
  }

  async addDomain(tenantId: string, domain: string): Promise<Tenant> {
    try {
      await this.write((tx) => tx.insertInto('domains').values({ domain, tenant_id: tenantId }).execute());
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ParleyError('duplicate_domain', `domain ${domain} is already in use`, { field: 'domain' });
      throw err;
    }
    return (await this.getTenant(tenantId))!;
  }

  /**
   * Takes a domain from a tenant. Refused while a user's address is in it (the address would belong to
   * nobody) and for the tenant's last domain (a tenant is reached by its domains).
   */
  async removeDomain(tenantId: string, domain: string, tx: Kysely<Database>): Promise<Tenant | null> {
    const owned = await tx.selectFrom('domains').select('domain').where('tenant_id', '=', tenantId).execute();
    if (!owned.some((d) => d.domain === domain)) return null;
    if (owned.length === 1)
      throw new ParleyError('conflict', 'a tenant keeps at least one domain: add another first', {
        field: 'domain',
      });
    const inUse = await tx
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('address', 'like', `%@${domain}`) // a domain holds no LIKE wildcard (Domain's pattern)
      .limit(1)
      .executeTakeFirst();
    if (inUse)
      throw new ParleyError('conflict', `users still have addresses in ${domain}: change them first`, {
        field: 'domain',
      });
    await tx.deleteFrom('domains').where('domain', '=', domain).where('tenant_id', '=', tenantId).execute();
    const row = await tx
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return this.tenantOut(row, tx);
  }

  /**
   * Suspends (a time) or resumes (null) a tenant in `tx`; false when there is no such tenant. The
   * operator's own organisation cannot be suspended (its operators would lock themselves out).
   */
  async setSuspended(tenantId: string, at: number | null, tx: Kysely<Database>): Promise<boolean> {
    const row = await tx
      .selectFrom('tenants')
      .select(['is_operator'])
      .where('id', '=', tenantId)
      .executeTakeFirst();
    if (!row) return false;
    if (row.is_operator === 1)
      throw new ParleyError('forbidden', "the operator's own organisation cannot be suspended");
    await tx.updateTable('tenants').set({ suspended_at: at }).where('id', '=', tenantId).execute();
    return true;
  }

  /** Runs `fn` in the caller's transaction when there is one, else as a write of its own. */
  private within<T>(tx: Kysely<Database> | undefined, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : this.write(fn);
  }

  async getTenant(tenantId: string): Promise<Tenant | null> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst();
    return row ? this.tenantOut(row) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('is_operator', '=', 0)
      .orderBy('name')
      .execute();
    return Promise.all(rows.map((r) => this.tenantOut(r)));
  }

  async updateTenant(
    tenantId: string,
    patch: { name?: string; country?: string; timeZone?: string },
  ): Promise<Tenant | null> {
    const values: Partial<TenantsTable> = {};
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.country !== undefined) values.country = patch.country;
    if (patch.timeZone !== undefined) values.time_zone = patch.timeZone;
    if (Object.keys(values).length)
      await this.write((tx) => tx.updateTable('tenants').set(values).where('id', '=', tenantId).execute());
    return this.getTenant(tenantId);
  }

  /** The tenant owning `domain` (SIP and sign-in use this), or null. */
  async findTenantByDomain(domain: string): Promise<Tenant | null> {
    const row = await this.db
      .selectFrom('domains')
      .innerJoin('tenants', 'tenants.id', 'domains.tenant_id')
      .selectAll('tenants')
      .where('domains.domain', '=', domain.toLowerCase())
      .executeTakeFirst();
    return row ? this.tenantOut(row) : null;
  }

  /** The operator's own organisation, created on first use. */
  async operatorTenant(domain: string): Promise<Tenant> {
    const row = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('is_operator', '=', 1)
      .executeTakeFirst();
    if (!row)
      return this.createTenant({
        name: 'Operator',
        domains: [domain],
        country: 'US',
        timeZone: 'UTC',
        isOperator: true,
      });
    const tenant = await this.tenantOut(row);
    if (!tenant.domains.includes(domain)) return this.addDomain(tenant.id, domain);
    return tenant;
  }

  /** Creates a user in `scope`'s tenant, in `tx` when given (else in a write of its own). */
  createUser(scope: TenantScope, input: NewUser, tx?: Kysely<Database>): Promise<User> {
    return this.within(tx, (tx) => this.insertUser(tx, scope, input));
  }

  private async insertUser(tx: Kysely<Database>, scope: TenantScope, input: NewUser): Promise<User> {
    const domain = input.address.split('@')[1]!;
    const owner = await tx
      .selectFrom('domains')
      .select('tenant_id')
      .where('domain', '=', domain)
      .executeTakeFirst();
    if (!owner || owner.tenant_id !== scope.tenantId) {
      throw new ParleyError(
        'validation_failed',
        `address must be in one of the tenant's domains, not ${domain}`,
        { field: 'address' },
      );
    }
    const now = Date.now();
    const row = {
      id: newId('usr'),
      tenant_id: scope.tenantId,
      address: input.address,
      display_name: input.displayName,
      search_name: searchKey(input.displayName),
      title: input.title ?? null,
      department: input.department ?? null,
      role: input.role,
      enabled: 1,
      password_hash: input.passwordHash,
      created_at: now,
      updated_at: now,
    };
    try {
      await tx.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ParleyError('duplicate_address', `${input.address} is already taken`, { field: 'address' });
      throw err;
    }
    return toUser(row);
  }

  async getUser(scope: TenantScope, userId: string, db: Kysely<Database> = this.db): Promise<User | null> {
    const r = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', userId)
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    return r ? toUser(r) : null;
  }

  /** Unscoped: for sign-in only. */
  async findUserRecordByAddress(address: string): Promise<UserRecord | null> {
    return (
      (await this.db
        .selectFrom('users')
        .selectAll()
        .where('address', '=', address.toLowerCase())
        .executeTakeFirst()) ?? null
    );
  }

  /** Unscoped: for the auth guard, which has the user id from a verified token. */
  async findUserRecordById(userId: string): Promise<UserRecord | null> {
    return (
      (await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()) ?? null
    );
  }

  /**
   * Directory search within one tenant: display-name or address prefix, case-insensitive, in name
   * order, paged by an opaque keyset cursor.
   */
  async searchUsers(
    scope: TenantScope,
    query: string | undefined,
    limit: number,
    cursor?: string,
    role?: User['role'],
  ) {
    let q = this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .$if(role !== undefined, (q) => q.where('role', '=', role!))
      .orderBy('search_name')
      .orderBy('id')
      .limit(limit + 1);
    const term = query?.trim().normalize('NFKC').toLowerCase();
    if (term) {
      const p = likePrefix(term);
      // Name prefix, address prefix, or any later word of the name ("smith" finds "Alice Smith").
      q = q.where(
        sql<boolean>`(search_name like ${p} escape '\\' or address like ${p} escape '\\' or search_name like ${`% ${p}`} escape '\\')`,
      );
    }
    const after = decodeCursor(cursor);
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('search_name', '>', after[0]),
          eb.and([eb('search_name', '=', after[0]), eb('id', '>', after[1])]),
        ]),
      );
    }
    const rows = await q.execute();
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toUser),
      nextCursor: more && last ? encodeCursor([last.search_name, last.id]) : null,
    };
  }

  /**
   * Changes a user of `scope`'s tenant, in `tx` when given (else in a write of its own); null if none.
   * A change that would leave the tenant without an enabled admin (demoting or disabling its last one)
   * is refused with `last_admin`, atomically: the tenant's row is locked first (a no-op update: a row
   * lock on PostgreSQL, the write lock on SQLite), so two admins demoting each other at once cannot both
   * succeed; the second sees the first's commit and finds itself the last.
   */
  updateUser(
    scope: TenantScope,
    userId: string,
    patch: UserPatch,
    tx?: Kysely<Database>,
  ): Promise<User | null> {
    return this.within(tx, (tx) => this.patchUser(tx, scope, userId, patch));
  }

  private async patchUser(
    tx: Kysely<Database>,
    scope: TenantScope,
    userId: string,
    patch: UserPatch,
  ): Promise<User | null> {
    const values: Partial<UsersTable> = { updated_at: Date.now() };
    if (patch.displayName !== undefined) {
      values.display_name = patch.displayName;
      values.search_name = searchKey(patch.displayName);
    }
    if (patch.title !== undefined) values.title = patch.title;
    if (patch.department !== undefined) values.department = patch.department;
    if (patch.role !== undefined) values.role = patch.role;
    if (patch.enabled !== undefined) values.enabled = patch.enabled ? 1 : 0;
    if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
    const removesAdmin = patch.role === 'user' || patch.enabled === false;
    if (removesAdmin)
      await tx
        .updateTable('tenants')
        .set((eb) => ({ name: eb.ref('name') }))
        .where('id', '=', scope.tenantId)
        .execute();
    const r = await tx
      .updateTable('users')
      .set(values)
      .where('id', '=', userId)
      .where('tenant_id', '=', scope.tenantId)
      .$if(removesAdmin, (q) =>
        q.where((eb) =>
          eb.or([
            eb('role', '<>', 'admin'),
            eb('enabled', '=', 0),
            eb.exists(
              eb
                .selectFrom('users as other')
                .select('other.id')
                .where('other.tenant_id', '=', scope.tenantId)
                .where('other.id', '<>', userId)
                .where('other.role', '=', 'admin')
                .where('other.enabled', '=', 1),
            ),
          ]),
        ),
      )
      .executeTakeFirst();
    const user = await this.getUser(scope, userId, tx);
    if (user && Number(r.numUpdatedRows) === 0)
      throw new ParleyError(
        'last_admin',
        'a tenant keeps at least one enabled admin: make another admin first',
        {
          field: patch.role === 'user' ? 'role' : 'enabled',
        },
      );
    return user;
  }
}

function encodeCursor(v: [string, string]): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

function decodeCursor(c: string | undefined): [string, string] | null {
  if (!c) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new ParleyError('validation_failed', 'cursor is not one this server issued', { field: 'cursor' });
}
