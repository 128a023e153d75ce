/**
 * One call from the phone network: a carrier's INVITE to a user's number, to call control a caller
 * device (a `CallSession` of kind `sip` whose caller party is the number, not a user), to the carrier
 * the UAS of its INVITE (RFC 3261 section 13.3) as Parley's back-to-back user agent.
 *
 * ```
 *   INVITE (RTP/AVP offer, PCMA first) ──▶ RTP answer made, WebRTC offer made ──▶ placeFromNumber
 *        ──▶ 180 Ringing (the user's browsers and phones ring)
 *   a browser answers: call.sdp {answer} ──▶ WebRTC answer applied, legs bridged ──▶ 200 OK (RTP answer)
 *   a phone answers (joinPhone): its RTP joined to the carrier's RTP ──▶ 200 OK
 *   CANCEL ──▶ the call ends `cancelled` (487 sent by the SIP stack)
 *   call.update ended before the answer ──▶ 480 (no answer, unavailable) / 603 (declined) / 486 (busy)
 *   connected: BYE from the carrier ──▶ call.hangup;  call ended here ──▶ BYE to the carrier
 *   late offer: INVITE (no SDP) ──▶ RTP offer made ... answered ──▶ 200 OK (RTP offer)
 *               ──▶ ACK (RTP answer) applied ──▶ legs joined   (no answer in it ──▶ ended as failed, BYE)
 * ```
 * re-INVITEs and UPDATEs inside the dialog (session refreshes, hold) are answered by the SIP stack's
 * INVITE session with our description (direction mirrored), and the carrier's Session-Expires is
 * honoured there too (RFC 4028: we refresh when it makes us the refresher, and end the call with BYE
 * when its refreshes stop). The record gets the carrier, both legs' codecs and the SIP code that
 * ended the carrier leg (the final answer we sent, or 200 for a BYE either way).
 */
import type { Logger } from 'pino';
import type { CallEndReason, CallServerFrame, CallView } from '@parley/protocol';
import { codecsOf, parseSdp, type IncomingInvite, type InviteSession } from '@parley/sip';
import type { CallSession } from '../realtime/session.ts';
import { PHONES_ONLY_OFFER, type PhoneMedia, type PhoneMediaLeg } from '../sip/phone-media.ts';
import {
  ANCHORED_ANSWER,
  answerReoffer,
  sendFrame,
  type OutgoingFrame,
  type PhoneCallControl,
  type PhoneCallerLink,
} from '../sip/phone-ringing.ts';
import type { CallTrunkLeg } from '../calls/call-records.ts';
import { inboundAnswer } from './trunk-codes.ts';

/** Call control as a call from a number needs it. */
export interface InboundCallControl extends PhoneCallControl {
  /** Whether the callee has a browser to ring (else no WebRTC offer is made: `webRtcOnDemand`). */
  ringsBrowser?(userId: string): boolean;
  placeFromNumber(
    s: CallSession,
    from: { number: string | null; displayName: string | null },
    calleeUserId: string,
    offer: { type: 'offer'; sdp: string },
  ): Promise<CallView>;
}

export interface InboundCallContext {
  control: InboundCallControl;
  media: PhoneMedia;
  records: { carrierLeg(callId: string, d: CallTrunkLeg): Promise<void> };
  log: Logger;
  /**
   * A callee with no browser to ring (only phones) gets no WebRTC offer: a WebRTC session costs about
   * 2 ms of CPU and 60 ms to gather, per call, for an offer no phone uses (the phone's RTP joins the
   * carrier's). Only for a driver whose phone legs ignore the browser's offer (the embedded one;
   * rtpengine pairs the phone's leg with it).
   */
  webRtcOnDemand?: boolean;
  /** Tells the trunks which calls are in progress (phones rung for one look for it: joinPhone). */
  track(callId: string, call: InboundTrunkCall | null): void;
  /** This call's part is over: its channel is free. */
  done(call: InboundTrunkCall): void;
  nextRequestId(): number;
}

/** Who called, as the carrier said it (trunk-inbound.ts reads it from From / P-Asserted-Identity). */
export interface InboundCaller {
  /** E.164 when it could be read as a number, the digits as sent otherwise; null: withheld. */
  number: string | null;
  displayName: string | null;
}

let keys = 0;

export class InboundTrunkCall implements PhoneCallerLink {
  readonly session: CallSession;
  private callId: string | null = null;
  private web: PhoneMediaLeg | null = null;
  private dialog: InviteSession | null = null;
  private ended = false;
  private anchored = false;

