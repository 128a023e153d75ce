/**
 * Calls with phones (issue 16 item 3): Parley as a back-to-back user agent between its call control and
 * the SIP phones registered to its users. Two directions, one file each beside this one:
 * - ringing (phone-ringing.ts): a call to a user rings every browser and every registered contact at
 *   once (`devicesOf`, call control's `CallPhones`): one INVITE per contact, the first answer wins, the
 *   others get CANCEL with `Reason: SIP;cause=200;text="Call completed elsewhere"` (RFC 3326);
 * - placing (phone-caller.ts): a phone's authenticated INVITE is a call from its user's device, to a
 *   target read from the Request-URI within the caller's tenant (`invite`).
 * Media go through the bridge (phone-media.ts): browser legs WebRTC, phone legs RTP/AVP, phone to phone
 * anchored RTP to RTP. A phone's RFC 4733 digits reach the browser as `call.dtmf` pushes and the
 * browser's `call.dtmf` frames reach the phone as RFC 4733; a phone whose media stop for
 * `PARLEY_MEDIA_TIMEOUT` ends the call as `media_timeout`. "In a call" needs nothing here: a phone's
 * leg carries its user like any device.
 *
 * Targets a phone may dial (the Request-URI's user part and host):
 * - an extension of the caller's tenant (`201`), looked up first;
 * - `user@host` where host is a tenant domain: that address (another tenant's user is refused 403);
 * - a bare user part at any other host (our address, a name the phone was given): that user in the
 *   caller's own domain;
 * - digits that are no extension, or `+` and digits: a phone number, read through the tenant's dial
 *   plan and called out through a carrier (telephony/trunk-outbound.ts).
 * Refusals become SIP statuses: not found 404, another tenant 403, yourself 403, over the per-user
 * limit 486, shutting down 503, a number the dial plan cannot read 484, no carrier for it 404;
 * credit control's refusals 402 (no credit) or 403/404 (no licence, class or premium barred, no
 * rate) with `Reason: Q.850;cause=...;text="..."` (RFC 3326) in the server's words, after a 183
 * whose early media say it (the information tone, then the words spoken) when the phone offered. A
 * call that ends before the answer answers the INVITE with the status of its reason (`statusForEnd`).
 *
 * An INVITE without an offer (a late offer, RFC 3261 section 13.2.1, RFC 3264 section 5) gets our
 * RTP/AVP offer in the 200 and the phone's answer in the ACK (phone-caller.ts); an ACK that brings no
 * usable answer ends the call with BYE (the phone's leg never had media).
 */
import type { Logger } from 'pino';
import type { AudioSource } from '@parley/media';
import { ParleyError, type CallTarget } from '@parley/protocol';
import { reasonHeader } from '../telephony/call-credit.ts';
import { isSipUri, type IncomingInvite, type UserAgentCore } from '@parley/sip';
import type { CallPhones, CallUser } from '../calls/call-control.ts';
import type { CallSession } from '../realtime/session.ts';
import { PhoneCaller, type CallingDevice } from './phone-caller.ts';
import type { PhoneMedia } from './phone-media.ts';
import {
  RingingPhone,
  type PhoneBinding,
  type PhoneCallControl,
  type PhoneCallerLink,
} from './phone-ringing.ts';

export type { PhoneBinding } from './phone-ringing.ts';

/** The registrar's lookup: a user's live bindings, and word of those that go away. */
export interface PhoneRegistrations {
  contactsOf(tenantId: string, userId: string): readonly PhoneBinding[];
  onChange?(listener: (change: { type: string; binding: { bindingId: string } }) => void): () => void;
}

/** The devices' lookups (SipDeviceDirectory): who a digest user name is, who an extension is. */
export interface PhoneDevices {
  deviceByUsername(
    domain: string,
    username: string,
  ): Promise<{ deviceId: string; tenantId: string; userId: string } | null>;
  userByExtension(tenantId: string, extension: string): Promise<{ userId: string } | null>;
}

