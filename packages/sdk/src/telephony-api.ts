/**
 * The phone network in the SDK (`client.telephony`): for the operator, carriers' SIP trunks (keyed by
 * billing's carrier id: billing names and prices a carrier, its trunk says where and how to send its
 * calls) and the number inventory; for a tenant admin, the organisation's numbers (assign them to users)
 * and the dial plan country; for every user, their own number (their caller ID). The server refuses
 * another role's calls with 403, and a tenant never sees another tenant's numbers (not_found).
 */
import type { RestClient } from './rest-client.ts';

export type TrunkTransport = 'udp' | 'tcp' | 'tls';
export type TrunkCodec = 'PCMU' | 'PCMA' | 'G722';
/** How our caller ID is written to the carrier: `+447700900123`, `447700900123` or `07700 900123`. */
export type CallerIdFormat = 'e164' | 'e164_no_plus' | 'national';

/** A carrier's SIP trunk, as the operator sees it. */
export interface Trunk {
  /** Billing's carrier id. */
  id: string;
  /** Billing's carrier name. */
  name: string;
  /** A tenant's own carrier (serves that tenant only), or null for the operator's (every tenant). */
  tenantId: string | null;
  addresses: Array<{ host: string; port: number }>;
  transport: TrunkTransport;
  /** Source IPs whose requests are this carrier's (authentication by IP). */
  allow: string[];
  codecs: TrunkCodec[];
  callerIdFormat: CallerIdFormat;
  channelLimit: number | null;
  enabled: boolean;
  /** `ip`: the carrier's requests are known by their source; `register`: Parley registers to it. */
  auth: TrunkAuth;
  /** A registration trunk's registration (its password is write-only: never in an answer). */
  registration: TrunkRegistration | null;
  /** Which header carries our caller's identity to the carrier. */
  identity: TrunkIdentity;
  /** Whether OPTIONS pings mark each address up or down. */
  healthCheck: boolean;
  /** Least-cost routing's tie-break between carriers that cost the same for a number, lower first. */
  preference: number;
  /** The carrier for emergency calls (tried first for them). */
  emergency: boolean;
  /** Emergency calls carry the caller's location as PIDF-LO (RFC 6442). */
  pidfLo: boolean;
}

export type TrunkAuth = 'ip' | 'register';
export type TrunkIdentity = 'pai' | 'rpid' | 'none';

export interface TrunkRegistration {
  registrar: { host: string; port: number };
  username: string;
  /** The digest user, when not `username`. */
  authUsername: string | null;
  /** The domain of the address of record, when not the registrar's host. */
  domain: string | null;
  /** Seconds asked for. */
  expires: number;
}

/** A carrier's health and registration, as the running server sees them. */
export interface CarrierStatus {
  carrierId: string;
  addresses: Array<{
    host: string;
    port: number;
    state: 'unknown' | 'up' | 'down';
    lastError: string | null;
    /** When the state last changed (ms since the epoch). */
    since: number | null;
    checkedAt: number | null;
  }>;
  registration: {
    state: 'off' | 'registering' | 'registered' | 'failed';
    lastError: string | null;
    expiresAt: number | null;
    nextAttemptAt: number | null;
  };
}

/** What `putTrunk` sets; what is left out takes the server's default (UDP, PCMA then PCMU, E.164). */
export interface TrunkSettings {
  tenantId?: string | null;
  addresses: Array<{ host: string; port: number }>;
  transport?: TrunkTransport;
  allow?: string[];
  codecs?: TrunkCodec[];
  callerIdFormat?: CallerIdFormat;
  channelLimit?: number | null;
  enabled?: boolean;
  auth?: TrunkAuth;
  /**
   * Required for `auth: 'register'`, absent (or null) otherwise. The password is written, never read;
   * left out, the trunk's stored password is kept (a new registration needs one).
   */
  registration?:
    | (Partial<Pick<TrunkRegistration, 'authUsername' | 'domain' | 'expires'>> & {
        registrar: { host: string; port?: number };
        username: string;
        password?: string;
      })
    | null;
  identity?: TrunkIdentity;
  healthCheck?: boolean;
  /** -1000 to 1000, 0 when left out. */
  preference?: number;
  emergency?: boolean;
  pidfLo?: boolean;
}