  constructor(
    private readonly ctx: InboundCallContext,
    private readonly inv: IncomingInvite,
    readonly carrierId: string,
    tenantId: string,
    private readonly calleeUserId: string,
    private readonly rtp: PhoneMediaLeg,
    private readonly caller: InboundCaller,
    /** The INVITE had no offer: `rtp.sdp` is our offer (in the 200), the carrier answers in its ACK. */
    private readonly lateOffer = false,
  ) {
    this.session = {
      tenantId,
      // No user: the caller is a phone number (call control's placeFromNumber).
      userId: '',
      deviceKey: `trunk/${carrierId}/${(++keys).toString(36)}`,
      kind: 'sip',
      push: (f) => this.push(f),
    };
    inv.once('cancelled', () => void this.hangup(487, 'Request Terminated'));
    rtp.on('dtmf', (digit) => {
      if (!this.anchored && this.dialog && this.callId)
        void this.send({ t: 'call.dtmf', callId: this.callId, digits: digit }).catch(() => {});
    });
    rtp.once('timeout', () => {
      if (this.callId && !this.ended) this.ctx.control.endCall(this.session, this.callId, 'media_timeout');
    });
  }

  /** Rings the number's user. Resolves with the caller's view; a refusal rejects with its ParleyError. */
  async place(): Promise<CallView> {
    let offer = PHONES_ONLY_OFFER;
    if (!this.ctx.webRtcOnDemand || (this.ctx.control.ringsBrowser?.(this.calleeUserId) ?? true)) {
      const web = await this.ctx.media.offerWebRtc({ peer: this.rtp });
      this.web = web;
      web.once('close', () => {
        if (!this.anchored) void this.hangup(200, 'BYE');
      });
      offer = web.sdp;
    }
    this.ctx.control.attachDevice(this.session);
    let view: CallView;
    try {
      view = await this.ctx.control.placeFromNumber(
        this.session,
        // A withheld caller has neither: the web app shows "Unknown caller".
        { number: this.caller.number, displayName: this.caller.displayName },
        this.calleeUserId,
        { type: 'offer', sdp: offer },
      );
    } catch (err) {
      await this.close();
      throw err;
    }
    this.callId = view.id;
    void this.ctx.records
      .carrierLeg(view.id, {
        carrier: this.carrierId,
        // Our answer's codec; a driver that completes the answer only once joined (rtpengine) has
        // none yet, and the 200's description is written when it goes out.
        carrierCodec: (!this.lateOffer && codecOf(this.rtp.sdp)) || undefined,
      })
      .catch((err: unknown) => this.ctx.log.warn({ err, call: view.id }, 'call record write failed'));
    if (view.state === 'ended') {
      this.finish(view.endReason);
      return view;
    }
    this.rtp.belongsTo?.(view.id);
    this.ctx.track(view.id, this);
    if (!this.ended) this.inv.progress(180);
    return view;
  }

