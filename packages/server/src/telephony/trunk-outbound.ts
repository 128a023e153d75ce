/**
 * Calls out to the phone network (issue 18 item 4, outbound): a number target of `call.place` (a
 * browser's dial pad, or a phone dialling a number) read through the tenant's dial plan, then rung
 * as one server-side device of call control, the trunk leg, which is Parley as a back-to-back user
 * agent (RFC 7092) placing its own INVITE on a carrier: never a proxy, so the call can be controlled,
 * recorded and rated.
 *
 * ```
 *   call.incoming ─▶ RTP offer (carrier's codec order) ─▶ INVITE ─▶ 100 ─▶ 180 / 183 (SDP) ─▶ 200 OK
 *                                                                   │ early media:     │
 *                                        WebRTC answer, bridge, ◀───┘ call.sdp answer  │
 *                                        ringback reaches the caller                   ▼
 *                                                               call.answer (the same WebRTC answer)
 *   call.update ended ──▶ CANCEL while it rings (a 200 crossing it: ACK then BYE), BYE once answered
 *   3xx-6xx ──▶ the call ends with trunk-codes.ts's reason (486 busy, 480 unavailable, 404 ...)
 *   BYE from the carrier ──▶ the call ends `hangup` (ended by nobody of ours)
 * ```
 * A call a phone placed (phone-caller.ts) is joined RTP to RTP instead: at a 183 with SDP the phone
 * gets a 183 of ours (`PhoneCallerLink.earlyMedia`), at the 200 its INVITE is answered, and call
 * control gets the anchored answer only that phone's leg sees.
 * What the SIP stack does for this leg (packages/sip): the carrier's Record-Route becomes the
 * dialog's route set (RFC 3261 section 12.1.2) so ACK, BYE and refreshes follow it; session timers
 * (RFC 4028) are asked for with `PARLEY_TRUNK_SESSION_EXPIRES` and the carrier's Session-Expires and
 * refresher honoured (we send the re-INVITE or UPDATE when we refresh); re-INVITEs and UPDATEs from
 * the carrier are answered with our description (a hold mirrored).
 *
 * Carrier choice: the enabled carriers that can reach the number (`carriersFor`: the tenant's own
 * first, then the operator's) in least-cost order (least-cost.ts: the cost deck's longest prefix, the
 * first minute's cost, then `preference`, then name; a carrier whose deck does not reach the number is
 * dropped), the first with a channel free and not down at every address (the OPTIONS health check,
 * trunk-health.ts); none free ends the call `busy`, none at all refuses the place with `no_route`.
 * Within the carrier the call tries its addresses in order, skipping down ones, and fails over to the
 * next on no answer within `failoverTimeoutS`, 503, 408 or a transport error. When the carrier fails
 * it (its last address so, or any 5xx) the call moves to the next candidate carrier, its channel with
 * it (least-cost.ts's CarrierChoice); answers about the callee (486, 404, 480, 603 ...) end it. The
 * decision (candidates, costs, chosen, skipped and why) goes to the record's `route_decision`.
 *
 * Caller ID: the user's number (`numberOfUser`) in the carrier's `callerIdFormat`, in From and
 * P-Asserted-Identity (RFC 3325: carriers authenticating by IP trust it); a user without a number
 * calls as anonymous with `Privacy: id` (RFC 3323).
 */
import type { Logger } from 'pino';
import { ParleyError, type CallEndReason, type CallServerFrame, type IceCandidate } from '@parley/protocol';
import type {
  InviteSession,
  OutgoingInvite,
  SipResponse,
  TransportProtocol,
  UserAgentCore,
} from '@parley/sip';
import { SipRequestFailed } from '@parley/sip';
import type { CallTrunks, NumberRoute, TrunkRoute } from '../calls/call-control.ts';
import type { CallTrunkLeg } from '../calls/call-records.ts';
import type { CallSession } from '../realtime/session.ts';
import type { PhoneMedia, PhoneMediaLeg } from '../sip/phone-media.ts';
import {
  ANCHORED_ANSWER,
  answerReoffer,
  sendFrame,
  type OutgoingFrame,
  type PhoneCallControl,
  type PhoneCallerLink,
} from '../sip/phone-ringing.ts';
import type { CallCredit, CreditLeg } from './call-credit.ts';
import type { CarrierDirectory, TrunkAddress, TrunkCarrier } from './carriers.ts';
import { dial } from './dial-plan.ts';
import type { NumberDirectory } from './numbers.ts';
import { CarrierChoice, failsOverToNextCarrier, rankCarriers, type CostDecks } from './least-cost.ts';
import { onNetRoute } from './on-net.ts';
import { emergencyNumberOf } from './emergency-numbers.ts';
import { carrierFailure } from './trunk-codes.ts';
import { formatForCarrier, outboundIdentity, withholdPrefix } from './trunk-identity.ts';
import { firstCodec, orderCodecs, plainRtp } from './trunk-sdp.ts';
import type { TrunkStatusBoard } from './trunk-status.ts';
import type { SipTarget, TrunkResolver } from './trunk-dns.ts';
import { emergencyInviteParts, type EmergencyCalls } from './emergency.ts';

