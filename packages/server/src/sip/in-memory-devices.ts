/**
 * SIP devices held in memory: credentials and the device lookup in one, for tests and for a server
 * started without the devices' tables (the DB-backed directory replaces it in app.ts).
 */
import type { DigestSecretLookup } from '@parley/sip';
import type { SipCredentials } from './peers.ts';
import type { SipDevice, SipDeviceLookup } from './registrar.ts';

export interface InMemorySipDevice extends SipDevice {
  username: string;
  /** The tenant domain the device authenticates in (its realm). */
  domain: string;
  password: string;
}

export class InMemorySipDevices implements SipCredentials, SipDeviceLookup {
  private readonly byKey = new Map<string, InMemorySipDevice>();

  constructor(devices: Iterable<InMemorySipDevice> = []) {
    for (const d of devices) this.add(d);
  }

  add(d: InMemorySipDevice): void {
    this.byKey.set(key(d.domain, d.username), d);
  }

  delete(domain: string, username: string): void {
    this.byKey.delete(key(domain, username));
  }

  secret: DigestSecretLookup = async (username, realm) => {
    const d = this.byKey.get(key(realm, username));
    return d ? { password: d.password } : undefined;
  };

  async deviceByUsername(domain: string, username: string): Promise<SipDevice | undefined> {
    const d = this.byKey.get(key(domain, username));
    return d && { deviceId: d.deviceId, tenantId: d.tenantId, userId: d.userId, name: d.name };
  }
}

function key(domain: string, username: string): string {
  return `${username}\n${domain.toLowerCase()}`;
}