export interface PhoneCallsDeps {
  ua: Pick<UserAgentCore, 'invite'>;
  control: PhoneCallControl;
  registrations: PhoneRegistrations;
  devices: PhoneDevices;
  media: PhoneMedia;
  /** No WebRTC offer for a phone's call to a number (CallerContext.webRtcOnDemand). */
  webRtcOnDemand?: boolean;
  /**
   * Whether a number the phone dials rings a user of this server (on-net, telephony/on-net.ts):
   * a browser may take that call, so the phone's call gets its WebRTC offer after all.
   */
  onNet?(caller: { tenantId: string; userId: string }, typed: string): Promise<boolean>;
  /** What a phone hears of a refused place before its final answer (phone-caller.ts); none when absent. */
  refusalAnnouncement?(err: unknown): Promise<readonly AudioSource[] | null>;
  /** Whether a domain is some tenant's. */
  isLocalDomain(domain: string): Promise<boolean>;
  log: Logger;
}

/** A phone that authenticated, in the domain (realm) it authenticated in. */
export interface AuthenticatedPhone extends CallingDevice {
  domain: string;
}

const EXTENSION = /^[0-9]{1,15}$/;

/** The SIP status of a refused place, by error code. */
const REFUSAL: Record<string, [number, string]> = {
  not_found: [404, 'Not Found'],
  not_in_tenant: [403, 'Forbidden'],
  validation_failed: [403, 'Forbidden'],
  limit_exceeded: [486, 'Busy Here'],
  unavailable: [503, 'Service Unavailable'],
  invalid_sdp: [488, 'Not Acceptable Here'],
  // A number the dial plan cannot read, and one no carrier reaches (calls out, trunk-outbound.ts).
  invalid_number: [484, 'Address Incomplete'],
  no_route: [404, 'No Route To Number'],
  // Credit control's refusals (telephony/call-credit.ts), with a Q.850 `Reason` naming why.
  insufficient_funds: [402, 'Payment Required'],
  no_licence: [403, 'Forbidden'],
  class_not_allowed: [403, 'Forbidden'],
  premium_blocked: [403, 'Forbidden'],
  no_rate: [404, 'No Route To Number'],
};

export class PhoneCalls implements CallPhones {
  /** Calls placed by phones, by call id (the phones they ring look for them: phone to phone). */
  private readonly placed = new Map<string, PhoneCallerLink>();
  /** Phones ringing or in a call, by binding (a binding that goes away stops ringing). */
  private readonly rung = new Map<string, Set<RingingPhone>>();
  private requestIds = 0;
  private readonly nextRequestId = () => ++this.requestIds;
  private readonly unsubscribe: () => void;

  constructor(private readonly d: PhoneCallsDeps) {
    this.unsubscribe =
      d.registrations.onChange?.((c) => {
        if (c.type !== 'removed') return;
        for (const p of [...(this.rung.get(c.binding.bindingId) ?? [])]) p.vanished();
      }) ?? (() => {});
  }

  /**
   * A call placed by a caller that is not a phone of ours but has an RTP leg (a carrier's INVITE,
   * telephony/trunk-in-call.ts): a phone answering it joins RTP to RTP, as phone to phone. Null forgets it.
   */
  link(callId: string, caller: PhoneCallerLink | null): void {
    if (caller) this.placed.set(callId, caller);
    else this.placed.delete(callId);
  }

  /** Stops listening to the registrations (the calls themselves end with call control). */
  close(): void {
    this.unsubscribe();
  }

  /** Calls placed by phones in progress (tests check none is left). */
  get size(): number {
    return this.placed.size + this.rung.size;
  }

  /** The phone that placed `callId`, when one did (a call out through a carrier joins its RTP). */
  callerOf(callId: string): PhoneCallerLink | undefined {
    return this.placed.get(callId);
  }