/** What a trunk leg needs of call control: a device's frames, and ending a call for the carrier's reason. */
export interface TrunkCallControl extends PhoneCallControl {
  failCall(session: CallSession, callId: string, reason: CallEndReason, detail?: string): boolean;
}

export interface TrunkOutboundDeps {
  ua: Pick<UserAgentCore, 'invite'>;
  control: TrunkCallControl;
  carriers: Pick<CarrierDirectory, 'carriersFor'>;
  numbers: Pick<NumberDirectory, 'numberOfUser' | 'byNumber'>;
  /** Whether the user withholds their number on every call out (their setting). */
  withholdsCallerId(tenantId: string, userId: string): Promise<boolean>;
  /** Prefixes that withhold the number on one call (`PARLEY_WITHHOLD_PREFIXES`: `*67`, `141`). */
  withholdPrefixes: readonly string[];
  /** The tenant's dial plan country (national numbers), '' when none is set. */
  dialPlanCountry(tenantId: string): Promise<string>;
  /** The tenant's user with this extension, when one has it (a dial pad's `201`). */
  userByExtension(tenantId: string, extension: string): Promise<{ userId: string } | null>;
  media: PhoneMedia;
  /** Where the carrier leg's record columns go (the call records' `carrierLeg`). */
  records(callId: string, t: CallTrunkLeg): void;
  /** The host of our From and P-Asserted-Identity (`PARLEY_SIP_ADDRESS`). */
  localHost: string;
  /** Session-Expires asked for, seconds (`PARLEY_TRUNK_SESSION_EXPIRES`). */
  sessionExpires: number;
  /** Resolves carrier addresses given as names (trunk-dns.ts); without it, addresses are IPs. */
  resolver?: Pick<TrunkResolver, 'targets'>;
  /** Which carrier addresses the health check has marked down (trunk-health.ts); none when absent. */
  status?: Pick<TrunkStatusBoard, 'isUp' | 'allDown'>;
  /**
   * Seconds an address has to answer an INVITE with anything (even 100 Trying) before the call is
   * tried on the carrier's next address (`PARLEY_TRUNK_FAILOVER_TIMEOUT`).
   */
  failoverTimeoutS?: number;
  /** The phone that placed the call, when one did: its RTP is joined to the carrier's, RTP to RTP. */
  phoneCaller(callId: string): PhoneCallerLink | undefined;
  /** Credit control on every call (call-credit.ts): authorised in `route`, kept and settled by the leg. */
  credit?: CallCredit;
  /** Billing's cost decks (least-cost.ts); without them carriers are tried in `carriersFor`'s order. */
  costs?: CostDecks;
  /** Emergency numbers, routed before anything else (emergency.ts); absent: none recognised. */
  emergency?: Pick<EmergencyCalls, 'route'>;
  log: Logger;
}

const PROTOCOL: Record<TrunkCarrier['transport'], TransportProtocol> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };

export class TrunkOutbound implements CallTrunks {
  /** The carriers routes named, by id (device() is synchronous: it reads them here). */
  private readonly known = new Map<string, TrunkCarrier>();
  /** Channels in use per carrier. */
  private readonly channels = new Map<string, number>();
  private readonly live = new Set<TrunkCall>();
  private requestIds = 0;
  private readonly nextRequestId = () => ++this.requestIds;

  constructor(private readonly d: TrunkOutboundDeps) {}

