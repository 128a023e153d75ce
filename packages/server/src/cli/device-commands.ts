/**
 * The CLI's SIP device and extension commands, on an open storage, as the tenant admin's HTTP API does
 * them (devices/device-admin.ts, devices/extension-admin.ts): the user is named by address, and the
 * tenant is the one that address belongs to.
 *
 * The CLI starts no SIP listener: the settings it prints name the configured PARLEY_SIP_ADDRESS,
 * PARLEY_SIP_PORT and PARLEY_SIP_TLS_PORT. A running server's registrations of a device reset or removed
 * here end when the phone next refreshes (its digest then fails); through the HTTP API they end at once.
 */
import {
  Address,
  Extension,
  ParleyError,
  SipDeviceName,
  SipPassword,
  SipUsername,
  type SipDeviceCredentials,
} from '@parley/protocol';
import type { Storage } from '../storage/db.ts';
import type { Config } from '../config.ts';
import { Directory } from '../directory/directory.ts';
import { AuditLog, systemActor } from '../audit/audit-log.ts';
import { trustedScope, type TenantScope } from '../directory/scope.ts';
import { createDevices, type Devices } from '../devices/devices.ts';
import { sipEdgeAddress } from '../devices/provisioning.ts';
import { check } from './check.ts';

export type DeviceConfig = Pick<Config, 'sipAddress' | 'sipPort' | 'sipTlsPort' | 'sipDevicesPerUser'>;

export class DeviceCommands {
  private readonly directory: Directory;
  private readonly devices: Devices;
  private readonly actor = systemActor('cli');

  constructor(storage: Storage, config: DeviceConfig) {
    this.directory = new Directory(storage);
    this.devices = createDevices({
      storage,
      directory: this.directory,
      audit: new AuditLog(storage.db),
      // No other module runs in the CLI's process to be told.
      bus: { publish: () => {} },
      edge: () => sipEdgeAddress(config),
      maxPerUser: config.sipDevicesPerUser,
    });
  }

  /** `device add`: a new device of the user; the password is printed this once. */
  async add(a: { user: string; name?: string; username?: string; password?: string }) {
    const { scope, userId } = await this.user(a.user);
    return this.devices.admin.create(scope, this.actor, userId, {
      name: a.name === undefined ? undefined : check(SipDeviceName, a.name, '--name'),
      username: a.username === undefined ? undefined : check(SipUsername, a.username, '--username'),
      password: a.password === undefined ? undefined : check(SipPassword, a.password, '--password'),
    });
  }

  /** `device list`: the user's devices (no secrets). */
  async list(a: { user: string }) {
    const { scope, userId } = await this.user(a.user);
    return { items: await this.devices.admin.list(scope, userId) };
  }

  /** `device reset`: a new password for one of the user's devices, printed this once. */
  async reset(a: { user: string; device: string; password?: string }): Promise<SipDeviceCredentials> {
    const { scope, deviceId } = await this.device(a.user, a.device);
    const password = a.password === undefined ? undefined : check(SipPassword, a.password, '--password');
    return this.devices.admin.resetPassword(scope, this.actor, deviceId, password);
  }

  /** `device remove`: one of the user's devices. */
  async remove(a: { user: string; device: string }) {
    const { scope, deviceId } = await this.device(a.user, a.device);
    await this.devices.admin.remove(scope, this.actor, deviceId);
    return { removed: deviceId };
  }

  /** `extension set`: gives the user the number (replacing theirs). */
  async setExtension(a: { user: string; extension: string }) {
    const { scope, userId } = await this.user(a.user);
    return this.devices.extensionAdmin.set(
      scope,
      this.actor,
      userId,
      check(Extension, a.extension, '--extension'),
    );
  }

  /** `extension clear`: takes the user's number away. */
  async clearExtension(a: { user: string }) {
    const { scope, userId } = await this.user(a.user);
    await this.devices.extensionAdmin.clear(scope, this.actor, userId);
    return { userId, extension: null };
  }

  private async user(address: string): Promise<{ scope: TenantScope; userId: string }> {
    const row = await this.directory.findUserRecordByAddress(check(Address, address, '--user'));
    if (!row) throw new ParleyError('not_found', `no user has the address ${address}`, { field: '--user' });
    return { scope: trustedScope(row.tenant_id), userId: row.id };
  }

  /** A device named by id or SIP user name, among the user's devices only. */
  private async device(address: string, device: string) {
    const { scope, userId } = await this.user(address);
    const name = device.toLowerCase();
    const d = (await this.devices.admin.list(scope, userId)).find(
      (x) => x.id === device || x.username === name,
    );
    if (!d)
      throw new ParleyError('not_found', `${address} has no SIP device ${device}`, { field: '--device' });
    return { scope, deviceId: d.id };
  }
}
