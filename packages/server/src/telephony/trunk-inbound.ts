/**
 * Calls from the phone network (issue 18 item 4, inbound): the SIP listener hands over every INVITE
 * from a source the peer policy classed a carrier (an address on a trunk's allow-list, never
 * challenged); this gateway finds the number called and rings the number's user.
 *
 * ```
 *   INVITE from a carrier's address
 *     ├─ no trunk holds the source (a carrier only of the test lookups) ──────────▶ 404
 *     ├─ over the trunk's channel limit ────────────────────────────────────────▶ 503 + Retry-After
 *     ├─ the called number (Request-URI user part, else To) read as E.164 ──────▶ not one of this
 *     │    carrier's numbers, or given to no user of a tenant (or a disabled one) ▶ 404
 *     ├─ an offer sharing no codec with the trunk's list, or none Parley has ─────▶ 488
 *     │    (no offer at all, a late offer: our 200 offers, the ACK answers)
 *     └─ an InboundTrunkCall (trunk-in-call.ts): the user's browsers and phones ring
 * ```
 * Reading the called number, as carriers send it: `+447700900123`, `447700900123` (E.164 without
 * the `+`), `00447700900123` / national `07700 900123` in the dial-plan country of the carrier's
 * tenant (a tenant's own trunk) or, on an operator's trunk, in the countries of its numbers, `tel:` URIs, visual separators, `;npdi`-style parameters. The number must be
 * one of this carrier's: a carrier never rings another carrier's numbers, and a tenant's own trunk
 * never another tenant's.
 *
 * A number with no user assigned answers 404, as an unknown one: to the carrier and the caller the
 * number is not in service (480 would invite retries of a call that will never be taken).
 *
 * The caller is read from P-Asserted-Identity (RFC 3325, which carriers set for the network-verified
 * identity) or else From: its user part as E.164 when it reads as a number, digits as sent
 * otherwise, none for `anonymous` / withheld; its display name bounded and stripped of control
 * characters. The callee sees the number (or the name), never a Parley user.
 *
 * A flood from one carrier address is throttled by the peer policy before parsing (per address:
 * `PARLEY_SIP_CARRIER_RATE` and `..._TRANSACTIONS`, 503 with Retry-After beyond), so another
 * carrier's calls go on.
 */
import type { Logger } from 'pino';
import { ParleyError } from '@parley/protocol';
import {
  codecsOf,
  isSipUri,
  parseSdp,
  writeSdp,
  type IncomingInvite,
  type NameAddr,
  type SipRequest,
} from '@parley/sip';
import { isDialPlanCountry } from './dial-plan.ts';
import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import type { CarrierDirectory, TrunkCarrier } from './carriers.ts';
import type { NumberDirectory } from './numbers.ts';
import type { PhoneMedia } from '../sip/phone-media.ts';
import type { PhoneCallerLink } from '../sip/phone-ringing.ts';
import type { CallTrunkLeg } from '../calls/call-records.ts';
import { InboundTrunkCall, type InboundCallControl, type InboundCaller } from './trunk-in-call.ts';
import { inboundAnswer } from './trunk-codes.ts';
import { inboundIdentity } from './trunk-identity.ts';
import type { TrunkRegistrations } from './trunk-registration.ts';

export interface TrunkInboundDeps {
  carriers: Pick<CarrierDirectory, 'carrierBySource'>;
  /** Registration trunks: a call to our registered contact from the registrar is that trunk's. */
  registered?: Pick<TrunkRegistrations, 'carrierByContact'>;
  numbers: Pick<NumberDirectory, 'byNumber'>;
  /** Whether a user may be rung: exists, enabled, in that tenant. */
  userEnabled(tenantId: string, userId: string): Promise<boolean>;
  /** A tenant's dial-plan country (for national numbers on its own trunk), or ''. */
  dialPlanCountry(tenantId: string): Promise<string>;
  /** The countries of a carrier's numbers (national numbers on an operator's trunk). */
  numberCountries?(carrierId: string): Promise<string[]>;
  control: InboundCallControl;
  media: PhoneMedia;
  records: { carrierLeg(callId: string, d: CallTrunkLeg): Promise<void> };
  /** Tells the phone calls which calls the carrier placed (a phone answering joins RTP to RTP). */
  link?(callId: string, link: PhoneCallerLink | null): void;
  /** No WebRTC offer when only phones ring (see InboundCallContext.webRtcOnDemand). */
  webRtcOnDemand?: boolean;
  /** Seconds a carrier is asked to wait when a trunk is full (Retry-After). */
  retryAfterS: number;
  log: Logger;
}

/** The SIP status of a refused place, by error code. */
const REFUSAL: Record<string, [number, string]> = {
  not_found: [404, 'Not Found'],
  limit_exceeded: [486, 'Busy Here'],
  unavailable: [503, 'Service Unavailable'],
  invalid_sdp: [488, 'Not Acceptable Here'],
};