  /** Trunk legs ringing or in a call (tests check none is left). */
  get size(): number {
    return this.live.size;
  }

  /** Channels in use on a carrier. */
  inUse(carrierId: string): number {
    return this.channels.get(carrierId) ?? 0;
  }

  /** The carriers and channels a call's CarrierChoice (least-cost.ts) reads and takes. */
  private readonly book = {
    known: (id: string) => this.known.get(id),
    inUse: (id: string) => this.inUse(id),
    allDown: (c: TrunkCarrier) => this.d.status?.allDown(c.id, c.addresses) ?? false,
    take: (id: string) => void this.channels.set(id, this.inUse(id) + 1),
    release: (id: string) => {
      const n = this.inUse(id) - 1;
      if (n > 0) this.channels.set(id, n);
      else this.channels.delete(id);
    },
  };

  /**
   * What the dial plan reads in `typed`, and whether a withholding prefix came first.
   * `*67 020 7946 0999`: withheld on this call; the rest is what the dial plan reads. Digits that only
   * look like a prefix (`1 415 555 0100` from the US beside `141`) dial as typed.
   */
  private read(
    typed: string,
    plan: { country: string },
  ): { prefix: { rest: string; withheld: boolean }; dialled: ReturnType<typeof dial> } {
    const prefix = withholdPrefix(typed, this.d.withholdPrefixes);
    try {
      const dialled = dial(prefix.rest, plan);
      if (prefix.withheld && dialled.kind === 'extension') throw new Error('an extension is not withheld');
      return { prefix, dialled };
    } catch (err) {
      if (!prefix.withheld) throw err;
      return { prefix: { rest: typed, withheld: false }, dialled: dial(typed, plan) };
    }
  }

  /**
   * Whether `typed` would ring a user of this server on-net (a phone's call asks before placing it),
   * with nothing of a route's side effects: no carrier chosen, nothing authorised or held.
   */
  async isOnNet(caller: { tenantId: string; userId: string }, typed: string): Promise<boolean> {
    const country = await this.d.dialPlanCountry(caller.tenantId);
    if (emergencyNumberOf(typed, country, this.d.withholdPrefixes) !== null) return false;
    let dialled: ReturnType<typeof dial>;
    try {
      dialled = this.read(typed, { country }).dialled;
    } catch {
      return false;
    }
    if (dialled.kind === 'extension') return false;
    const owner = await this.d.numbers.byNumber(dialled.e164);
    return !!owner && owner.tenantId !== null && owner.userId !== null;
  }

  async route(caller: { tenantId: string; userId: string }, typed: string): Promise<TrunkRoute> {
    const plan = { country: await this.d.dialPlanCountry(caller.tenantId) };
    // An emergency number first: never an extension, never withheld, always allowed (emergency.ts).
    const emergency = await this.d.emergency?.route(caller, typed, plan.country);
    if (emergency) {
      for (const c of emergency.carriers) this.known.set(c.id, c);
      return emergency.route;
    }
    const { prefix, dialled } = this.read(typed, plan);
    if (dialled.kind === 'extension') {
      const u = await this.d.userByExtension(caller.tenantId, dialled.extension);
      if (!u)
        throw new ParleyError('not_found', `Nobody has extension ${dialled.extension}.`, { field: 'to' });
      return { kind: 'user', userId: u.userId };
    }
    // On-net first (on-net.ts): a number a user of this server owns rings them, before any carrier.
    const onNet = await onNetRoute(this.d, caller, dialled.e164, typed, async () =>
      prefix.withheld ? true : this.d.withholdsCallerId(caller.tenantId, caller.userId),
    );
    if (onNet) return onNet;
    const [carriers, callerNumber, withholds, decks] = await Promise.all([
      this.d.carriers.carriersFor(caller.tenantId, dialled.e164),
      this.d.numbers.numberOfUser(caller.tenantId, caller.userId),
      prefix.withheld ? true : this.d.withholdsCallerId(caller.tenantId, caller.userId),
      this.d.costs?.costDecksByCarrier(),
    ]);
    if (carriers.length === 0)
      throw new ParleyError('no_route', 'No carrier can take calls to phone numbers here.', { field: 'to' });
    for (const c of carriers) this.known.set(c.id, c);
    // Least-cost order (least-cost.ts): carriers whose cost deck does not reach the number drop out.
    const lcr = decks && rankCarriers(carriers, dialled.e164, decks, Date.now());
    if (lcr && lcr.carriers.length === 0)
      throw new ParleyError('no_route', `No carrier has a rate for ${dialled.e164}.`, { field: 'to' });
    // Before anything rings: a refusal (no credit, no licence...) is the place's answer.
    const grant = await this.d.credit?.authorise(caller, dialled.e164);
    return {
      ...(lcr && { decision: lcr.decision }),
      kind: 'number',
      e164: dialled.e164,
      typed,
      callerNumber,
      withheld: withholds,
      carrierIds: (lcr?.carriers ?? carriers).map((c) => c.id),
      ...(grant ? { grant } : {}),
    };
  }

