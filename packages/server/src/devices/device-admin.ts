/**
 * Giving users SIP devices, as every entry point does it (the tenant admin's HTTP API, the CLI): check
 * the user, pick or check the SIP user name and password, store only the HA1s with an audit entry in one
 * transaction, and answer the password once with what to type into the phone.
 *
 * A removed device, or one whose password was reset, is revoked after the commit: `revoke` (the
 * registrar dropping its bindings) is awaited before the admin is answered, so once the answer says
 * so the phone is rung no more; then `sip.device.revoked` goes on the bus for anyone else.
 */
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  ParleyError,
  type CreateSipDeviceRequest,
  type SipDevice,
  type SipDeviceCredentials,
  type User,
} from '@parley/protocol';
import { digestHa1 } from '@parley/sip';
import type { Directory } from '../directory/directory.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { Actor, AuditLog } from '../audit/audit-log.ts';
import type { Bus } from '../bus/bus.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';
import { assertStrongPassword, passwordContext } from '../credentials/password-strength.ts';
import type { DeviceHa1s, SipDeviceStore } from './device-store.ts';
import { provisioningTexts, type SipEdgeAddress } from './provisioning.ts';
import type { SipDeviceRevokedEvent } from './sip-device-directory.ts';

export interface SipDeviceAdminDeps {
  devices: SipDeviceStore;
  directory: Pick<Directory, 'getUser'>;
  audit: AuditLog;
  write: StorageHandle['write'];
  bus: Pick<Bus, 'publish'>;
  /** Ends what a revoked device holds (its registrations); awaited before the admin is answered. */
  revoke?(e: SipDeviceRevokedEvent): Promise<void>;
  /** Where phones reach the SIP edge now (the listener's ports once it listens). */
  edge(): SipEdgeAddress;
  /** PARLEY_SIP_DEVICES_PER_USER. */
  maxPerUser: number;
}

/** The name a device gets when the admin gives none. */
export const DEFAULT_DEVICE_NAME = 'Desk phone';

/** Characters of generated passwords: no 0/O, 1/l/I, which a person copying from a screen confuses. */
const ALPHABET = '23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * A generated device password: four groups of four (about 92 bits), short enough to type on a phone's
 * keypad and far past what an online guesser (blocked after PARLEY_SIP_AUTH_FAILURES) could try.
 */
export function generateSipPassword(): string {
  const group = () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return [group(), group(), group(), group()].join('-');
}

export function deviceHa1s(username: string, realm: string, password: string): DeviceHa1s {
  return {
    MD5: digestHa1('MD5', username, realm, password),
    'SHA-256': digestHa1('SHA-256', username, realm, password),
  };
}

/** The default SIP user name of a user's device: the address's local part, as a SIP user name may be. */
export function usernameBase(address: string): string {
  const local = address
    .split('@')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-');
  const trimmed = local.replace(/^[^a-z0-9]+/, '').slice(0, 56);
  return trimmed || 'phone';
}

/** Most `alice-N` names tried before giving up (a user has at most PARLEY_SIP_DEVICES_PER_USER). */
const USERNAME_TRIES = 1000;

export class SipDeviceAdmin {
  constructor(private readonly deps: SipDeviceAdminDeps) {}

  list(scope: TenantScope, userId: string): Promise<SipDevice[]> {
    return this.userOf(scope, userId).then(() => this.deps.devices.list(scope, userId));
  }

  async create(
    scope: TenantScope,
    actor: Actor,
    userId: string,
    req: CreateSipDeviceRequest,
  ): Promise<SipDeviceCredentials> {
    const user = await this.userOf(scope, userId);
    const domain = user.address.split('@')[1]!;
    const password = await this.passwordFor(req.password, [req.username, user.address, user.displayName]);
    const name = req.name ?? DEFAULT_DEVICE_NAME;
    const { devices, audit, maxPerUser } = this.deps;
    const device = await this.deps.write(async (tx) => {
      await lockUser(tx, scope, userId);
      if ((await devices.count(scope, userId, tx)) >= maxPerUser)
        throw new ParleyError(
          'limit_exceeded',
          `a user has at most ${maxPerUser} SIP devices (PARLEY_SIP_DEVICES_PER_USER): remove one first`,
        );
      const username = req.username ?? (await this.freeUsername(domain, usernameBase(user.address), tx));
      const device = await devices.create(
        scope,
        { userId, name, username, domain, ha1: deviceHa1s(username, domain, password) },
        tx,
      );
      await audit.record(
        actor,
        {
          tenantId: scope.tenantId,
          action: 'sip_device.create',
          target: device.id,
          detail: { userId, username, name },
        },
        tx,
      );
      return device;
    });
    return this.credentials(device, password, user);
  }

