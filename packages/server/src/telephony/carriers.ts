/**
 * Carriers' SIP side: the trunk settings of a carrier that billing already knows (same id as
 * `billing_carriers`, so routing and rating join on it). Billing owns the name and the cost decks; this
 * module owns how to reach the carrier and how to recognise it (authentication by IP: an allow-list of
 * the carrier's source addresses).
 *
 * A carrier with `tenantId` null is the operator's and serves every tenant; a tenant's own carrier
 * (as Teams Direct Routing) serves only that tenant and is tried before the operator's.
 *
 * Two ways a carrier knows us (issue 19): by address (`auth: 'ip'`, the carrier's SBC trusts our source
 * and we trust its allow-list), or by registration (`auth: 'register'`, as most small-business carriers
 * work): Parley REGISTERs to the carrier's registrar with digest credentials, answers the carrier's
 * challenges to our INVITEs with the same credentials, and takes an inbound call as the carrier's when
 * it is addressed to the contact registered there. The registration password is kept to answer
 * challenges (it cannot be hashed: digest needs it or its realm's HA1) and is never sent out by the API.
 */

export type TrunkTransport = 'udp' | 'tcp' | 'tls';
export type TrunkCodec = 'PCMU' | 'PCMA' | 'G722';
/** How our caller ID is written on the carrier leg: `+447700900123`, `447700900123` or `07700 900123`. */
export type CallerIdFormat = 'e164' | 'e164_no_plus' | 'national';

export const TRUNK_TRANSPORTS: readonly TrunkTransport[] = ['udp', 'tcp', 'tls'];
export const TRUNK_CODECS: readonly TrunkCodec[] = ['PCMU', 'PCMA', 'G722'];
export const CALLER_ID_FORMATS: readonly CallerIdFormat[] = ['e164', 'e164_no_plus', 'national'];
export type TrunkAuth = 'ip' | 'register';
/** How our caller's identity is asserted to the carrier: RFC 3325 P-Asserted-Identity, Remote-Party-ID, or only From. */
export type IdentityHeader = 'pai' | 'rpid' | 'none';
export const TRUNK_AUTHS: readonly TrunkAuth[] = ['ip', 'register'];
export const IDENTITY_HEADERS: readonly IdentityHeader[] = ['pai', 'rpid', 'none'];

/** A carrier address: an IP or a name; a name with no port is looked up by DNS SRV (RFC 3263). */
export interface TrunkAddress {
  host: string;
  port: number;
}

/** A registration trunk's account at the carrier. */
export interface TrunkRegistration {
  /** Where REGISTER goes (an IP or a name). */
  registrar: TrunkAddress;
  /** The account: the user part of our address of record at the carrier. */
  username: string;
  /** The digest user name when the carrier's differs from `username`, else null. */
  authUsername: string | null;
  password: string;
  /** The domain of our address of record, when not the registrar's host (null: the registrar's host). */
  domain: string | null;
  /** Registration lifetime asked for, seconds (the registrar may shorten it). */
  expires: number;
}

export interface TrunkCarrier {
  /** Billing's carrier id. */
  id: string;
  name: string;
  /** The tenant that brought this carrier for itself, or null for the operator's. */
  tenantId: string | null;
  /** Where calls go, in order of preference: a call fails over to the next on timeout or 503. */
  addresses: TrunkAddress[];
  transport: TrunkTransport;
  /** Source addresses (IPs) whose requests are this carrier's. */
  allow: string[];
  /** Codecs offered on the carrier leg, in order. */
  codecs: TrunkCodec[];
  callerIdFormat: CallerIdFormat;
  /** Concurrent calls allowed on this trunk, or null for no limit. */
  channelLimit: number | null;
  enabled: boolean;
  auth: TrunkAuth;
  /** The account when `auth` is `register`, else null. */
  registration: TrunkRegistration | null;
  /** How the caller's number is asserted on calls out, and read on calls in. */
  identity: IdentityHeader;
  /** Whether each address is pinged with OPTIONS (a down address is not offered calls). */
  healthCheck: boolean;
  /**
   * Least-cost routing's tie-break between carriers that cost the same for a number (least-cost.ts):
   * lower first; absent is 0 (migration 018).
   */
  preference?: number;
  /** The carrier for emergency calls: tried first for them (emergency.ts); absent: false. */
  emergency?: boolean;
  /** Emergency calls carry the caller's location as RFC 6442 PIDF-LO; absent: false. */
  pidfLo?: boolean;
}

export interface CarrierDirectory {
  /** Sync, from a cache refreshed on every change: the carrier whose allow-list holds this source. */
  carrierBySource(address: string): TrunkCarrier | undefined;
  /** Carriers that may take a call of `tenantId` to `e164`: the tenant's own first, then the operator's. */
  carriersFor(tenantId: string, e164: string): Promise<TrunkCarrier[]>;
  get(id: string): Promise<TrunkCarrier | null>;
}

/**
 * A directory over a fixed list, for tests and for the store's cache: enabled carriers only, the
 * tenant's own before the operator's, each group in the list's order.
 */
export class StaticCarrierDirectory implements CarrierDirectory {
  private bySource = new Map<string, TrunkCarrier>();

  constructor(private carriers: TrunkCarrier[] = []) {
    this.replace(carriers);
  }

  /** Swaps the whole list (the store calls this after every change). */
  replace(carriers: TrunkCarrier[]): void {
    this.carriers = carriers;
    const bySource = new Map<string, TrunkCarrier>();
    for (const c of carriers) {
      if (!c.enabled) continue;
      for (const a of c.allow) if (!bySource.has(a)) bySource.set(a, c);
    }
    this.bySource = bySource;
  }

  carrierBySource(address: string): TrunkCarrier | undefined {
    return this.bySource.get(stripIpv6Mapped(address));
  }

  async carriersFor(tenantId: string, _e164: string): Promise<TrunkCarrier[]> {
    const usable = this.carriers.filter((c) => c.enabled && c.addresses.length > 0);
    return [...usable.filter((c) => c.tenantId === tenantId), ...usable.filter((c) => c.tenantId === null)];
  }

  async get(id: string): Promise<TrunkCarrier | null> {
    return this.carriers.find((c) => c.id === id) ?? null;
  }
}

/** `::ffff:127.0.0.2` (a dual-stack socket's view of an IPv4 peer) is `127.0.0.2`. */
export function stripIpv6Mapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The issue-19 fields of a trunk known by address, asserting PAI, with no OPTIONS pings: what every
 * trunk was before registration and health checks (benchmarks and tests spread it; the API's default
 * turns the health check on).
 */
export const IP_TRUNK: Pick<TrunkCarrier, 'auth' | 'registration' | 'identity' | 'healthCheck'> = {
  auth: 'ip',
  registration: null,
  identity: 'pai',
  healthCheck: false,
};