  device(caller: { tenantId: string; userId: string }, route: NumberRoute): CallSession | null {
    // The call's own copy of the decision: it notes the carriers passed over and failed over from.
    const decision = route.decision && { ...route.decision, skipped: [...route.decision.skipped] };
    // An emergency call is never refused for want of a channel.
    const choice = new CarrierChoice(route.carrierIds, this.book, decision, route.emergency !== undefined);
    const carrier = choice.next();
    if (!carrier) {
      this.d.credit?.abandon(route.grant);
      return null;
    }
    const call = new TrunkCall(
      {
        ...this.d,
        nextRequestId: this.nextRequestId,
        choice,
        done: (t) => {
          if (this.live.delete(t)) choice.release();
        },
      },
      caller,
      carrier,
      route,
    );
    this.live.add(call);
    return call.session;
  }
}

export { formatForCarrier } from './trunk-identity.ts';

/** The failover timer ran out with no answer at all from the address. */
const FAILOVER = new Error('no answer from the carrier address');

/** A refusal the next address may not give: 503 (the SBC is out of service), 408, a transport error. */
function isFailoverStatus(err: unknown): boolean {
  return err instanceof SipRequestFailed && (err.status === 503 || err.status === 408);
}

function statusOf(err: unknown): string {
  if (!(err instanceof SipRequestFailed)) return String(err);
  if (!err.response) return err.status === 408 ? 'timeout' : 'transport error';
  return `${err.status} ${err.response.reason}`.trim();
}

interface TrunkContext extends TrunkOutboundDeps {
  nextRequestId(): number;
  /** The carrier the call is on, and the next when it fails (least-cost.ts). */
  choice: CarrierChoice;
  done(t: TrunkCall): void;
}

let keys = 0;

/** One call's carrier leg: the device call control rings for a number. */
class TrunkCall {
  readonly session: CallSession;
  private callId: string | null = null;
  private offer = '';
  private readonly early: IceCandidate[] = [];
  private invite: OutgoingInvite | null = null;
  /** Where this call's INVITEs go, in order (the carrier's addresses, names resolved). */
  private targets: SipTarget[] = [];
  private dialog: InviteSession | null = null;
  private rtp: PhoneMediaLeg | null = null;
  private web: PhoneMediaLeg | null = null;
  /** The WebRTC answer made (early, on a 183 with SDP, or at the 200), once. */
  private answering: Promise<string> | null = null;
  private ended = false;
  /** The call's reservation kept alive, renewed and settled (call-credit.ts). */
  private credit: CreditLeg | null = null;

  constructor(
    private readonly ctx: TrunkContext,
    caller: { tenantId: string; userId: string },
    /** The carrier the call is on: the next candidate's after a failover across carriers. */
    private carrier: TrunkCarrier,
    private readonly route: NumberRoute,
  ) {
    // The trunk leg carries the caller's user: a number is no user (call control checks it by leg).
    this.session = {
      tenantId: caller.tenantId,
      userId: caller.userId,
      deviceKey: `trunk/${carrier.id}/${(++keys).toString(36)}`,
      kind: 'sip',
      push: (f) => this.push(f),
    };
  }

