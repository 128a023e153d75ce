/**
 * SIP devices on the database: a user's desk phones and softphones with the digest HA1s of their
 * passwords (RFC 7616 section 3.4.2; never the password). Tenant admin operations take a TenantScope;
 * the two lookups of the SIP edge (`deviceByUsername`, the digest `secret`) are keyed by realm, the
 * tenant domain the phone authenticates in, because a phone has no principal until digest succeeds.
 *
 * Writes take the caller's transaction, so a device and its audit entry commit together.
 */
import type { Kysely, Selectable } from 'kysely';
import { ParleyError, type SipDevice } from '@parley/protocol';
import type { DigestAlgorithm, DigestSecretLookup } from '@parley/sip';
import type { Database } from '../storage/schema.ts';
import { isUniqueViolation } from '../storage/db.ts';
import { iso, newId } from '../ids.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { SipDevicesTable } from './device-tables.ts';
import type { SipDeviceIdentity } from './sip-device-directory.ts';

/** The HA1s of one password in one realm, as stored. */
export type DeviceHa1s = Record<DigestAlgorithm, string>;

export interface NewSipDevice {
  userId: string;
  name: string;
  username: string;
  domain: string;
  ha1: DeviceHa1s;
}

function toDevice(r: Selectable<SipDevicesTable>): SipDevice {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    name: r.name,
    username: r.username,
    domain: r.domain,
    createdAt: iso(r.created_at),
    passwordSetAt: iso(r.password_set_at),
  };
}

export class SipDeviceStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A user's devices, oldest first. */
  async list(scope: TenantScope, userId: string, db: Kysely<Database> = this.db): Promise<SipDevice[]> {
    const rows = await db
      .selectFrom('sip_devices')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toDevice);
  }

  async count(scope: TenantScope, userId: string, db: Kysely<Database> = this.db): Promise<number> {
    const r = await db
      .selectFrom('sip_devices')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', scope.tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async get(scope: TenantScope, deviceId: string, db: Kysely<Database> = this.db): Promise<SipDevice | null> {
    const r = await db
      .selectFrom('sip_devices')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', deviceId)
      .executeTakeFirst();
    return r ? toDevice(r) : null;
  }

  /** Whether `username` is taken in `domain` (any tenant: a domain is one tenant's). */
  async usernameTaken(domain: string, username: string, db: Kysely<Database> = this.db): Promise<boolean> {
    const r = await db
      .selectFrom('sip_devices')
      .select('id')
      .where('domain', '=', domain)
      .where('username', '=', username)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Adds a device in `tx`; a user name taken in the domain is `duplicate_sip_username`. */
  async create(scope: TenantScope, d: NewSipDevice, tx: Kysely<Database>): Promise<SipDevice> {
    const now = this.now();
    const row: SipDevicesTable = {
      id: newId('sipdev'),
      tenant_id: scope.tenantId,
      user_id: d.userId,
      name: d.name,
      username: d.username,
      domain: d.domain,
      ha1_md5: d.ha1.MD5,
      ha1_sha256: d.ha1['SHA-256'],
      created_at: now,
      password_set_at: now,
    };
    try {
      await tx.insertInto('sip_devices').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ParleyError('duplicate_sip_username', `${d.username}@${d.domain} is already a device`, {
          field: 'username',
        });
      throw err;
    }
    return toDevice(row);
  }

  async rename(scope: TenantScope, deviceId: string, name: string, tx: Kysely<Database>) {
    await tx
      .updateTable('sip_devices')
      .set({ name })
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', deviceId)
      .execute();
    return this.get(scope, deviceId, tx);
  }

  /** Replaces the device's HA1s (a password reset) in `tx`; null when there is no such device. */
  async setPassword(
    scope: TenantScope,
    deviceId: string,
    ha1: DeviceHa1s,
    tx: Kysely<Database>,
  ): Promise<SipDevice | null> {
    await tx
      .updateTable('sip_devices')
      .set({ ha1_md5: ha1.MD5, ha1_sha256: ha1['SHA-256'], password_set_at: this.now() })
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', deviceId)
      .execute();
    return this.get(scope, deviceId, tx);
  }

  /** Removes a device in `tx`; what it was, or null when there was none. */
  async remove(scope: TenantScope, deviceId: string, tx: Kysely<Database>): Promise<SipDevice | null> {
    const device = await this.get(scope, deviceId, tx);
    if (!device) return null;
    await tx
      .deleteFrom('sip_devices')
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', deviceId)
      .execute();
    return device;
  }

  /**
   * The row behind a phone's login: the device named `username` in realm `domain`, only while its user
   * is enabled and its tenant not suspended (a disabled user's phone must not register or call).
   */
  private login(domain: string, username: string) {
    return this.db
      .selectFrom('sip_devices')
      .innerJoin('users', 'users.id', 'sip_devices.user_id')
      .innerJoin('tenants', 'tenants.id', 'sip_devices.tenant_id')
      .where('sip_devices.domain', '=', domain.toLowerCase())
      .where('sip_devices.username', '=', username)
      .where('users.enabled', '=', 1)
      .where('tenants.suspended_at', 'is', null);
  }

  /** See SipDeviceDirectory.deviceByUsername. */
  async deviceByUsername(domain: string, username: string): Promise<SipDeviceIdentity | null> {
    const r = await this.login(domain, username)
      .select([
        'sip_devices.id as deviceId',
        'sip_devices.tenant_id as tenantId',
        'sip_devices.user_id as userId',
        'sip_devices.name as name',
      ])
      .executeTakeFirst();
    return r ?? null;
  }

  /**
   * The digest secret of a device (the SIP edge's SipCredentials): its HA1s in the realm it was made
   * in. Unknown, disabled and suspended all answer undefined, which the digest gate turns into the same
   * 403 as a wrong password (no enumeration).
   */
  secret: DigestSecretLookup = async (username, realm) => {
    const r = await this.login(realm, username)
      .select(['sip_devices.ha1_md5', 'sip_devices.ha1_sha256'])
      .executeTakeFirst();
    return r ? { ha1: { MD5: r.ha1_md5, 'SHA-256': r.ha1_sha256 } } : undefined;
  };
}
