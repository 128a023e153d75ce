/**
 * A registered phone rung for one call: to call control a ringing device (a `CallSession` of kind
 * `sip`, made per call and contact, like the echo's device), to the phone an INVITE Parley sends as a
 * back-to-back user agent (RFC 3261 section 13.2; RFC 7092's B2BUA).
 *
 * ```
 *   call.incoming ──▶ INVITE (RTP/AVP offer) ──▶ 180 ... ──▶ 200 OK ──▶ call.answer (WebRTC answer)
 *                                                   │                       │ refused (too late)
 *   call.update ended ─────▶ CANCEL ◀───────────────┘                       └──▶ BYE
 *     (answered elsewhere: Reason: SIP;cause=200;text="Call completed elsewhere", RFC 3326)
 *   connected: BYE from the phone ──▶ call.hangup;  call ended ──▶ BYE to the phone
 * ```
 * The phone's answer is the moment Parley answers the browser's offer with its own WebRTC session and
 * joins it to the phone's RTP leg: before it no WebRTC socket is opened (a phone may never answer).
 * A call placed by another phone (phone to phone) is joined RTP to RTP instead: the caller's own leg
 * (`PhoneCallerLink`) takes this phone's RTP, and the answer call control relays goes only to that
 * server-side caller, which ignores it.
 *
 * How a phone says no: 603 Decline is the user pressing reject, so the call is declined everywhere
 * (as a browser's decline); any other failure (486 busy on a call Parley does not know, 480, a timeout,
 * an unreachable contact) only stops this phone ringing, and the call goes on for the others.
 */
import type { Logger } from 'pino';
import type { CallClientFrame, CallServerFrame, IceCandidate } from '@parley/protocol';
import type { InviteSession, OutgoingInvite, Peer, UserAgentCore } from '@parley/sip';
import { SipRequestFailed } from '@parley/sip';
import type { CallSession } from '../realtime/session.ts';
import type { PhoneMedia, PhoneMediaLeg } from './phone-media.ts';

/** A registered contact of a user (the registrar's binding, as ringing it needs). */
export interface PhoneBinding {
  bindingId: string;
  deviceId: string;
  /** The Contact URI the phone registered (the Request-URI of our INVITE). */
  contact: string;
  /** Where the REGISTER came from: the INVITE goes back along it (NAT, RFC 5626's idea). */
  flow: Peer;
}

/** What ringing a phone needs of call control: it hands frames in as a device would. */
export interface PhoneCallControl {
  frame(session: CallSession, f: CallClientFrame): unknown;
  closed(session: CallSession, deliberate: boolean): void;
  endCall(session: CallSession, callId: string, reason: 'media_timeout' | 'failed'): boolean;
  attachDevice(session: CallSession): void;
}

/** A call placed by a phone, as the phone it rings sees it (phone to phone, see phone-caller.ts). */
export interface PhoneCallerLink {
  /** Takes the answering phone's RTP leg: the two legs are joined and the caller's INVITE answered. */
  joinPhone(rtp: PhoneMediaLeg): Promise<void>;
  /**
   * Early media from the callee's side (a carrier's 183 with SDP, telephony/trunk-outbound.ts): the
   * legs joined now and the caller sent 183 with our answer, so it hears ringback and announcements;
   * `joinPhone` at the answer then only answers the INVITE.
   */
  earlyMedia?(rtp: PhoneMediaLeg): Promise<void>;
  /** The caller phone offered G.722: the callee is offered it first (passed through when both take it). */
  readonly offersG722?: boolean;
}

export interface RingContext {
  ua: Pick<UserAgentCore, 'invite'>;
  control: PhoneCallControl;
  media: PhoneMedia;
  log: Logger;
  /** The caller's leg when the call was placed by a phone (by call id, or by its WebRTC offer). */
  phoneCaller(callIdOrOffer: string): PhoneCallerLink | undefined;
  nextRequestId(): number;
  /** This phone's part is over (the service forgets it). */
  done(phone: RingingPhone): void;
}

/**
 * An answer that never leaves the server: call control wants an answer (with ICE and DTLS, as a
 * browser's) from whoever answers, and in a phone-to-phone call it relays it only to the calling
 * phone's server-side leg, which joined the media already.
 */
