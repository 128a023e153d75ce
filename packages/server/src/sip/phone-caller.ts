/**
 * A call a phone places: its authenticated INVITE becomes a `call.place` from a server-side device (a
 * `CallSession` of kind `sip`), and the INVITE is answered when the callee answers (RFC 3261 section
 * 13.3: 180 while the callee rings, 200 with our RTP/AVP answer once connected, a failure status if
 * the call ends first).
 *
 * ```
 *   INVITE (RTP/AVP offer) ──▶ RTP answer made, WebRTC offer made ──▶ call.place ──▶ 180 Ringing
 *   browser answers: call.sdp {answer} ──▶ WebRTC answer applied, legs joined ──▶ 200 OK (RTP answer)
 *   phone answers (phone to phone): joinPhone(its RTP) ──▶ RTP joined to RTP ──▶ 200 OK
 *   CANCEL ──▶ call.hangup (cancelled)   call.update ended ──▶ 486 / 603 / 480 ... or BYE
 *   late offer: INVITE (no SDP) ──▶ RTP offer made ... answered ──▶ 200 OK (RTP offer)
 *               ──▶ ACK (RTP answer) applied ──▶ legs joined   (no answer in it ──▶ ended as failed, BYE)
 * ```
 * The WebRTC offer is made before anyone answers because the callee's browsers need an offer to ring;
 * it is closed unused when a phone answers.
 */
import type { AudioSource } from '@parley/media';
import type { Logger } from 'pino';
import { readRtpSdp } from '@parley/media';
import type { CallEndReason, CallServerFrame, CallTarget, CallView } from '@parley/protocol';
import type { IncomingInvite, InviteSession } from '@parley/sip';
import type { CallSession } from '../realtime/session.ts';
import { PHONES_ONLY_OFFER, type PhoneMedia, type PhoneMediaLeg } from './phone-media.ts';
import {
  ANCHORED_ANSWER,
  answerReoffer,
  sendFrame,
  type OutgoingFrame,
  type PhoneCallControl,
  type PhoneCallerLink,
} from './phone-ringing.ts';

/** The device a phone authenticated as. */
export interface CallingDevice {
  deviceId: string;
  tenantId: string;
  userId: string;
}

export interface CallerContext {
  control: PhoneCallControl;
  media: PhoneMedia;
  log: Logger;
  /**
   * Tells the service which calls a phone placed (the phones it rings look for their caller), by call
   * id, and by the WebRTC offer while call.place is in flight.
   */
  track(callIdOrOffer: string, caller: PhoneCaller | null): void;
  nextRequestId(): number;
  /**
   * WebRTC legs are made only when a browser takes part (the embedded driver): a call to a number then
   * gets no WebRTC offer, the trunk leg joining its RTP to this phone's. rtpengine pairs the legs from
   * the offer, so it keeps one.
   */
  webRtcOnDemand?: boolean;
  /**
   * What a phone hears of a refused place before the final answer, where early media is possible
   * (an offer in its INVITE): null for refusals that are not announced (only credit control's are).
   */
  refusalAnnouncement?(err: unknown): Promise<readonly AudioSource[] | null>;
}

/** The SIP final status for a call that ended before it was answered (RFC 3261 section 21). */
export function statusForEnd(reason: CallEndReason | null): [number, string] {
  switch (reason) {
    case 'busy':
      return [486, 'Busy Here'];
    case 'declined':
      return [603, 'Decline'];
    case 'do_not_disturb':
      return [480, 'Do Not Disturb'];
    case 'no_answer':
    case 'unavailable':
    case 'lost':
      return [480, 'Temporarily Unavailable'];
    case 'cancelled':
      return [487, 'Request Terminated'];
    default:
      return [500, 'Server Internal Error'];
  }
}

let keys = 0;

export class PhoneCaller implements PhoneCallerLink {
  readonly session: CallSession;
  private callId: string | null = null;
  private web: PhoneMediaLeg | null = null;
  private dialog: InviteSession | null = null;
  private ended = false;
  private anchored = false;
  /** Joined early to the callee's media (a carrier's 183): the answer only sends the 200. */
  private joinedEarly = false;

