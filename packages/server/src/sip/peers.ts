/**
 * The two lookups the SIP edge classifies peers through (see @parley/sip's peer-policy.ts):
 * carrier addresses, trusted by address, and SIP credentials, which make a source a device only
 * after digest authentication. The server's credentials are the SIP devices of the database
 * (devices/device-store.ts); carriers come with the phone-network issue. Tests pass in-memory ones.
 */
import {
  type CarrierAddresses,
  type Clock,
  type DigestSecretLookup,
  PeerPolicy,
  type TransportProtocol,
} from '@parley/sip';
import type { Config } from '../config.ts';
import { InMemorySipDevices } from './in-memory-devices.ts';
import type { SipDeviceLookup } from './registrar.ts';

/** SIP digest credentials: a user's secret in a realm (a tenant domain or the SIP address). */
export interface SipCredentials {
  secret: DigestSecretLookup;
}

export interface SipPeerLookups {
  carriers: CarrierAddresses;
  credentials: SipCredentials;
  /** The device each SIP user name is (the registrar binds it); default: none. */
  devices?: SipDeviceLookup;
  /** The clock of rate buckets, failure windows and blocks (tests pass a FakeClock). */
  clock?: Clock;
}

/** Carrier addresses held in memory; `protocols` limits an address to some transports. */
export class InMemoryCarriers implements CarrierAddresses {
  private readonly byAddress = new Map<string, ReadonlySet<TransportProtocol> | undefined>();

  constructor(entries: Iterable<string | { address: string; protocols: TransportProtocol[] }> = []) {
    for (const e of entries) {
      if (typeof e === 'string') this.byAddress.set(e, undefined);
      else this.byAddress.set(e.address, new Set(e.protocols));
    }
  }

  isCarrier(address: string, protocol: TransportProtocol): boolean {
    if (!this.byAddress.has(address)) return false;
    const p = this.byAddress.get(address);
    return p === undefined || p.has(protocol);
  }
}

/** Passwords held in memory, by `username` and realm. */
export class InMemorySipCredentials implements SipCredentials {
  private readonly passwords = new Map<string, string>();

  constructor(entries: Iterable<{ username: string; realm: string; password: string }> = []) {
    for (const e of entries) this.passwords.set(`${e.username}\n${e.realm.toLowerCase()}`, e.password);
  }

  secret: DigestSecretLookup = async (username, realm) => {
    const password = this.passwords.get(`${username}\n${realm.toLowerCase()}`);
    return password === undefined ? undefined : { password };
  };
}

/** No carriers and no credentials: every source is unknown and no device can authenticate. */
export function emptySipPeerLookups(): SipPeerLookups {
  const devices = new InMemorySipDevices();
  return { carriers: new InMemoryCarriers(), credentials: devices, devices };
}

/** The peer policy with every limit, window and block duration from the settings. */
export function sipPeerPolicy(
  config: Config,
  lookups: Pick<SipPeerLookups, 'carriers' | 'clock'>,
): PeerPolicy {
  return new PeerPolicy({
    carriers: lookups.carriers,
    clock: lookups.clock,
    unknown: { rate: config.sipRate, burst: config.sipBurst, transactions: config.sipMaxTransactions },
    device: {
      rate: config.sipDeviceRate,
      burst: config.sipDeviceBurst,
      transactions: config.sipMaxTransactions,
      trustMs: config.sipDeviceTrustMs,
    },
    carrier: {
      rate: config.sipCarrierRate,
      burst: config.sipCarrierBurst,
      transactions: config.sipCarrierTransactions,
      retryAfterS: config.sipRetryAfter,
    },
    block: {
      failures: config.sipAuthFailures,
      windowMs: config.sipAuthWindowMs,
      durationMs: config.sipBlockMs,
    },
    retryAfterS: config.sipRetryAfter,
  });
}
