/**
 * Emergency calls in the SDK (`client.emergency`), for tenant admins: the organisation's sites (named
 * civic addresses), each user's location (a site, or an address of their own) that emergency calls
 * carry to the carrier as PIDF-LO, and the emergency callback number (shown for callers with no
 * number). The server refuses other roles with 403, and another tenant's site or user is not_found.
 * Admins are alerted of each emergency call by a realtime event (`client.on('event')`, kind
 * `emergency.call`) and an e-mail.
 */
import type { RestClient } from './rest-client.ts';
import type { CivicAddress } from '@parley/protocol';

/** A civic address in RFC 5139's parts (`country`, ISO 3166-1 alpha-2, and `city` required). */
export type { CivicAddress } from '@parley/protocol';

export interface EmergencySite {
  id: string;
  name: string;
  address: CivicAddress;
  /** How many users are at it. */
  users: number;
}

export interface UserLocation {
  userId: string;
  siteId: string | null;
  address: CivicAddress | null;
}

export interface EmergencySettings {
  /** Shown on emergency calls of users with no number of their own (E.164), or null. */
  callbackNumber: string | null;
  /** The dial plan country, and its emergency numbers (recognised before extensions). */
  country: string;
  numbers: string[];
}

/** The data of an `emergency.call` event (tenant admins). */
export interface EmergencyCallNotice {
  callerId: string;
  callerName: string;
  callerAddress: string;
  number: string;
  callback: string | null;
  location: string | null;
  site: string | null;
  at: string;
  text: string;
}

const id = encodeURIComponent;

export class EmergencyApi {
  constructor(private readonly rest: Pick<RestClient, 'request'>) {}

  settings(): Promise<EmergencySettings> {
    return this.rest.request('GET', '/api/admin/emergency/settings');
  }

  setCallbackNumber(callbackNumber: string | null): Promise<EmergencySettings> {
    return this.rest.request('PUT', '/api/admin/emergency/settings', { callbackNumber });
  }

  sites(): Promise<{ items: EmergencySite[] }> {
    return this.rest.request('GET', '/api/admin/emergency/sites');
  }

  addSite(name: string, address: CivicAddress): Promise<EmergencySite> {
    return this.rest.request('POST', '/api/admin/emergency/sites', { name, address });
  }

  updateSite(siteId: string, name: string, address: CivicAddress): Promise<EmergencySite> {
    return this.rest.request('PUT', `/api/admin/emergency/sites/${id(siteId)}`, { name, address });
  }

  /** Refused with `site_in_use` while users are at it. */
  removeSite(siteId: string): Promise<{ removed: boolean }> {
    return this.rest.request('DELETE', `/api/admin/emergency/sites/${id(siteId)}`);
  }

  /** Users with a location (those without are not listed). */
  locations(): Promise<{ items: UserLocation[] }> {
    return this.rest.request('GET', '/api/admin/emergency/locations');
  }

  location(userId: string): Promise<UserLocation> {
    return this.rest.request('GET', `/api/admin/emergency/locations/${id(userId)}`);
  }

  /** Puts the user at a site, or gives them their own address; both null clears their location. */
  setLocation(
    userId: string,
    loc: { siteId: string | null; address?: null } | { siteId?: null; address: CivicAddress | null },
  ): Promise<UserLocation> {
    return this.rest.request('PUT', `/api/admin/emergency/locations/${id(userId)}`, loc);
  }
}
