/**
 * Emergency calls (issue 20 item 4). What a caller types is checked against the emergency numbers of
 * the tenant's dial plan country (emergency-numbers.ts) before anything else, so 999 is never read as
 * an extension and a withholding prefix before it is ignored. Such a call:
 *
 * - is always allowed: no licence, no credit, no channel limit asked (billing classes the number as
 *   emergency: free, never refused, never rated as a charge);
 * - goes to the carriers the tenant may use, those marked `emergency` first (else in their usual order),
 *   with the number as dialled in the Request-URI (`sip:999@carrier`);
 * - shows the caller's callback number in P-Asserted-Identity and From, never withheld: their own number,
 *   else the tenant's emergency callback number (emergency-store.ts);
 * - carries the caller's location (their site's address, or their own) as RFC 6442 PIDF-LO when the
 *   carrier is set to take it (`pidfLo`; pidf-lo.ts builds the body);
 * - alerts every tenant admin at once, whatever becomes of the call: a durable realtime event
 *   (`emergency.call`, shown by the web app) and an e-mail through the server's mailer, saying who
 *   called which number, when, and from where.
 *
 * trunk-outbound.ts asks `route` first and, for an emergency route, lets `inviteParts` add the
 * location to the INVITE; the rest of the carrier leg is that of any call out.
 */
import type { Logger } from 'pino';
import { civicAddressText, ParleyError } from '@parley/protocol';
import type { NumberRoute } from '../calls/call-control-deps.ts';
import type { EventLog } from '../realtime/event-log.ts';
import type { Mailer } from '../mail/mailer.ts';
import { trustedScope } from '../directory/scope.ts';
import type { CarrierDirectory, TrunkCarrier } from './carriers.ts';
import type { NumberDirectory } from './numbers.ts';
import type { CivicAddress, EmergencyStore } from './emergency-store.ts';
import { emergencyNumberOf } from './emergency-numbers.ts';
import { locationBody, pidfLo } from './pidf-lo.ts';

/** What a NumberRoute of an emergency call carries (call-control-deps.ts `NumberRoute.emergency`). */
export interface EmergencyRoute {
  /** The emergency number as dialled (`999`): the Request-URI's user part. */
  number: string;
  /** The caller's location, or null when none is kept for them. */
  location: CivicAddress | null;
}

export interface EmergencyDeps {
  carriers: Pick<CarrierDirectory, 'carriersFor'>;
  numbers: Pick<NumberDirectory, 'numberOfUser'>;
  store: Pick<EmergencyStore, 'callerLocation' | 'callbackNumber' | 'admins'>;
  events: Pick<EventLog, 'appendToMany'>;
  mailer: Pick<Mailer, 'send'>;
  /** The caller's name and address (for the alert). */
  user(tenantId: string, userId: string): Promise<{ displayName: string; address: string } | null>;
  /** Prefixes that withhold a number (`*67`): ignored before an emergency number. */
  withholdPrefixes: readonly string[];
  log: Logger;
  now?: () => number;
}

/** The carriers for an emergency call: those marked `emergency` first, each group in the given order. */
export function emergencyCarrierOrder(carriers: readonly TrunkCarrier[]): TrunkCarrier[] {
  return [...carriers.filter((c) => c.emergency === true), ...carriers.filter((c) => c.emergency !== true)];
}

/** A civic address in words, most specific first (the protocol's one wording). */
export const addressText = civicAddressText;

export class EmergencyCalls {
  constructor(private readonly d: EmergencyDeps) {}