/** A number (DID) of a carrier, in E.164; given to a tenant, then to one of its users. */
export interface PhoneNumber {
  number: string;
  carrierId: string;
  tenantId: string | null;
  userId: string | null;
}

const id = encodeURIComponent;

export class TelephonyApi {
  constructor(private readonly rest: Pick<RestClient, 'request'>) {}

  // --- operator: trunks ---

  trunks(): Promise<{ items: Trunk[] }> {
    return this.rest.request('GET', '/api/operator/telephony/carriers');
  }

  /** Creates or replaces the SIP trunk of billing's carrier `carrierId`. */
  putTrunk(carrierId: string, settings: TrunkSettings): Promise<Trunk> {
    return this.rest.request('PUT', `/api/operator/telephony/carriers/${id(carrierId)}`, settings);
  }

  /** Each carrier's address health and registration state, with the last error. */
  carrierStatus(): Promise<{ items: CarrierStatus[] }> {
    return this.rest.request('GET', '/api/operator/telephony/carriers/status');
  }

  /** Removes the trunk side only: billing's carrier and its cost decks stay. */
  removeTrunk(carrierId: string): Promise<{ removed: boolean }> {
    return this.rest.request('DELETE', `/api/operator/telephony/carriers/${id(carrierId)}`);
  }

  // --- operator: number inventory ---

  numbers(): Promise<{ items: PhoneNumber[] }> {
    return this.rest.request('GET', '/api/operator/telephony/numbers');
  }

  addNumber(n: {
    number: string;
    carrierId: string;
    tenantId?: string | null;
    userId?: string | null;
  }): Promise<PhoneNumber> {
    return this.rest.request('POST', '/api/operator/telephony/numbers', n);
  }

  /**
   * Imports numbers from a CSV with the header `number,carrier,tenant` (carrier: id or name; tenant: a
   * domain, optional). A file with any bad row is refused whole: `numbers_invalid`, with each bad row's
   * number (the header is row 1) in the error's `rows`.
   */
  importNumbers(csv: string): Promise<{ imported: number; items: PhoneNumber[] }> {
    return this.rest.request('POST', '/api/operator/telephony/numbers/import', { csv });
  }

  /** Gives the number to a tenant, or takes it back (null); its user assignment is cleared. */
  allocateNumber(number: string, tenantId: string | null): Promise<PhoneNumber> {
    return this.rest.request('PUT', `/api/operator/telephony/numbers/${id(number)}/tenant`, { tenantId });
  }

  removeNumber(number: string): Promise<{ removed: boolean }> {
    return this.rest.request('DELETE', `/api/operator/telephony/numbers/${id(number)}`);
  }

  // --- tenant admin ---

  /** The organisation's numbers and who has each. */
  tenantNumbers(): Promise<{ items: PhoneNumber[] }> {
    return this.rest.request('GET', '/api/telephony/numbers');
  }

  /** Gives one of the organisation's numbers to a user (their caller ID), or takes it away (null). */
  assignNumber(number: string, userId: string | null): Promise<PhoneNumber> {
    return this.rest.request('PUT', `/api/telephony/numbers/${id(number)}/user`, { userId });
  }

  /** The country whose national numbers users may dial without + (ISO 3166-1 alpha-2). */
  dialPlan(): Promise<{ country: string }> {
    return this.rest.request('GET', '/api/telephony/dial-plan');
  }

  setDialPlan(country: string): Promise<{ country: string }> {
    return this.rest.request('PUT', '/api/telephony/dial-plan', { country });
  }

  // --- every user ---

  /** The signed-in user's own number (their caller ID; calls to it ring them), and the dial plan country. */
  myNumber(): Promise<{ number: string | null; country: string }> {
    return this.rest.request('GET', '/api/me/phone-number');
  }

  /** Whether the signed-in user withholds their number on calls to phone numbers. */
  callerId(): Promise<{ withheld: boolean }> {
    return this.rest.request('GET', '/api/me/caller-id');
  }

  /** Withholds (or shows) the user's number on every call out; `*67` before a number withholds it once. */
  setCallerId(withheld: boolean): Promise<{ withheld: boolean }> {
    return this.rest.request('PUT', '/api/me/caller-id', { withheld });
  }
}