  private push(f: CallServerFrame): void {
    switch (f.t) {
      case 'call.incoming':
        if (this.callId) return;
        this.callId = f.call.id;
        this.offer = f.offer.sdp;
        this.early.push(...f.candidates);
        this.ctx.records(this.callId, {
          carrier: this.carrier.id,
          typed: this.route.typed,
          routeDecision: this.ctx.choice.decision,
        });
        this.credit =
          this.ctx.credit?.leg(
            this.session,
            this.route.grant,
            f.call.id,
            (w) => this.cutOff(w),
            () => void this.warn(),
          ) ?? null;
        void this.place()
          .then(async () => {
            if (!this.rtp || this.ended) return;
            this.targets = await this.resolveTargets();
            if (this.ended) return;
            if (this.targets.length === 0) return this.noTarget();
            return this.placeAt(0);
          })
          .catch((err: unknown) => this.fail(err));
        return;
      case 'call.ice':
        if (this.web) void this.web.addRemoteCandidate(f.candidate).catch(() => {});
        else this.early.push(f.candidate);
        return;
      case 'call.sdp':
        if (f.description.type === 'offer' && this.web && this.dialog)
          void answerReoffer(this.ctx, this.session, this.web, this.callId!, f.description.sdp).catch(
            (err: unknown) => this.fail(err),
          );
        return;
      case 'call.dtmf':
        this.rtp?.sendDtmf(f.digits);
        return;
      case 'call.update':
        if (f.call.state === 'ended') void this.stop();
        return;
    }
  }

  private async place(): Promise<void> {
    // The carrier's codecs in its order (the driver's offer; orderCodecs below for a driver that ignores it).
    const rtp = await this.ctx.media.offerRtp({ peerOffer: this.offer, codecs: this.carrier.codecs });
    this.rtp = rtp;
    if (this.ended) return void rtp.close();
    rtp.belongsTo?.(this.callId!);
    rtp.once('timeout', () => {
      if (this.callId && !this.ended) this.ctx.control.failCall(this.session, this.callId, 'media_timeout');
    });
    rtp.on('dtmf', (digit) => {
      if (this.dialog && this.callId)
        void this.send({ t: 'call.dtmf', callId: this.callId, digits: digit }).catch(() => {});
    });
  }

  /**
   * The carrier's addresses a call tries, in order: those the health check has not marked down
   * (every one when all are down: a stale verdict must not make the carrier unusable).
   */
  private addresses(): TrunkAddress[] {
    const all = this.carrier.addresses;
    const up = all.filter((a) => this.ctx.status?.isUp(this.carrier.id, a) ?? true);
    return up.length > 0 ? up : all;
  }

  /**
   * The addresses resolved to where the INVITEs go: IPs as they are, names by DNS (trunk-dns.ts: SRV,
   * else A records), a name whose lookup fails skipped for the next address.
   */
  private async resolveTargets(): Promise<SipTarget[]> {
    const addresses = this.addresses();
    if (!this.ctx.resolver) return addresses;
    const out: SipTarget[] = [];
    for (const a of addresses) {
      try {
        out.push(...(await this.ctx.resolver.targets([a], this.carrier.transport)));
      } catch (err) {
        this.ctx.log.warn({ err, carrier: this.carrier.id, host: a.host }, 'carrier address did not resolve');
      }
    }
    return out.filter((t, i) => out.findIndex((u) => u.host === t.host && u.port === t.port) === i);
  }

  /** No address of the carrier resolved to anywhere: the call ends as a carrier out of service. */
  private async noTarget(): Promise<void> {
    if (await this.nextCarrier('no address of the carrier resolves')) return;
    const callId = this.callId!;
    this.ctx.records(callId, { sipEndCode: 503, sipEndText: 'No address of the carrier resolves' });
    this.ctx.log.warn({ call: callId, carrier: this.carrier.id }, 'no address of the carrier resolves');
    await this.close();
    const failure = carrierFailure(503, '');
    this.ctx.control.failCall(this.session, callId, failure.reason, failure.words);
  }