  /** A new password (the chosen one, or generated), shown once; the old one stops working now. */
  async resetPassword(
    scope: TenantScope,
    actor: Actor,
    deviceId: string,
    chosen: string | undefined,
  ): Promise<SipDeviceCredentials> {
    const before = await this.deviceOf(scope, deviceId);
    const user = await this.userOf(scope, before.userId);
    const password = await this.passwordFor(chosen, [before.username, user.address, user.displayName]);
    const device = await this.deps.write(async (tx) => {
      const d = await this.deps.devices.setPassword(
        scope,
        deviceId,
        deviceHa1s(before.username, before.domain, password),
        tx,
      );
      if (!d) throw notFound();
      await this.deps.audit.record(
        actor,
        { tenantId: scope.tenantId, action: 'sip_device.password_reset', target: d.id, detail: null },
        tx,
      );
      return d;
    });
    await this.revoked(device, 'password_reset');
    return this.credentials(device, password, user);
  }

  async rename(scope: TenantScope, actor: Actor, deviceId: string, name: string): Promise<SipDevice> {
    return this.deps.write(async (tx) => {
      const d = await this.deps.devices.rename(scope, deviceId, name, tx);
      if (!d) throw notFound();
      await this.deps.audit.record(
        actor,
        { tenantId: scope.tenantId, action: 'sip_device.update', target: d.id, detail: { name } },
        tx,
      );
      return d;
    });
  }

  async remove(scope: TenantScope, actor: Actor, deviceId: string): Promise<void> {
    const device = await this.deps.write(async (tx) => {
      const d = await this.deps.devices.remove(scope, deviceId, tx);
      if (!d) throw notFound();
      await this.deps.audit.record(
        actor,
        {
          tenantId: scope.tenantId,
          action: 'sip_device.remove',
          target: d.id,
          detail: { userId: d.userId, username: d.username },
        },
        tx,
      );
      return d;
    });
    await this.revoked(device, 'removed');
  }

  private userOf(scope: TenantScope, userId: string): Promise<User> {
    return managedUser(this.deps.directory, scope, userId);
  }

  private async deviceOf(scope: TenantScope, deviceId: string): Promise<SipDevice> {
    const d = await this.deps.devices.get(scope, deviceId);
    if (!d) throw notFound();
    return d;
  }

  /** A chosen password must pass the strength rule (not leaning on the user's names); else one is made. */
  private async passwordFor(
    chosen: string | undefined,
    context: Array<string | null | undefined>,
  ): Promise<string> {
    if (chosen === undefined) return generateSipPassword();
    await assertStrongPassword(chosen, passwordContext(...context));
    return chosen;
  }

  private async freeUsername(domain: string, base: string, tx: Kysely<Database>): Promise<string> {
    for (let n = 1; n <= USERNAME_TRIES; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (!(await this.deps.devices.usernameTaken(domain, candidate, tx))) return candidate;
    }
    throw new ParleyError('conflict', 'no free SIP user name: choose one', { field: 'username' });
  }

  private credentials(device: SipDevice, password: string, user: User): SipDeviceCredentials {
    const edge = this.deps.edge();
    const settings = {
      username: device.username,
      password,
      domain: device.domain,
      proxyAddress: edge.address,
      port: edge.port,
      tlsPort: edge.tlsPort,
    };
    return { device, settings, provisioning: provisioningTexts(settings, user.displayName) };
  }

  private async revoked(d: SipDevice, reason: 'removed' | 'password_reset'): Promise<void> {
    const e = { tenantId: d.tenantId, userId: d.userId, deviceId: d.id, reason };
    await this.deps.revoke?.(e);
    this.deps.bus.publish('sip.device.revoked', e);
  }
}

/**
 * The user a tenant admin gives a device or an extension: the tenant's (else `not_found`), and not an
 * operator account, which is the operator's to manage (as for every other change of it).
 */
export async function managedUser(
  directory: Pick<Directory, 'getUser'>,
  scope: TenantScope,
  userId: string,
): Promise<User> {
  const user = await directory.getUser(scope, userId);
  if (!user) throw new ParleyError('not_found', 'no such user');
  if (user.role === 'operator')
    throw new ParleyError('forbidden', 'operator accounts are managed by the operator, not by tenant admins');
  return user;
}

const notFound = () => new ParleyError('not_found', 'no such SIP device');

/**
 * Locks the user's row for the rest of `tx` (a no-op update: a row lock on PostgreSQL, the write lock
 * on SQLite), so two devices added at once cannot both pass the per-user limit.
 */
async function lockUser(tx: Kysely<Database>, scope: TenantScope, userId: string): Promise<void> {
  await tx
    .updateTable('users')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('tenant_id', '=', scope.tenantId)
    .where('id', '=', userId)
    .execute();
}