  constructor(
    private readonly ctx: CallerContext,
    private readonly inv: IncomingInvite,
    device: CallingDevice,
    private readonly rtp: PhoneMediaLeg,
    /** The INVITE had no offer: `rtp.sdp` is our offer (in the 200), the phone answers in its ACK. */
    private readonly lateOffer = false,
  ) {
    this.session = {
      tenantId: device.tenantId,
      userId: device.userId,
      deviceKey: `sip/${device.deviceId}/in/${(++keys).toString(36)}`,
      kind: 'sip',
      push: (f) => this.push(f),
    };
    inv.once('cancelled', () => void this.hangup());
    rtp.on('dtmf', (digit) => {
      if (!this.anchored && this.dialog && this.callId)
        void this.send({ t: 'call.dtmf', callId: this.callId, digits: digit }).catch(() => {});
    });
    rtp.once('timeout', () => {
      if (this.callId && !this.ended) this.ctx.control.endCall(this.session, this.callId, 'media_timeout');
    });
  }

  /**
   * Places the call. Resolves with the caller's view (ringing, or ended at once); a refusal rejects
   * with the coded ParleyError (the service answers the INVITE with its status).
   */
  async place(to: CallTarget): Promise<CallView> {
    // A number's trunk leg joins this phone's RTP to the carrier's: a WebRTC offer would go unread.
    const web =
      this.ctx.webRtcOnDemand && 'number' in to ? null : await this.ctx.media.offerWebRtc({ peer: this.rtp });
    const offer = web?.sdp ?? PHONES_ONLY_OFFER;
    this.web = web;
    web?.once('close', () => {
      if (!this.anchored) void this.hangup();
    });
    this.ctx.control.attachDevice(this.session);
    let view: CallView;
    // Phones rung while call.place is in flight find this caller by its WebRTC offer (the call id
    // is not known yet): they are offered the codecs this phone can pass through (G.722).
    if (web) this.ctx.track(offer, this);
    try {
      view = (await this.send({
        t: 'call.place',
        to,
        video: false,
        offer: { type: 'offer', sdp: offer },
      })) as CallView;
    } catch (err) {
      await this.announceRefusal(err);
      await this.close();
      throw err;
    } finally {
      if (web) this.ctx.track(offer, null);
    }
    if (view.state === 'ended') {
      this.finish(view.endReason);
      return view;
    }
    this.callId = view.id;
    this.rtp.belongsTo?.(view.id);
    this.ctx.track(view.id, this);
    if (!this.ended) this.inv.progress(180);
    return view;
  }

  /**
   * A refused place heard as early media (RFC 3960): a 183 with our answer, the announcement on this
   * phone's RTP, then the caller's final answer (phone-calls.ts). Nothing when the phone made no
   * offer, the refusal is not announced, the driver cannot play, or the phone gave up meanwhile.
   */
  private async announceRefusal(err: unknown): Promise<void> {
    if (this.lateOffer || !this.rtp.play || this.inv.state !== 'pending') return;
    const sources = await this.ctx.refusalAnnouncement?.(err).catch(() => null);
    if (!sources || sources.length === 0 || this.inv.state !== 'pending') return;
    this.inv.progress(183, { body: this.rtp.sdp, contentType: 'application/sdp' });
    await this.rtp.play(sources).catch((e: unknown) => this.ctx.log.debug({ err: e }, 'no announcement'));
  }

  private push(f: CallServerFrame): void {
    switch (f.t) {
      case 'call.sdp':
        // A phone's answer (ANCHORED_ANSWER) is followed by joinPhone: its media come that way.
        if (f.description.sdp === ANCHORED_ANSWER) return;
        if (f.description.type === 'answer' && !this.dialog && !this.anchored)
          void this.browserAnswered(f.description.sdp).catch((err: unknown) => this.fail(err));
        else if (f.description.type === 'offer' && this.web && this.dialog)
          void this.renegotiate(f.description.sdp);
        return;
      case 'call.ice':
        if (this.web && !this.anchored) void this.web.addRemoteCandidate(f.candidate).catch(() => {});
        return;
      case 'call.dtmf':
        this.rtp.sendDtmf(f.digits);
        return;
      case 'call.update':
        if (f.call.state === 'ended') this.finish(f.call.endReason);
        return;
    }
  }

  /** A browser answered: our WebRTC offer is complete, the two legs are joined, the phone gets 200. */
  /** The phone's INVITE offered G.722 (RFC 3551 static type 9): a phone it calls is offered it first. */
  get offersG722(): boolean {
    if (this.lateOffer) return false;
    try {
      return readRtpSdp(this.inv.request.body.toString(), 'offer', ['G722']).codecs.length > 0;
    } catch {
      return false;
    }
  }

  private async browserAnswered(answer: string): Promise<void> {
    await this.web!.accept(answer);
    const web = this.web!;
    this.accept(() => this.ctx.media.bridge(web, this.rtp));
  }