  /**
   * The INVITE to the carrier's address number `attempt` (of `targets`). No answer at all within
   * `failoverTimeoutS` (not even 100 Trying), a 503, a 408 or a transport error moves the call to the
   * next address; only the last address's failure ends it.
   */
  private async placeAt(attempt: number): Promise<void> {
    const rtp = this.rtp!;
    const c = this.carrier;
    const addresses = this.targets;
    const address = addresses[attempt]!;
    const last = attempt === addresses.length - 1;
    // The last address of the last carrier has no failover timeout: nothing is left to try.
    const final = last && !this.ctx.choice.more;
    const callee =
      this.route.emergency?.number ??
      formatForCarrier(this.route.e164, c.callerIdFormat === 'national' ? 'e164' : c.callerIdFormat);
    const transport = c.transport === 'udp' ? '' : `;transport=${c.transport}`;
    const host = `${address.host}:${address.port}`;
    const identity = outboundIdentity({
      identity: this.route.emergency ? 'pai' : c.identity,
      callerIdFormat: c.callerIdFormat,
      callerNumber: this.route.callerNumber,
      withheld: this.route.withheld === true,
      localHost: this.ctx.localHost,
      divertedFrom: this.route.divertedFrom,
    });
    const sdp = plainRtp(orderCodecs(rtp.sdp, c.codecs));
    // An emergency call's location (PIDF-LO) when the carrier takes it.
    const located = this.route.emergency
      ? emergencyInviteParts(this.route.emergency, c, sdp, this.ctx.localHost, this.route.callerNumber)
      : null;
    const invite = this.ctx.ua.invite({
      target: `sip:${callee}@${host}${transport}`,
      to: `sip:${callee}@${host}`,
      from: identity.from,
      dest: { protocol: PROTOCOL[c.transport], address: address.host, port: address.port },
      sdp,
      body: located?.body,
      headers: located ? [...identity.headers, ...located.headers] : identity.headers,
      session: { sessionTimer: { sessionExpires: this.ctx.sessionExpires, minSE: 90 } },
      // A registration trunk challenges our INVITEs (401/407) for the account's credentials.
      credentials: c.registration
        ? {
            username: c.registration.authUsername ?? c.registration.username,
            password: c.registration.password,
          }
        : undefined,
    });
    this.invite = invite;
    this.ctx.log.debug(
      {
        call: this.callId,
        carrier: c.id,
        target: invite.request.uri.toString(),
        bytes: invite.request.body.length,
      },
      'INVITE to the carrier',
    );
    // Read when needed: the phone's leg is known to the service once its place has returned.
    const phone = () => this.ctx.phoneCaller(this.callId!);
    invite.on('progress', (res) => {
      if (this.invite !== invite) return; // an address failed over from: too late
      const caller = phone();
      if (caller) {
        // A phone caller gets the early media as a 183 of its own, RTP joined to RTP.
        if (res.status > 100 && res.body.length > 0 && !this.answering && !this.ended)
          void this.earlyToPhone(caller, res.body.toString()).catch((err: unknown) => this.fail(err));
        return;
      }
      this.ctx.log.debug({ call: this.callId, status: res.status }, 'carrier progress');
      // A 183 (or 180) with SDP is early media: the carrier's ringback or announcement.
      if (res.status > 100 && res.body.length > 0 && !this.answering && !this.ended)
        void this.earlyMedia(res).catch((err: unknown) => this.fail(err));
    });
    let dialog: InviteSession;
    try {
      dialog = await (final ? invite.answered : this.answeredOrFailover(invite));
    } catch (err) {
      if (this.ended) return;
      if (!last && (err === FAILOVER || isFailoverStatus(err)) && !this.answering) {
        const next = addresses[attempt + 1]!;
        this.ctx.log.warn(
          {
            call: this.callId,
            carrier: c.id,
            failed: host,
            next: `${next.host}:${next.port}`,
            why: err === FAILOVER ? `no answer within ${this.ctx.failoverTimeoutS ?? 4} s` : statusOf(err),
          },
          'carrier address failed: the call fails over to the next address',
        );
        return this.placeAt(attempt + 1);
      }
      // The carrier failed (5xx, 408, a transport error, no answer): the call moves to the next carrier.
      const failed = err === FAILOVER ? 'timeout' : err instanceof SipRequestFailed ? err.status : 0;
      if (!this.answering && failsOverToNextCarrier(failed)) {
        const why = err === FAILOVER ? `no answer within ${this.ctx.failoverTimeoutS ?? 4} s` : statusOf(err);
        if (await this.nextCarrier(why)) return;
      }
      const status = err instanceof SipRequestFailed ? err.status : 500;
      const text = err instanceof SipRequestFailed ? (err.response?.reason ?? '') : '';
      const failure = carrierFailure(status >= 300 ? status : 500, text);
      this.ctx.records(this.callId!, { sipEndCode: status, sipEndText: text || null });
      this.ctx.log.info({ call: this.callId, status, carrier: c.id }, 'carrier refused the call');
      const callId = this.callId!;
      await this.close();
      this.ctx.control.failCall(this.session, callId, failure.reason, failure.words);
      return;
    }
    this.dialog = dialog;
    this.credit?.answered();
    dialog.once('terminated', (reason) => {
      if (reason === 'local' || this.ended) return;
      this.ctx.records(this.callId!, {
        sipEndCode: 200,
        sipEndText: reason === 'bye' ? 'BYE from the carrier' : `ended: ${reason}`,
      });
      const callId = this.callId!;
      void this.close().then(() =>
        this.ctx.control.failCall(this.session, callId, reason === 'bye' ? 'hangup' : 'failed'),
      );
    });
    if (this.ended) return void dialog.bye().catch(() => {});
    const caller = phone();
    if (caller) return this.joinPhone(caller, dialog.remoteSdp?.toString() ?? '');
    const answer = await (this.answering ??= this.joinMedia(dialog.remoteSdp?.toString() ?? ''));
    if (this.ended) return;
    try {
      await this.send({ t: 'call.answer', callId: this.callId!, answer: { type: 'answer', sdp: answer } });
    } catch {
      await this.stop(); // too late: the caller gave up meanwhile
    }
  }