export class TrunkInbound {
  /** Calls in progress per carrier id (the channel limit), and in all. */
  private readonly channels = new Map<string, Set<InboundTrunkCall>>();
  private requestIds = 0;
  private readonly nextRequestId = () => ++this.requestIds;

  constructor(private readonly d: TrunkInboundDeps) {}

  /** Inbound calls in progress (tests check none is left). */
  get size(): number {
    let n = 0;
    for (const s of this.channels.values()) n += s.size;
    return n;
  }

  /** The listener's hook: an INVITE from a carrier's address. */
  async invite(inv: IncomingInvite): Promise<void> {
    const source = inv.tx.peer.address;
    const ruri = inv.request.uri as { user?: string };
    let carrier = this.d.carriers.carrierBySource(source);
    // To a registered contact the Request-URI is that contact: the number called is in To.
    const byContact = carrier ? undefined : this.d.registered?.carrierByContact(ruri.user, source);
    carrier ??= byContact;
    const refuse = (why: 'unknown_number' | 'channel_limit', headers: Array<[string, number]> = []) => {
      const { code, text } = inboundAnswer(why);
      inv.reject(code, { reason: text, headers });
    };
    if (!carrier) return refuse('unknown_number');
    const open = this.channels.get(carrier.id);
    if (carrier.channelLimit !== null && (open?.size ?? 0) >= carrier.channelLimit)
      return refuse('channel_limit', [['Retry-After', this.d.retryAfterS]]);
    const callee = await this.callee(inv.request, carrier, byContact !== undefined);
    if (!callee) return refuse('unknown_number');
    // No offer (a late offer, RFC 3261 section 13.2.1): our 200 offers, the carrier's ACK answers.
    const lateOffer = inv.request.body.length === 0;
    const offer = lateOffer ? '' : narrowOffer(inv.request.body.toString(), carrier.codecs);
    if (offer === null) return inv.reject(488, { reason: 'Not Acceptable Here' });
    let rtp;
    try {
      rtp = lateOffer ? await this.d.media.offerRtp() : await this.d.media.answerRtp(offer);
    } catch (err) {
      this.d.log.debug({ err }, 'carrier offer refused');
      return inv.reject(488, { reason: 'Not Acceptable Here' });
    }
    if (inv.state !== 'pending') return void rtp.close(); // cancelled meanwhile
    let set = this.channels.get(carrier.id);
    if (!set) this.channels.set(carrier.id, (set = new Set()));
    const call: InboundTrunkCall = new InboundTrunkCall(
      {
        control: this.d.control,
        media: this.d.media,
        records: this.d.records,
        log: this.d.log,
        webRtcOnDemand: this.d.webRtcOnDemand,
        track: (callId, c) => this.d.link?.(callId, c),
        done: (c) => {
          const s = this.channels.get(c.carrierId);
          s?.delete(c);
          if (s?.size === 0) this.channels.delete(c.carrierId);
        },
        nextRequestId: this.nextRequestId,
      },
      inv,
      carrier.id,
      callee.tenantId,
      callee.userId,
      rtp,
      callerOf(inv.request),
      lateOffer,
    );
    set.add(call);
    try {
      await call.place();
    } catch (err) {
      const [status, reason] = (err instanceof ParleyError && REFUSAL[err.code]) || [
        500,
        'Server Internal Error',
      ];
      if (status === 500) this.d.log.warn({ err }, 'inbound call could not be placed');
      inv.reject(status, { reason });
    }
  }

  /** The user a carrier's INVITE calls: a number of this carrier's, given to an enabled user. */
  private async callee(
    req: SipRequest,
    carrier: TrunkCarrier,
    toContact = false,
  ): Promise<{ tenantId: string; userId: string } | null> {
    const typed = toContact ? numberIn(req.to.uri) : calledDigits(req);
    if (typed === null) return null;
    // A national number needs a country: a tenant's trunk has its tenant's dial plan; an operator's
    // trunk, the countries of its own numbers (only looked up for digits that are no E.164).
    const country = carrier.tenantId ? await this.d.dialPlanCountry(carrier.tenantId) : '';
    const candidates = e164Candidates(typed, country);
    if (!carrier.tenantId && typed.startsWith('0') && this.d.numberCountries)
      for (const c of await this.d.numberCountries(carrier.id))
        for (const e164 of e164Candidates(typed, c)) if (!candidates.includes(e164)) candidates.push(e164);
    for (const e164 of candidates) {
      const n = await this.d.numbers.byNumber(e164);
      if (!n) continue;
      if (n.carrierId !== carrier.id || n.tenantId === null || n.userId === null) return null;
      if (carrier.tenantId !== null && carrier.tenantId !== n.tenantId) return null;
      if (!(await this.d.userEnabled(n.tenantId, n.userId))) return null;
      return { tenantId: n.tenantId, userId: n.userId };
    }
    return null;
  }
}

/** Visual separators in a number as carriers and people write it. */
const SEPARATORS = /[\s\u00a0().\-/]/g;
/** A dialable number: digits with an optional leading `+` (and at most 20 digits, E.164 has 15). */
const NUMBERISH = /^\+?[0-9]{1,20}$/;

