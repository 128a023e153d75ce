/**
 * One rule per peer class, chosen before parsing from the source address, port and transport
 * alone (the endpoint's pre-parse admission hook calls {@link PeerPolicy.admit} once per datagram):
 *
 * - **blocked**: a source address with repeated failed digest authentications; everything it sends
 *   is dropped unparsed until the block expires (what Kamailio's pike module and fail2ban do).
 * - **carrier**: an address a lookup says is a configured carrier, trusted by address. It is never
 *   dropped silently: over its request rate or its live-transaction limit a request gets 503 with
 *   Retry-After (RFC 3261 section 21.5.4), so the carrier can route elsewhere and come back.
 * - **device**: a source (address, port and transport) that passed digest authentication recently.
 *   Devices are trusted only through digest authentication, never by address: the class only gives
 *   the source its own rate bucket and stateful answers; every request is still authenticated by
 *   the application. A device answered our nonce at that address, so the address is not forged.
 * - **unknown**: everyone else. A small rate per source address is applied before parsing (a flood
 *   from one address costs a map lookup per datagram and cannot starve other sources), and answers
 *   are stateless as with Kamailio's `sl` module: a final response is sent once, never
 *   retransmitted toward a source that may be forged (RFC 3261 section 17.2.1 retransmits non-2xx
 *   INVITE responses for 32 s otherwise).
 *
 * Memory is bounded: every table has at most `maxSources` entries and expired entries are swept.
 */
import { type Clock, systemClock } from './clock.ts';
import { SourceRateLimiter } from './rate-limiter.ts';
import type { Peer, TransportProtocol } from './transport/transport.ts';

export type PeerClass = 'blocked' | 'carrier' | 'device' | 'unknown';

/** Configured carriers, trusted by address. Called before parsing: synchronous and in memory. */
export interface CarrierAddresses {
  isCarrier(address: string, protocol: TransportProtocol): boolean;
}

/** What the endpoint applies to a parsed request from a source of a class. */
export interface PeerRule {
  readonly peerClass: Exclude<PeerClass, 'blocked'>;
  /** Answer without retransmitting final responses or keeping completed transactions. */
  readonly stateless: boolean;
  /** Server transactions in progress this source may hold; beyond it new requests get 503. */
  readonly maxTransactions: number;
  /** Retry-After (seconds) on a 503 for this class. */
  readonly retryAfterS: number;
}

/** What the endpoint asks of a peer policy (the narrow interface it depends on). */
export interface PeerRules {
  admit(address: string, port: number, protocol: TransportProtocol, bytes: number): boolean;
  ruleFor(source: Peer): PeerRule;
  /** Takes one new-request token for `source`; false means over capacity (503 with Retry-After). */
  takeRequest(source: Peer, rule: PeerRule): boolean;
}

export interface RateSetting {
  /** Sustained per second. */
  rate: number;
  /** Burst allowance. */
  burst: number;
}

export interface PeerPolicyOptions {
  carriers: CarrierAddresses;
  clock?: Clock;
  /** Datagrams per address before parsing, and transactions in progress per address. */
  unknown: RateSetting & { transactions: number };
  /** Datagrams per authenticated source before parsing; how long a success keeps the class. */
  device: RateSetting & { transactions: number; trustMs: number };
  /** New requests per carrier address (over it: 503); transactions in progress per address. */
  carrier: RateSetting & { transactions: number; retryAfterS: number };
  /** `failures` failed authentications within `windowMs` block the address for `durationMs`. */
  block: { failures: number; windowMs: number; durationMs: number };
  /** Retry-After (seconds) on a 503 to an unknown source or device. */
  retryAfterS?: number;
  /** Entries per table at most. Default 100,000. */
  maxSources?: number;
}

export interface PeerPolicyStats {
  /** Dropped before parsing, by class. */
  blockedDropped: number;
  unknownDropped: number;
  deviceDropped: number;
  /** Blocks imposed. */
  blocks: number;
  /** Carrier requests refused with 503 for rate. */
  carrierOverRate: number;
}

export class PeerPolicy implements PeerRules {
  readonly stats: PeerPolicyStats = {
    blockedDropped: 0,
    unknownDropped: 0,
    deviceDropped: 0,
    blocks: 0,
    carrierOverRate: 0,
  };
  private readonly clock: Clock;
  private readonly carriers: CarrierAddresses;
  private readonly unknownRate: SourceRateLimiter;
  private readonly deviceRate: SourceRateLimiter;
  private readonly carrierRate: SourceRateLimiter;
  private readonly rules: Record<PeerRule['peerClass'], PeerRule>;
  private readonly block: PeerPolicyOptions['block'];
  private readonly trustMs: number;
  private readonly maxSources: number;
  /** Blocked addresses and when the block ends. */
  private readonly blocked = new Map<string, number>();
  /** Failed authentications per address in the current window. */
  private readonly failures = new Map<string, { count: number; since: number }>();
  /** Authenticated sources: address, then `protocol:port`, to the end of their trust. */
  private readonly devices = new Map<string, Map<string, number>>();