  /**
   * Failover across carriers: the call moves to the next candidate with a channel free and not down
   * (its channel with it, `CarrierChoice`), the record's carrier and decision follow, and its INVITE
   * goes to that carrier's first address. False when no carrier is left (or the call ended).
   */
  private async nextCarrier(why: string): Promise<boolean> {
    while (!this.ended) {
      const from = this.carrier;
      const c = this.ctx.choice.next(why);
      if (!c) {
        // None left: the record keeps that the last one failed too; the caller ends the call.
        this.ctx.records(this.callId!, { routeDecision: this.ctx.choice.decision });
        return false;
      }
      this.carrier = c;
      this.ctx.records(this.callId!, { carrier: c.id, routeDecision: this.ctx.choice.decision });
      this.ctx.log.warn(
        { call: this.callId, failed: from.id, why, next: c.id },
        'carrier failed: the call fails over to the next carrier',
      );
      this.targets = await this.resolveTargets();
      if (this.ended) return true;
      if (this.targets.length > 0) {
        await this.placeAt(0);
        return true;
      }
      why = 'no address of the carrier resolves';
    }
    return true;
  }

  /**
   * The INVITE's session, or FAILOVER when the address sends nothing (not even 100 Trying) within
   * `failoverTimeoutS`: that attempt is then cancelled (its CANCEL goes if a provisional ever comes,
   * and a late 200 is ACKed and ended with BYE by the SIP stack) and abandoned.
   */
  private answeredOrFailover(invite: OutgoingInvite): Promise<InviteSession> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = setTimeout(
        () => {
          timer = undefined;
          if (this.ended) return;
          invite.cancel();
          reject(FAILOVER);
        },
        (this.ctx.failoverTimeoutS ?? 4) * 1000,
      );
      const clear = () => {
        if (timer) clearTimeout(timer);
        timer = undefined;
      };
      invite.once('progress', clear);
      invite.answered.then(
        (s) => {
          clear();
          resolve(s);
        },
        (e: unknown) => {
          clear();
          reject(e);
        },
      );
    });
  }

  /**
   * A phone placed the call (phone-caller.ts): the carrier's RTP joins the phone's, anchored here,
   * and call control is answered with the anchored answer only that phone's leg sees.
   */
  private async joinPhone(phone: PhoneCallerLink, carrierSdp: string): Promise<void> {
    const rtp = this.rtp!;
    if (this.answering)
      await this.answering; // joined early already (its 183's description)
    else {
      await rtp.accept(carrierSdp);
      this.ctx.records(this.callId!, { carrierCodec: firstCodec(carrierSdp) });
    }
    try {
      await this.send({
        t: 'call.answer',
        callId: this.callId!,
        answer: { type: 'answer', sdp: ANCHORED_ANSWER },
      });
    } catch {
      return this.stop();
    }
    await phone.joinPhone(rtp);
  }

  /** A 183 with SDP to a call a phone placed: the carrier's RTP applied and joined to the phone's. */
  private async earlyToPhone(phone: PhoneCallerLink, carrierSdp: string): Promise<void> {
    if (!phone.earlyMedia) return;
    this.answering = (async () => {
      await this.rtp!.accept(carrierSdp);
      this.ctx.records(this.callId!, { carrierCodec: firstCodec(carrierSdp) });
      await phone.earlyMedia!(this.rtp!);
      return ANCHORED_ANSWER;
    })();
    await this.answering;
  }

  /** A 183 with SDP: the media joined now, and the caller's offer answered early (call.sdp). */
  private async earlyMedia(res: SipResponse): Promise<void> {
    this.answering = this.joinMedia(res.body.toString());
    const answer = await this.answering;
    if (this.ended || this.dialog) return;
    await this.send({ t: 'call.sdp', callId: this.callId!, description: { type: 'answer', sdp: answer } });
  }

  /** Applies the carrier's answer, answers the browser's offer with a WebRTC leg, joins the two. */
  private async joinMedia(carrierSdp: string): Promise<string> {
    const rtp = this.rtp!;
    await rtp.accept(carrierSdp);
    const carrierCodec = firstCodec(carrierSdp);
    const web = await this.ctx.media.answerWebRtc(this.offer, {
      peer: rtp,
      codecs: carrierCodec === 'PCMA' || carrierCodec === 'PCMU' ? [carrierCodec] : [],
    });
    this.web = web;
    if (this.ended) {
      await web.close();
      return web.sdp;
    }
    web.once('close', () => void this.hangup());
    for (const cand of this.early.splice(0)) await web.addRemoteCandidate(cand).catch(() => {});
    await this.ctx.media.bridge(web, rtp);
    this.ctx.records(this.callId!, { userCodec: firstCodec(web.sdp), carrierCodec });
    return web.sdp;
  }

  private send(f: OutgoingFrame): Promise<unknown> {
    return sendFrame(this.ctx, this.session, f);
  }

  private fail(err: unknown): void {
    if (!this.ended) this.ctx.log.warn({ err, call: this.callId }, 'trunk leg failed');
    const callId = this.callId;
    void this.stop().then(() => {
      if (callId) this.ctx.control.failCall(this.session, callId, 'failed');
    });
  }

  /** The browser's media closed by itself (ICE consent lost): the call ends. */
  private async hangup(): Promise<void> {
    if (this.ended) return;
    const callId = this.callId;
    await this.stop();
    if (callId) this.ctx.control.failCall(this.session, callId, 'failed');
  }

  /**
   * The call's credit runs out soon (its last slice was refused): the caller hears the warning tone
   * in place of the carrier's audio (the media driver's `warnPeer`: the leg joined to the carrier's).
   */
  private async warn(): Promise<void> {
    if (this.ended || !this.dialog) return;
    this.ctx.log.info({ call: this.callId }, 'credit runs out: the caller hears the warning tone');
    await this.rtp?.warnPeer?.().catch((err: unknown) => this.ctx.log.debug({ err }, 'no warning tone'));
  }

  /** The grant is over (credit control): BYE to the carrier, and the call ended for the caller. */
  private cutOff(words: string): void {
    const callId = this.callId;
    if (this.ended || !callId) return;
    void this.stop().then(() => {
      this.ctx.records(callId, { sipEndCode: 200, sipEndText: 'BYE from Parley: credit ran out' });
      this.ctx.control.failCall(this.session, callId, 'hangup', words);
    });
  }

  /** Our side ended it: CANCEL while it rings, BYE once answered; media closed. */
  private async stop(): Promise<void> {
    if (this.ended) return;
    if (this.callId) {
      if (this.dialog) this.ctx.records(this.callId, { sipEndCode: 200, sipEndText: 'BYE from Parley' });
      else this.ctx.records(this.callId, { sipEndCode: 487, sipEndText: 'Request Terminated' });
    }
    const dialog = this.dialog;
    const invite = this.invite;
    await this.close();
    if (dialog) await dialog.bye().catch(() => {});
    else invite?.cancel();
  }

  /** Closes both legs and gives the channel back (idempotent). */
  private async close(): Promise<void> {
    this.ended = true;
    void this.credit?.ended();
    this.ctx.done(this);
    await Promise.all([this.web?.close(), this.rtp?.close()]);
  }
}