export const ANCHORED_ANSWER = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=parley anchored',
  't=0 0',
  'a=ice-ufrag:anchored',
  'a=ice-pwd:anchoredanchoredanchored00',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => '00').join(':')}`,
  'm=audio 9 UDP/TLS/RTP/SAVPF 0',
  'c=IN IP4 0.0.0.0',
  '',
].join('\r\n');

/** RFC 3326 section 2: the Reason a forking UA puts on the CANCELs to the devices that lost. */
export const COMPLETED_ELSEWHERE: [string, string] = [
  'Reason',
  'SIP;cause=200;text="Call completed elsewhere"',
];

let keys = 0;

export class RingingPhone {
  readonly session: CallSession;
  private callId: string | null = null;
  private offer: string | null = null;
  private readonly early: IceCandidate[] = [];
  private invite: OutgoingInvite | null = null;
  private dialog: InviteSession | null = null;
  private rtp: PhoneMediaLeg | null = null;
  private web: PhoneMediaLeg | null = null;
  private ended = false;
  /** The caller as the phone shows it (the INVITE's From, RFC 3261 section 8.1.1.3). */
  private from = '';
  /** The peer is another phone: digits travel in the anchored media, not as frames. */
  private anchored = false;

  constructor(
    private readonly ctx: RingContext,
    tenantId: string,
    userId: string,
    private readonly binding: PhoneBinding,
    /** The callee's address of record (the INVITE's To). */
    private readonly to: string,
  ) {
    this.session = {
      tenantId,
      userId,
      deviceKey: `sip/${binding.deviceId}/${binding.bindingId}/${(++keys).toString(36)}`,
      kind: 'sip',
      push: (f) => this.push(f),
    };
  }

  private push(f: CallServerFrame): void {
    switch (f.t) {
      case 'call.incoming':
        if (this.callId) return; // rung again: the INVITE is on its way already
        this.callId = f.call.id;
        this.offer = f.offer.sdp;
        this.from = callerUri(f.call.peer, this.to);
        this.early.push(...f.candidates);
        void this.ring().catch((err: unknown) => this.fail(err));
        return;
      case 'call.ice':
        if (this.web) void this.web.addRemoteCandidate(f.candidate).catch(() => {});
        else this.early.push(f.candidate);
        return;
      case 'call.sdp':
        if (f.description.type === 'offer' && this.web) void this.renegotiate(f.description.sdp);
        return;
      case 'call.dtmf':
        this.rtp?.sendDtmf(f.digits);
        return;
      case 'call.update':
        if (f.call.state === 'ended')
          void this.stop(f.call.endReason === 'answered_elsewhere' ? [COMPLETED_ELSEWHERE] : []);
        return;
    }
  }

  private async ring(): Promise<void> {
    const caller =
      this.ctx.phoneCaller(this.callId!) ?? (this.offer ? this.ctx.phoneCaller(this.offer) : undefined);
    const g722 = caller?.offersG722 === true;
    let rtp: PhoneMediaLeg;
    try {
      rtp = await this.ctx.media.offerRtp({
        peerOffer: this.offer ?? undefined,
        ...(g722 ? { codecs: ['G722', 'PCMU', 'PCMA'] as const } : {}),
      });
    } catch (err) {
      // No media for this phone (no codec in common and no transcoding): it is not rung, and drops
      // out of this call only (as a phone answering 480 would), not declining it for the others.
      this.ctx.log.info({ err, call: this.callId }, 'no media for this phone: not rung');
      this.ended = true;
      this.ctx.done(this);
      this.ctx.control.closed(this.session, true);
      return;
    }
    this.rtp = rtp;
    if (this.ended) return void rtp.close();
    rtp.belongsTo?.(this.callId!);
    this.watch(rtp);
    const invite = this.ctx.ua.invite({
      target: this.binding.contact,
      from: this.from,
      to: this.to,
      dest: this.binding.flow,
      // The phone is reached on the flow it registered on, in the dialog too (a TLS phone's Contact
      // port takes no new connection; a phone behind NAT is not at its Contact).
      flow: true,
      sdp: rtp.sdp,
    });
    this.invite = invite;
    let dialog: InviteSession;
    try {
      dialog = await invite.answered;
    } catch (err) {
      if (this.ended) return;
      const status = err instanceof SipRequestFailed ? err.status : 500;
      this.ended = true;
      this.ctx.done(this);
      await rtp.close();
      // 603: the user pressed reject. Anything else: this phone is out of this call only.
      if (status === 603) await this.send({ t: 'call.decline', callId: this.callId! }).catch(() => {});
      else this.ctx.control.closed(this.session, true);
      return;
    }
    this.dialog = dialog;
    dialog.once('terminated', (reason) => {
      if (reason !== 'local') void this.hangup();
    });
    if (this.ended) return void dialog.bye().catch(() => {});
    await this.answered(dialog);
  }

  /** The phone answered: its RTP answer applied, the browser's offer answered, the media joined. */
  private async answered(dialog: InviteSession): Promise<void> {
    const rtp = this.rtp!;
    await rtp.accept(dialog.remoteSdp?.toString() ?? '');
    const caller = this.ctx.phoneCaller(this.callId!);
    let answer = ANCHORED_ANSWER;
    if (!caller) {
      const web = await this.ctx.media.answerWebRtc(this.offer!, { peer: rtp });
      this.web = web;
      web.once('close', () => void this.hangup());
      if (this.ended) return void this.stop([]);
      for (const c of this.early.splice(0)) await web.addRemoteCandidate(c).catch(() => {});
      answer = web.sdp;
    }
    try {
      await this.send({ t: 'call.answer', callId: this.callId!, answer: { type: 'answer', sdp: answer } });
    } catch {
      // Too late (another device won, or the caller gave up meanwhile): this phone hangs up.
      return this.stop([]);
    }
    if (caller) {
      this.anchored = true;
      await caller.joinPhone(rtp);
    } else this.ctx.media.bridge(this.web!, rtp);
  }

  /** The binding rung went away (un-REGISTER, lapsed, keep-alive unanswered): it stops ringing. */
  vanished(): void {
    if (this.dialog || this.ended) return;
    void this.stop([]);
    this.ctx.control.closed(this.session, true);
  }

  get bindingId(): string {
    return this.binding.bindingId;
  }

  private watch(rtp: PhoneMediaLeg): void {
    rtp.on('dtmf', (digit) => {
      if (!this.anchored && this.dialog && this.callId)
        void this.send({ t: 'call.dtmf', callId: this.callId, digits: digit }).catch(() => {});
    });
    rtp.once('timeout', () => {
      if (this.callId && !this.ended) this.ctx.control.endCall(this.session, this.callId, 'media_timeout');
    });
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
    if (!this.ended) this.ctx.log.warn({ err, call: this.callId }, 'phone leg failed');
    void this.hangup();
  }

  /** The phone's side ended it (BYE, media closed): call control hears a hang-up. */
  private async hangup(): Promise<void> {
    if (this.ended) return;
    await this.stop([]);
    if (this.callId) await this.send({ t: 'call.hangup', callId: this.callId }).catch(() => {});
  }

  /** Ends this phone's part: CANCEL while it rings (with `cancelHeaders`), BYE once answered; media closed. */
  async stop(cancelHeaders: Array<[string, string]>): Promise<void> {
    this.ended = true;
    this.ctx.done(this);
    if (this.dialog) await this.dialog.bye().catch(() => {});
    else this.invite?.cancel(cancelHeaders);
    await Promise.all([this.web?.close(), this.rtp?.close()]);
  }
}

/**
 * The caller as a phone's INVITE names it: a user by address; a phone number (a call from a carrier)
 * as that number at the callee's domain, so the phone's display shows the number; else anonymous
 * (RFC 3261 section 8.1.1.3).
 */
export function callerUri(peer: { address: string | null; number: string | null }, to: string): string {
  if (peer.address) return `sip:${peer.address}`;
  if (peer.number && /^\+?[0-9]{1,20}$/.test(peer.number))
    return `sip:${peer.number}@${to.split('@')[1] ?? 'anonymous.invalid'}`;
  return 'sip:anonymous@anonymous.invalid';
}

/** A frame a server-side phone device sends, before its request id is given. */
export type OutgoingFrame = CallClientFrame extends infer F
  ? F extends unknown
    ? Omit<F, 'id'>
    : never
  : never;

/** A browser's new offer mid-call (ICE restart, camera): the WebRTC leg's answer goes back as `call.sdp`. */
export async function answerReoffer(
  ctx: { control: PhoneCallControl; nextRequestId(): number },
  session: CallSession,
  web: PhoneMediaLeg,
  callId: string,
  offer: string,
): Promise<void> {
  const sdp = await web.renegotiate(offer);
  await sendFrame(ctx, session, { t: 'call.sdp', callId, description: { type: 'answer', sdp } });
}

/** Hands `f` to call control as `session`'s (on a later tick: a push may be what triggered it). */
export function sendFrame(
  ctx: { control: PhoneCallControl; nextRequestId(): number },
  session: CallSession,
  f: OutgoingFrame,
): Promise<unknown> {
  const frame = { ...f, id: ctx.nextRequestId() } as CallClientFrame;
  return Promise.resolve().then(() => ctx.control.frame(session, frame));
}