  /** Call control's `CallPhones`: a ringing device per registered contact of the callee. */
  devicesOf(callee: CallUser): CallSession[] {
    const ctx = {
      ua: this.d.ua,
      control: this.d.control,
      media: this.d.media,
      log: this.d.log,
      phoneCaller: (callId: string) => this.placed.get(callId),
      nextRequestId: this.nextRequestId,
      done: (p: RingingPhone) => {
        const set = this.rung.get(p.bindingId);
        set?.delete(p);
        if (set?.size === 0) this.rung.delete(p.bindingId);
      },
    };
    return this.d.registrations.contactsOf(callee.tenantId, callee.id).map((b) => {
      const phone = new RingingPhone(ctx, callee.tenantId, callee.id, b, `sip:${callee.address}`);
      let set = this.rung.get(b.bindingId);
      if (!set) this.rung.set(b.bindingId, (set = new Set()));
      set.add(phone);
      return phone.session;
    });
  }

  /**
   * The listener's hook: an INVITE whose digest proved `username` in `domain`. A user name that is no
   * device (any more) is refused 403, as a wrong password is.
   */
  async inviteFrom(inv: IncomingInvite, who: { domain: string; username: string }): Promise<void> {
    const device = await this.d.devices.deviceByUsername(who.domain, who.username);
    if (!device) return inv.reject(403, { reason: 'Forbidden' });
    return this.invite(inv, { ...device, domain: who.domain });
  }

  /** A phone's authenticated INVITE: placed as its user's call. */
  async invite(inv: IncomingInvite, phone: AuthenticatedPhone): Promise<void> {
    const target = await this.target(inv, phone);
    if (!target) return inv.reject(404, { reason: 'Not Found' });
    const onNet =
      this.d.webRtcOnDemand === true &&
      'number' in target &&
      (await this.d.onNet?.(phone, target.number).catch(() => false)) === true;
    // No offer (a late offer, RFC 3261 section 13.2.1): our 200 offers, the phone's ACK answers.
    const lateOffer = inv.request.body.length === 0;
    let rtp;
    try {
      rtp = lateOffer
        ? await this.d.media.offerRtp()
        : await this.d.media.answerRtp(inv.request.body.toString());
    } catch (err) {
      this.d.log.debug({ err }, 'phone offer refused');
      return inv.reject(488, { reason: 'Not Acceptable Here' });
    }
    if (inv.state !== 'pending') return void rtp.close(); // cancelled meanwhile
    const caller = new PhoneCaller(
      {
        control: this.d.control,
        media: this.d.media,
        log: this.d.log,
        track: (callId, c) => (c ? this.placed.set(callId, c) : this.placed.delete(callId)),
        nextRequestId: this.nextRequestId,
        webRtcOnDemand: this.d.webRtcOnDemand && !onNet,
        refusalAnnouncement: this.d.refusalAnnouncement,
      },
      inv,
      phone,
      rtp,
      lateOffer,
    );
    try {
      await caller.place(target);
    } catch (err) {
      const [status, reason] = (err instanceof ParleyError && REFUSAL[err.code]) || [
        500,
        'Server Internal Error',
      ];
      if (status === 500) this.d.log.warn({ err }, 'phone call could not be placed');
      const why = err instanceof ParleyError ? reasonHeader(err.code, err.message) : null;
      inv.reject(status, { reason, ...(why ? { headers: [['Reason', why]] } : {}) });
    }
  }

  /** The callee the Request-URI names (see the file's doc), or null when it names nobody. */
  private async target(inv: IncomingInvite, phone: AuthenticatedPhone): Promise<CallTarget | null> {
    const uri = inv.request.uri;
    if (!isSipUri(uri) || !uri.user) return null;
    const user = decodeURIComponent(uri.user).toLowerCase();
    if (EXTENSION.test(user)) {
      const u = await this.d.devices.userByExtension(phone.tenantId, user);
      if (u) return { userId: u.userId };
    }
    // Digits that are no extension (or start with +) are a phone number: the dial plan reads them.
    if (/^\+?[0-9]{2,32}$/.test(user)) return { number: user };
    const host = uri.host.toLowerCase();
    const domain = (await this.d.isLocalDomain(host)) ? host : phone.domain.toLowerCase();
    return { address: `${user}@${domain}` };
  }
}
