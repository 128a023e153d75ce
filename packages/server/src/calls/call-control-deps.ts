/**
 * What call control (call-control.ts) needs of the rest of the server, and its limits: the seams its
 * callers fill in (the directory, the realtime sessions, presence, the services it answers itself,
 * registered phones, trunks to the phone network, the call records). Kept apart from the state machine
 * so the one file holds the calls and this one what they are wired to.
 */
import type { Logger } from 'pino';
import type { CallTarget } from '@parley/protocol';
import type { Clock } from '@parley/sip';
import type { CallSession } from '../realtime/session.ts';
import type { PresenceService } from '../presence/presence-service.ts';
import type { Directory, UserRecord } from '../directory/directory.ts';
import type { CallRecordSink } from './record-sink.ts';
import type { RouteDecision } from '../telephony/least-cost.ts';
import type { EmergencyRoute } from '../telephony/emergency.ts';

/** A user as call control needs to know them. */
export interface CallUser {
  id: string;
  tenantId: string;
  address: string;
  displayName: string;
  enabled: boolean;
}

/** Directory lookups (unscoped: call control checks the tenant itself, to answer `not_in_tenant`). */
export interface CallDirectory {
  userById(id: string): Promise<CallUser | null>;
  userByAddress(address: string): Promise<CallUser | null>;
}

/** Where the sessions are: the realtime hub. */
export interface CallSessions {
  sessionsOf(userId: string): Iterable<CallSession>;
}

export interface CallLimits {
  /** `PARLEY_CALL_RING_TIMEOUT`, ms: unanswered, the call ends `no_answer`. */
  ringTimeoutMs: number;
  /** `PARLEY_CALL_LOST_GRACE`, ms: how long a vanished device keeps its place in a connected call. */
  lostGraceMs: number;
  /** `PARLEY_CALL_MAX_PER_USER`: calls (placed, ringing or connected) one user may take part in at once. */
  maxPerUser: number;
}

/**
 * Call targets the server answers itself (the echo test, echo.ts): a service user resolved within the
 * caller's tenant, rung on a device the service makes per call. Never busy, never Do not disturb, and
 * not given "In a call" (it is no person anyone watches).
 */
export interface CallServices {
  /** The service user `to` names in `tenantId`; addresses only when no directory user has them. */
  resolve(tenantId: string, to: CallTarget): CallUser | null;
  owns(userId: string): boolean;
  device(user: CallUser): CallSession;
}

/**
 * A user's registered phones, rung with their browsers (forking, RFC 3261 section 16.7's idea done by a
 * B2BUA): one new `CallSession` per registered contact for this call (none: no phone registered).
 */
export interface CallPhones {
  devicesOf(callee: CallUser): CallSession[];
}

/**
 * Number targets (`call.place {to:{number}}`, trunk-outbound.ts): what the caller typed read through
 * the tenant's dial plan, then either a user of the tenant (an extension), a number a user of this
 * server owns (on-net: that user rings, whatever their tenant, no carrier), or a number reached
 * through a carrier, rung as one server-side device (the trunk leg) that places the outbound INVITE.
 */
export interface CallTrunks {
  /** Coded refusals: `invalid_number` (the dial plan cannot read it), `no_route`, `not_found`. */
  route(caller: { tenantId: string; userId: string }, typed: string): Promise<TrunkRoute>;
  /**
   * The trunk leg for a call to `route`'s number (a channel taken on the first carrier with one
   * free), or null when every carrier's channels are in use (the call ends `busy`).
   */
  device(caller: { tenantId: string; userId: string }, route: NumberRoute): CallSession | null;
}

/** A number the dial plan made E.164, with the caller ID the caller shows and the carriers to try. */
export interface NumberRoute {
  kind: 'number';
  e164: string;
  typed: string;
  /** The caller's own number (their caller ID), or null. */
  callerNumber: string | null;
  /** The caller withholds their number (their setting, or a prefix such as `*67` on this call). */
  withheld?: boolean;
  /** A forwarded call: the number first called and why (the carrier gets Diversion). */
  divertedFrom?: { number: string; reason: 'unconditional' | 'user-busy' | 'no-answer' | 'unavailable' };
  carrierIds: string[];
  /** What credit control granted the call (telephony/call-credit.ts); absent: not credit-controlled. */
  grant?: CallGrant;
  /**
   * Least-cost routing's decision (telephony/least-cost.ts): `carrierIds` are its candidates in order;
   * the trunk leg completes it and keeps it with the call record. Absent without cost decks to read.
   */
  decision?: RouteDecision;
  /** An emergency call (telephony/emergency.ts): `e164` is the number as dialled (`999`). */
  emergency?: EmergencyRoute;
}

/**
 * A call's authorisation by credit control: its reservation (null for an emergency call: never cut,
 * never billed) and the seconds from the answer it may last on what is held now.
 */
export interface CallGrant {
  reservationId: string | null;
  grantedSeconds: number | null;
  /** The longest duration pool and credits allow now (more slices must be reserved to reach it). */
  maxSeconds: number | null;
  /** Epoch ms of the authorisation (the rated record's start). */
  authorisedAt: number;
  /** The E.164 number authorised. */
  destination: string;
  callerCountry?: string;
}

/**
 * A dialled number a user of this server owns (telephony/on-net.ts): rung as a call to that user,
 * free, with no carrier. When the owner is of another tenant, each party sees the other by number
 * only: the caller sees `e164`, the callee the caller's number (none when `withheld`).
 */
export interface OnNetRoute {
  kind: 'on-net';
  /** The number's owner. */
  tenantId: string;
  userId: string;
  /** The number dialled, E.164. */
  e164: string;
  typed: string;
  /** The caller's own number (their caller ID), or null. */
  callerNumber: string | null;
  /** The caller withholds their number on this call. */
  withheld: boolean;
}

export type TrunkRoute = { kind: 'user'; userId: string } | OnNetRoute | NumberRoute;

export interface CallControlDeps {
  directory: CallDirectory;
  services?: CallServices;
  phones?: CallPhones;
  trunks?: CallTrunks;
  presence: Pick<PresenceService, 'get' | 'setActivity'>;
  records: CallRecordSink;
  limits: CallLimits;
  log: Logger;
  /** Runs the ring and grace timers (tests may pass a FakeClock). */
  clock?: Clock;
  /** Wall time, ms since the epoch (records and views). */
  now?: () => number;
}

/**
 * Candidates kept per call before the answer, for devices that start ringing later. A browser gathers a
 * handful per network interface; past this the caller is refused (`limit_exceeded`), so one call cannot
 * grow without bound.
 */
export const MAX_EARLY_CANDIDATES = 64;

/** The directory's unscoped user records as call control reads them. */
export function callDirectory(
  d: Pick<Directory, 'findUserRecordById' | 'findUserRecordByAddress'>,
): CallDirectory {
  const out = (r: UserRecord | null): CallUser | null =>
    r && {
      id: r.id,
      tenantId: r.tenant_id,
      address: r.address,
      displayName: r.display_name,
      enabled: r.enabled === 1,
    };
  return {
    userById: async (id) => out(await d.findUserRecordById(id)),
    userByAddress: async (address) => out(await d.findUserRecordByAddress(address)),
  };
}