  private push(f: CallServerFrame): void {
    switch (f.t) {
      case 'call.sdp':
        if (f.description.sdp === ANCHORED_ANSWER) return;
        if (f.description.type === 'answer' && !this.dialog && !this.anchored) {
          // A browser that connected while only phones rang took an offer with no media behind it.
          if (!this.web) return this.fail(new Error('a browser answered a phones-only offer'));
          void this.browserAnswered(f.description.sdp).catch((err: unknown) => this.fail(err));
        } else if (f.description.type === 'offer' && this.web && this.dialog)
          void answerReoffer(this.ctx, this.session, this.web, this.callId!, f.description.sdp).catch(
            (err: unknown) => this.fail(err),
          );
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

  /** A browser answered: our WebRTC offer is complete, the legs are joined, the carrier gets 200. */
  private async browserAnswered(answer: string): Promise<void> {
    await this.web!.accept(answer);
    const web = this.web!;
    this.accept(codecOf(answer), () => this.ctx.media.bridge(web, this.rtp));
  }

  /** A phone of the user answered: its RTP joins the carrier's; the WebRTC offer was for nothing. */
  async joinPhone(other: PhoneMediaLeg): Promise<void> {
    this.anchored = true;
    await this.web?.close();
    this.web = null;
    if (this.ended) return;
    // Joining may change our description (rtpengine moves the carrier into the phone's call): the
    // 200 carries it once joined. A late offer joins once the ACK brings the carrier's answer.
    if (this.lateOffer) return this.accept(codecOf(other.sdp), () => this.ctx.media.bridge(this.rtp, other));
    await this.ctx.media.bridge(this.rtp, other);
    if (!this.ended) this.accept(codecOf(other.sdp), () => {});
  }

  /**
   * Answers the carrier's INVITE with our RTP description and joins the legs (`join`): at once when
   * it is our answer, once the ACK brings the carrier's answer when it is our offer (late offer).
   */
  private accept(userCodec: string | null, join: () => void | Promise<void>): void {
    if (this.ended) return;
    if (!this.lateOffer) void join();
    const dialog = this.inv.accept({ body: this.rtp.sdp });
    if (!dialog) return void this.hangup(487, 'Request Terminated');
    this.dialog = dialog;
    this.write({ userCodec, ...(this.lateOffer ? {} : { carrierCodec: codecOf(this.rtp.sdp) }) });
    dialog.once('terminated', (reason) => {
      if (reason !== 'local') void this.hangup(200, reason === 'bye' ? 'BYE' : `ended: ${reason}`);
    });
    if (this.lateOffer) dialog.once('confirmed', () => void this.answeredInAck(dialog, join));
  }

  /**
   * A late offer's ACK arrived (RFC 3264 section 5): its body is the carrier's answer to our 200's
   * offer. None, or one we cannot use, ends the call with BYE (RFC 3261 section 13.2.2.4 asks the
   * same of a UAC given an unusable answer): the record says it failed.
   */
  private async answeredInAck(dialog: InviteSession, join: () => void | Promise<void>): Promise<void> {
    const answer = dialog.remoteSdp?.toString() ?? '';
    try {
      if (!answer) throw new Error('the ACK carried no answer to our offer');
      await this.rtp.accept(answer);
    } catch (err) {
      this.ctx.log.info({ err, call: this.callId }, 'a late-offer carrier gave no usable answer');
      if (this.callId && !this.ended) this.ctx.control.endCall(this.session, this.callId, 'failed');
      return;
    }
    this.write({ carrierCodec: codecOf(answer) });
    if (!this.ended) void join();
  }

  private send(f: OutgoingFrame): Promise<unknown> {
    return sendFrame(this.ctx, this.session, f);
  }

  private fail(err: unknown): void {
    if (!this.ended) this.ctx.log.warn({ err, call: this.callId }, 'inbound trunk call failed');
    void this.hangup(500, 'Server Internal Error');
  }

  /** The carrier's side ended it (CANCEL, BYE, its media closed): call control hears a hang-up. */
  private async hangup(code: number, text: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.write({ sipEndCode: code, sipEndText: text });
    if (this.dialog && this.dialog.state !== 'terminated') await this.dialog.bye().catch(() => {});
    this.inv.reject(487);
    await this.close();
  }

  /** The call ended on Parley's side: the carrier gets the final answer of the reason, or BYE. */
  private finish(reason: CallEndReason | null): void {
    if (this.ended) return;
    this.ended = true;
    if (this.dialog) {
      this.write({ sipEndCode: 200, sipEndText: 'BYE' });
      void this.dialog.bye().catch(() => {});
    } else {
      const { code, text } = inboundAnswer(reason ?? 'failed');
      this.write({ sipEndCode: code, sipEndText: text });
      this.inv.reject(code, { reason: text });
    }
    void this.close();
  }

  private write(d: CallTrunkLeg): void {
    const callId = this.callId;
    if (!callId) return;
    void this.ctx.records
      .carrierLeg(callId, d)
      .catch((err: unknown) => this.ctx.log.warn({ err, call: callId }, 'call record write failed'));
  }

  /** Closes both legs (idempotent), leaves call control and the trunks' table. */
  async close(): Promise<void> {
    this.ended = true;
    if (this.callId) this.ctx.track(this.callId, null);
    this.ctx.done(this);
    this.ctx.control.closed(this.session, true);
    await Promise.all([this.web?.close(), this.rtp.close()]);
  }
}

/** The first codec of an SDP's audio (our answer to the carrier, a browser's answer), e.g. `PCMA`. */
export function codecOf(sdp: string): string | null {
  try {
    const audio = parseSdp(sdp).media.find((m) => m.type === 'audio');
    const first = audio && codecsOf(audio).find((c) => c.name.toLowerCase() !== 'telephone-event');
    return first ? first.name.toUpperCase() : null;
  } catch {
    return null;
  }
}