/** A URI's user part, or a tel: URI's number, without parameters and separators. */
function numberIn(uri: { toString(): string } & object): string | null {
  let raw: string | undefined;
  if (isSipUri(uri as never)) raw = (uri as { user?: string }).user;
  else {
    const text = uri.toString();
    if (/^tel:/i.test(text)) raw = text.slice(4);
  }
  if (!raw) return null;
  let text: string;
  try {
    text = decodeURIComponent(raw.split(';')[0]!);
  } catch {
    return null;
  }
  text = text.replace(SEPARATORS, '');
  return NUMBERISH.test(text) ? text : null;
}

/** The number a carrier's INVITE calls: the Request-URI's user part, else the To's. */
export function calledDigits(req: SipRequest): string | null {
  return numberIn(req.uri) ?? numberIn(req.to.uri);
}

/**
 * The E.164 numbers digits may stand for, most likely first: `+...` as is; bare digits as E.164
 * without the `+`, then (with a dial-plan country) as `00`-prefixed international or national.
 */
/** The countries of E.164 numbers (distinct, in order), for reading national numbers. */
export function countriesOf(numbers: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of numbers) {
    try {
      const c = parsePhoneNumberWithError(n).country;
      if (c && !out.includes(c)) out.push(c);
    } catch {
      // not a number libphonenumber reads: no country
    }
  }
  return out;
}

export function e164Candidates(digits: string, country: string): string[] {
  if (digits.startsWith('+')) return [digits];
  const out: string[] = [];
  if (!digits.startsWith('0')) out.push(`+${digits}`);
  if (digits.startsWith('00')) out.push(`+${digits.slice(2)}`);
  if (isDialPlanCountry(country)) {
    try {
      const p = parsePhoneNumberWithError(digits, country as CountryCode);
      if (p.isValid() && !out.includes(p.number)) out.push(p.number);
    } catch {
      // not a national number of that country
    }
  }
  return out;
}

/** Digits as E.164 when they read as a valid number (with the `+` or without), else as sent. */
function asE164(digits: string): string {
  if (digits.startsWith('0')) return digits;
  const plus = digits.startsWith('+') ? digits : `+${digits}`;
  try {
    return parsePhoneNumberWithError(plus).isValid() ? plus : digits;
  } catch {
    return digits;
  }
}

/**
 * The carrier's offer narrowed to the one codec we answer (RFC 3264 section 6.1 lets the answerer
 * pick): the first it offers that the trunk allows, so a carrier offering PCMA first is answered
 * PCMA (the driver's own preference is PCMU first). telephone-event is kept. Null: no codec shared
 * (488). An offer that does not parse is passed on as it is (the driver answers it 488).
 */
export function narrowOffer(sdp: string, allowed: readonly string[]): string | null {
  let desc;
  try {
    desc = parseSdp(sdp);
  } catch {
    return sdp;
  }
  const audio = desc.media.find((m) => m.type === 'audio');
  if (!audio) return sdp;
  const offered = codecsOf(audio);
  const want = new Set(allowed.map((c) => c.toUpperCase()));
  const chosen = offered.find((c) => want.has(c.name.toUpperCase()));
  if (!chosen) return null;
  const keep = new Set([
    chosen.payload,
    ...offered.filter((c) => c.name.toLowerCase() === 'telephone-event').map((c) => c.payload),
  ]);
  audio.payloads = String(audio.payloads ?? '')
    .split(' ')
    .filter((p) => p !== '' && keep.has(Number(p)))
    .join(' ');
  audio.rtp = audio.rtp.filter((r) => keep.has(r.payload));
  audio.fmtp = audio.fmtp.filter((f) => keep.has(f.payload));
  return writeSdp(desc);
}

/** Display names are bounded and plain (no control characters) before anyone sees them. */
const MAX_NAME = 64;

/**
 * Who called: P-Asserted-Identity (RFC 3325), else Remote-Party-ID, else From, the first naming a
 * number. A caller asking privacy (`Privacy: id`, RPID `privacy=full`) is shown no number or name
 * (trunk-identity.ts reads the headers; a malformed one is ignored).
 */
export function callerOf(req: SipRequest): InboundCaller {
  const id = inboundIdentity(req);
  if (id.withheld) return { number: null, displayName: null };
  const candidates = [id.asserted, id.rpid?.addr, req.from].filter(
    (a): a is NameAddr => a !== undefined && a !== null,
  );
  let number: string | null = null;
  for (const a of candidates) {
    const digits = numberIn(a.uri);
    if (digits) {
      number = asE164(digits);
      break;
    }
  }
  const rawName = candidates.map((a) => a.displayName).find((n) => n !== undefined && n.trim() !== '');
  const name = rawName
    ?.replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, MAX_NAME);
  const displayName = name && !/^(anonymous|restricted|unavailable|withheld)$/i.test(name) ? name : null;
  return { number, displayName };
}
