/**
 * What the operator sees of each carrier beside its settings (issue 19): whether each address answers
 * (the OPTIONS health check, trunk-health.ts) and whether our registration with it holds (registration
 * trunks, trunk-registration.ts), each with the last error in words a person can act on ("401: wrong
 * user name or password", "no answer", "403 Forbidden"). The health check and the registrations write
 * here; routing reads `isUp` (a down address is not offered calls) and the operator API reads `get`.
 *
 * Held in memory, per process: status is what this node sees now, re-learnt within one ping interval
 * after a restart.
 */

export type AddressState = 'unknown' | 'up' | 'down';
export type RegistrationState = 'off' | 'registering' | 'registered' | 'failed';

export interface AddressStatus {
  host: string;
  port: number;
  state: AddressState;
  /** Why it is down (or the last failed ping while still up), or null. */
  lastError: string | null;
  /** When `state` last changed (ms since the epoch), or null while unknown. */
  since: number | null;
  /** When the last ping was answered or given up on, or null before the first. */
  checkedAt: number | null;
}

export interface RegistrationStatus {
  state: RegistrationState;
  lastError: string | null;
  /** When the registration held now runs out (ms since the epoch), or null. */
  expiresAt: number | null;
  /** When the next REGISTER goes (a refresh or a retry), or null. */
  nextAttemptAt: number | null;
}

export interface CarrierStatus {
  carrierId: string;
  addresses: AddressStatus[];
  registration: RegistrationStatus;
}

const OFF: RegistrationStatus = { state: 'off', lastError: null, expiresAt: null, nextAttemptAt: null };

export class TrunkStatusBoard {
  private readonly addresses = new Map<string, Map<string, AddressStatus>>();
  private readonly registrations = new Map<string, RegistrationStatus>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The status of a carrier's addresses and registration (unknown/off when nothing was seen). */
  get(carrierId: string, addresses: { host: string; port: number }[] = []): CarrierStatus {
    const seen = this.addresses.get(carrierId);
    return {
      carrierId,
      addresses: addresses.map(
        (a) =>
          seen?.get(key(a)) ?? {
            ...a,
            state: 'unknown',
            lastError: null,
            since: null,
            checkedAt: null,
          },
      ),
      registration: this.registrations.get(carrierId) ?? OFF,
    };
  }

  /** Whether calls may be offered to this address: anything but down (unknown is tried). */
  isUp(carrierId: string, address: { host: string; port: number }): boolean {
    return this.addresses.get(carrierId)?.get(key(address))?.state !== 'down';
  }

  /** Records a ping's verdict; `state` is the address's state after it (the checker's hysteresis). */
  setAddress(
    carrierId: string,
    address: { host: string; port: number },
    state: AddressState,
    lastError: string | null,
  ): void {
    let m = this.addresses.get(carrierId);
    if (!m) this.addresses.set(carrierId, (m = new Map()));
    const before = m.get(key(address));
    const now = this.now();
    m.set(key(address), {
      host: address.host,
      port: address.port,
      state,
      lastError,
      since: before && before.state === state ? before.since : now,
      checkedAt: now,
    });
  }

  setRegistration(carrierId: string, r: RegistrationStatus): void {
    this.registrations.set(carrierId, r);
  }

  /** Forgets a carrier's address verdicts (its health check stopped or changed: they show unknown again). */
  clearAddresses(carrierId: string): void {
    this.addresses.delete(carrierId);
  }

  /** Whether every one of these addresses of the carrier is down (none may be offered a call). */
  allDown(carrierId: string, addresses: { host: string; port: number }[]): boolean {
    return addresses.length > 0 && addresses.every((a) => !this.isUp(carrierId, a));
  }

  /** Forgets a carrier (removed or changed: its next checks start from unknown). */
  forget(carrierId: string): void {
    this.addresses.delete(carrierId);
    this.registrations.delete(carrierId);
  }
}

function key(a: { host: string; port: number }): string {
  return `${a.host.toLowerCase()}:${a.port}`;
}