  /**
   * The route of an emergency call when `typed` is an emergency number of `country` (else null): the
   * carriers to try, emergency ones first, and the NumberRoute with the callback number (never
   * withheld) and the location. The tenant admins are alerted now, also when no carrier can take it
   * (then `no_route` is thrown, as for any number).
   */
  async route(
    caller: { tenantId: string; userId: string },
    typed: string,
    country: string,
  ): Promise<{ route: NumberRoute; carriers: TrunkCarrier[] } | null> {
    const number = emergencyNumberOf(typed, country, this.d.withholdPrefixes);
    if (number === null) return null;
    const scope = trustedScope(caller.tenantId);
    const [carriers, own, tenantCallback, located] = await Promise.all([
      this.d.carriers.carriersFor(caller.tenantId, number),
      this.d.numbers.numberOfUser(caller.tenantId, caller.userId),
      this.d.store.callbackNumber(scope),
      this.d.store.callerLocation(scope, caller.userId),
    ]);
    const callback = own ?? tenantCallback;
    const ordered = emergencyCarrierOrder(carriers);
    this.d.log.warn(
      {
        tenant: caller.tenantId,
        user: caller.userId,
        number,
        callback,
        located: located !== null,
        carrier: ordered[0]?.id ?? null,
      },
      'emergency call',
    );
    void this.alert(caller, number, callback, located).catch((err: unknown) =>
      this.d.log.error({ err, tenant: caller.tenantId }, 'emergency call: alerting the admins failed'),
    );
    if (ordered.length === 0)
      throw new ParleyError(
        'no_route',
        `No carrier can take emergency calls here: ${number} was not called.`,
        {
          field: 'to',
        },
      );
    return {
      carriers: ordered,
      route: {
        kind: 'number',
        e164: number,
        typed,
        callerNumber: callback,
        withheld: false,
        carrierIds: ordered.map((c) => c.id),
        emergency: { number, location: located?.address ?? null },
      },
    };
  }

  /**
   * Tells every admin of the tenant: a realtime event each (kept in their event log, so an admin
   * who is away sees it when back) and one e-mail to them all. A failed mail is logged, never thrown.
   */
  async alert(
    caller: { tenantId: string; userId: string },
    number: string,
    callback: string | null,
    located: { address: CivicAddress; site: string | null } | null,
  ): Promise<void> {
    const scope = trustedScope(caller.tenantId);
    const [user, admins] = await Promise.all([
      this.d.user(caller.tenantId, caller.userId),
      this.d.store.admins(scope),
    ]);
    const at = new Date(this.d.now?.() ?? Date.now());
    const name = user?.displayName ?? 'A user';
    const where = located
      ? `${located.site ? `${located.site}: ` : ''}${addressText(located.address)}`
      : null;
    const text =
      `${name} called the emergency number ${number} at ${at.toISOString().slice(11, 16)} UTC` +
      (where ? ` from ${where}.` : '. No location is kept for them.');
    if (admins.length > 0)
      await this.d.events.appendToMany(
        scope,
        admins.map((a) => a.id),
        'emergency.call',
        {
          callerId: caller.userId,
          callerName: name,
          callerAddress: user?.address ?? '',
          number,
          callback,
          location: where,
          site: located?.site ?? null,
          at: at.toISOString(),
          text,
        },
      );
    const to = admins.map((a) => a.address);
    if (to.length === 0) return;
    const r = await this.d.mailer.send({
      to,
      subject: `Emergency call: ${name} called ${number}`,
      text: [
        `${name}${user ? ` <${user.address}>` : ''} called the emergency number ${number}.`,
        '',
        `When: ${at.toISOString()}`,
        `Callback number given: ${callback ?? 'none (set an emergency callback number, or give the user a number)'}`,
        `Location sent: ${where ?? 'none is kept for this user (set one in Emergency locations)'}`,
        '',
        'You get this mail because you are an administrator of the organisation in Parley.',
      ].join('\n'),
    });
    if (!r.ok)
      this.d.log.warn(
        { code: r.code, message: r.message, tenant: caller.tenantId },
        'emergency call: no e-mail',
      );
  }
}

/**
 * What an emergency call's INVITE adds to the carrier's: with a location and a carrier that takes it
 * (`pidfLo`), the multipart body (SDP + PIDF-LO) and the Geolocation headers; else nothing.
 */
export function emergencyInviteParts(
  e: EmergencyRoute,
  carrier: Pick<TrunkCarrier, 'pidfLo'>,
  sdp: string,
  localHost: string,
  callerNumber: string | null,
  at: Date = new Date(),
): { body?: { contentType: string; content: string }; headers: Array<[string, string]> } {
  if (!e.location || carrier.pidfLo !== true) return { headers: [] };
  const entity = `sip:${callerNumber ?? 'anonymous'}@${localHost}`;
  const doc = pidfLo({ entity, address: e.location, at, deviceId: 'parley' });
  const parts = locationBody(sdp, doc, localHost);
  return { body: { contentType: parts.contentType, content: parts.body }, headers: parts.headers };
}