  constructor(opts: PeerPolicyOptions) {
    this.clock = opts.clock ?? systemClock;
    this.carriers = opts.carriers;
    this.maxSources = opts.maxSources ?? 100_000;
    this.unknownRate = new SourceRateLimiter(
      this.clock,
      opts.unknown.rate,
      opts.unknown.burst,
      this.maxSources,
    );
    this.deviceRate = new SourceRateLimiter(this.clock, opts.device.rate, opts.device.burst, this.maxSources);
    this.carrierRate = new SourceRateLimiter(
      this.clock,
      opts.carrier.rate,
      opts.carrier.burst,
      this.maxSources,
    );
    this.block = opts.block;
    this.trustMs = opts.device.trustMs;
    const retryAfterS = opts.retryAfterS ?? opts.carrier.retryAfterS;
    this.rules = {
      unknown: {
        peerClass: 'unknown',
        stateless: true,
        maxTransactions: opts.unknown.transactions,
        retryAfterS,
      },
      device: {
        peerClass: 'device',
        stateless: false,
        maxTransactions: opts.device.transactions,
        retryAfterS,
      },
      carrier: {
        peerClass: 'carrier',
        stateless: false,
        maxTransactions: opts.carrier.transactions,
        retryAfterS: opts.carrier.retryAfterS,
      },
    };
  }

  /** The class of a source, from its address, port and transport alone. */
  classify(address: string, port: number, protocol: TransportProtocol): PeerClass {
    if (this.blocked.size > 0 && this.isBlocked(address)) return 'blocked';
    if (this.carriers.isCarrier(address, protocol)) return 'carrier';
    if (this.deviceKey(address, port, protocol) !== undefined) return 'device';
    return 'unknown';
  }

  /** The pre-parse admission check (see AdmissionCheck in transport.ts). */
  admit(address: string, port: number, protocol: TransportProtocol, _bytes: number): boolean {
    switch (this.classify(address, port, protocol)) {
      case 'blocked':
        this.stats.blockedDropped++;
        return false;
      case 'carrier':
        return true;
      case 'device':
        if (this.deviceRate.take(this.deviceKey(address, port, protocol)!)) return true;
        this.stats.deviceDropped++;
        return false;
      case 'unknown':
        if (this.unknownRate.take(address)) return true;
        this.stats.unknownDropped++;
        return false;
    }
  }

  ruleFor(source: Peer): PeerRule {
    const c = this.classify(source.address, source.port, source.protocol);
    return this.rules[c === 'blocked' ? 'unknown' : c];
  }

  takeRequest(source: Peer, rule: PeerRule): boolean {
    if (rule.peerClass !== 'carrier' || this.carrierRate.take(source.address)) return true;
    this.stats.carrierOverRate++;
    return false;
  }

  /** Whether `address` is blocked now (an expired block is lifted here). */
  isBlocked(address: string): boolean {
    const until = this.blocked.get(address);
    if (until === undefined) return false;
    if (this.clock.now() < until) return true;
    this.blocked.delete(address);
    return false;
  }

  /**
   * A failed digest authentication from `source` (wrong password, unknown user, replayed nonce).
   * The `block.failures`-th within `block.windowMs` blocks the address for `block.durationMs`.
   * Returns true when this failure imposed the block.
   */
  authenticationFailed(source: Peer): boolean {
    const now = this.clock.now();
    const a = source.address;
    let f = this.failures.get(a);
    if (!f || now - f.since > this.block.windowMs) {
      if (!f && this.failures.size >= this.maxSources) this.sweep(now);
      f = { count: 0, since: now };
      this.failures.set(a, f);
    }
    if (++f.count < this.block.failures) return false;
    this.failures.delete(a);
    this.devices.delete(a);
    if (this.blocked.size >= this.maxSources) this.sweep(now);
    this.blocked.set(a, now + this.block.durationMs);
    this.stats.blocks++;
    return true;
  }

  /** A successful digest authentication: the source is a device for `device.trustMs`. */
  authenticated(source: Peer): void {
    const now = this.clock.now();
    this.failures.delete(source.address);
    let ports = this.devices.get(source.address);
    if (!ports) {
      if (this.devices.size >= this.maxSources) this.sweep(now);
      ports = new Map();
      this.devices.set(source.address, ports);
    }
    const k = `${source.protocol}:${source.port}`;
    if (!ports.has(k) && ports.size >= 1000) ports.delete(ports.keys().next().value!);
    ports.set(k, now + this.trustMs);
  }

  /** The rate key of an authenticated source, or undefined when it is not (or no longer) one. */
  private deviceKey(address: string, port: number, protocol: TransportProtocol): string | undefined {
    if (this.devices.size === 0) return undefined;
    const ports = this.devices.get(address);
    if (!ports) return undefined;
    const k = `${protocol}:${port}`;
    const until = ports.get(k);
    if (until === undefined) return undefined;
    if (this.clock.now() >= until) {
      ports.delete(k);
      if (ports.size === 0) this.devices.delete(address);
      return undefined;
    }
    return `${address}|${k}`;
  }

  /** Drops expired entries; a table still full loses its oldest tenth (insertion order). */
  private sweep(now: number): void {
    for (const [a, until] of this.blocked) if (until <= now) this.blocked.delete(a);
    for (const [a, f] of this.failures) if (now - f.since > this.block.windowMs) this.failures.delete(a);
    for (const [a, ports] of this.devices) {
      for (const [k, until] of ports) if (until <= now) ports.delete(k);
      if (ports.size === 0) this.devices.delete(a);
    }
    for (const m of [this.blocked, this.failures, this.devices] as Map<string, unknown>[]) {
      if (m.size < this.maxSources) continue;
      let n = Math.ceil(this.maxSources / 10);
      for (const k of m.keys()) {
        if (n-- <= 0) break;
        m.delete(k);
      }
    }
  }
}