  /** Another phone answered (phone to phone): its RTP joins ours; the WebRTC offer was for nothing. */
  async joinPhone(other: PhoneMediaLeg): Promise<void> {
    this.anchored = true;
    await this.web?.close();
    this.web = null;
    if (this.ended) return;
    if (this.joinedEarly) return this.accept(() => {});
    // Joining may change our description (rtpengine moves this phone into the callee's call): the
    // 200 carries it once joined. A late offer joins once the ACK brings the phone's answer.
    if (this.lateOffer) return this.accept(() => void this.ctx.media.bridge(this.rtp, other));
    // The callee took G.722 and so did we offer it: the caller's answer (not sent yet) is re-made
    // with G722 so the bridge passes it through; otherwise the caller keeps its G.711 answer.
    if (other.codec?.() === 'G722' && this.offersG722)
      this.rtp.reanswer?.(this.inv.request.body.toString(), ['G722']);
    await this.ctx.media.bridge(this.rtp, other);
    if (!this.ended) this.accept(() => {});
  }

  /**
   * A carrier's early media (RFC 3960): its RTP joins ours before the answer and the phone gets 183
   * with our answer (RFC 3261 section 13.3.1.1). A late offer has no answer to send early: it waits.
   */
  async earlyMedia(other: PhoneMediaLeg): Promise<void> {
    if (this.ended || this.lateOffer || this.joinedEarly || this.dialog) return;
    this.anchored = true;
    await this.web?.close();
    this.web = null;
    if (this.ended) return;
    await this.ctx.media.bridge(this.rtp, other);
    this.joinedEarly = true;
    if (!this.ended) this.inv.progress(183, { body: this.rtp.sdp, contentType: 'application/sdp' });
  }

  /**
   * Answers the INVITE with our RTP description and joins the legs (`join`): at once when that
   * description is our answer, once the ACK brings the phone's answer when it is our offer.
   */
  private accept(join: () => void): void {
    if (this.ended) return;
    if (!this.lateOffer) join();
    const dialog = this.inv.accept({ body: this.rtp.sdp });
    if (!dialog) return void this.hangup(); // cancelled meanwhile, or no Contact (answered 400)
    this.dialog = dialog;
    dialog.once('terminated', (reason) => {
      if (reason !== 'local') void this.hangup();
    });
    if (this.lateOffer) dialog.once('confirmed', () => void this.answeredInAck(dialog, join));
  }

  /**
   * A late offer's ACK arrived (RFC 3264 section 5): its body is the phone's answer to our 200's
   * offer. An ACK without one, or with one we cannot use, ends the call (BYE, RFC 3261 section
   * 13.2.2.4 asks the same of a UAC given an unusable answer): the record says it failed.
   */
  private async answeredInAck(dialog: InviteSession, join: () => void): Promise<void> {
    const answer = dialog.remoteSdp?.toString() ?? '';
    try {
      if (!answer) throw new Error('the ACK carried no answer to our offer');
      await this.rtp.accept(answer);
    } catch (err) {
      this.ctx.log.info({ err, call: this.callId }, 'a late-offer phone gave no usable answer');
      if (this.callId && !this.ended) this.ctx.control.endCall(this.session, this.callId, 'failed');
      return;
    }
    if (!this.ended) join();
  }

  private async renegotiate(offer: string): Promise<void> {
    await answerReoffer(this.ctx, this.session, this.web!, this.callId!, offer).catch((err: unknown) =>
      this.fail(err),
    );
  }

  private send(f: OutgoingFrame): Promise<unknown> {
    return sendFrame(this.ctx, this.session, f);
  }

  private fail(err: unknown): void {
    if (!this.ended) this.ctx.log.warn({ err, call: this.callId }, 'phone call failed');
    void this.hangup();
  }

  /** The phone ended it (CANCEL, BYE, its media closed): call control hears a hang-up. */
  private async hangup(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.dialog) await this.dialog.bye().catch(() => {});
    this.inv.reject(487);
    // Leaving call control ends the call as this phone's user hanging up (cancelled before the answer).
    await this.close();
  }

  /** The call ended on the server's side: the phone is told (a final status, or BYE). */
  private finish(reason: CallEndReason | null): void {
    if (this.ended) return;
    this.ended = true;
    if (this.dialog) void this.dialog.bye().catch(() => {});
    else {
      const [status, text] = statusForEnd(reason);
      this.inv.reject(status, { reason: text });
    }
    void this.close();
  }

  /** Closes both legs (idempotent) and leaves the service's table. */
  async close(): Promise<void> {
    this.ended = true;
    if (this.callId) this.ctx.track(this.callId, null);
    this.ctx.control.closed(this.session, true);
    await Promise.all([this.web?.close(), this.rtp.close()]);
  }
}
