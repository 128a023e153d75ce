/**
 * The PhoneMedia seam (phone-media.ts) over @parley/media: browser legs are sessions of the process's
 * WebRTC endpoint (the one the echo test uses), phone legs are RTP/AVP sessions of an RTP endpoint on
 * `PARLEY_MEDIA_ADDRESS`, and two legs are joined by the media bridge.
 *
 * Codecs are chosen so G.711 passes through the bridge untouched (no decoding, no pacer): a browser's
 * offer is answered with PCMU or PCMA first (Opus only when it offers no G.711), a phone is offered
 * PCMU then PCMA, and a WebRTC offer to a browser carries the phone leg's G.711 codec (PCMU when it has none). A phone
 * called by a phone that offered G.722 is offered G722 first; when it takes it, the caller's answer is
 * re-made with G722 (`reanswer`, before its 200) and the bridge passes G.722 through, never decoded.
 */
import {
  bridge,
  RTP_CODEC_NAMES,
  RtpEndpoint,
  RtpSession,
  ToneSource,
  type AudioSource,
  type MediaBridge,
  type MediaSessionEvents,
  type RtpCodecName,
  type WebRtcEndpoint,
  type WebRtcSession,
} from '@parley/media';
import type { IceCandidate } from '@parley/protocol';
import { TypedEmitter } from '@parley/sip';
import type { Logger } from 'pino';
import type {
  PairWith,
  PhoneMedia,
  PhoneMediaLeg,
  PhoneMediaLegEvents,
  PhoneMediaStatsSink,
} from './phone-media.ts';

/**
 * The warning before a call is cut (its credit ran out): three 200 ms beeps at 1400 Hz, 200 ms apart,
 * the "call about to end" tone of ITU-T E.180's family, distinct from ringback and busy.
 */
const WARNING_TONE = { frequencies: [1400], durationMs: 1000, cadence: { onMs: 200, offMs: 200 } } as const;

/** A browser's leg prefers G.711 so a phone's audio crosses without transcoding. */
const BROWSER_CODECS = ['PCMU', 'PCMA', 'OPUS'] as const;

type Session = WebRtcSession | RtpSession;

/** One party's media session, as the phone-calls service sees it. */
class Leg extends TypedEmitter<PhoneMediaLegEvents> implements PhoneMediaLeg {
  /** The bridge this leg is in, once joined (re-chosen after a renegotiation). */
  joined: MediaBridge | undefined;
  private callId: string | undefined;

  constructor(
    readonly session: Session,
    public sdp: string,
    private readonly log: Logger,
    private readonly stats?: PhoneMediaStatsSink,
  ) {
    super();
    const on = <K extends keyof MediaSessionEvents>(
      event: K,
      fn: (...args: MediaSessionEvents[K]) => void,
    ): void => void (session as TypedEmitter<MediaSessionEvents>).on(event, fn);
    on('dtmf', (e) => this.emit('dtmf', e.digit));
    on('timeout', () => this.emit('timeout'));
    on('close', () => this.emit('close'));
  }

  async accept(answer: string): Promise<void> {
    await this.session.accept(answer);
  }

  async addRemoteCandidate(c: IceCandidate): Promise<void> {
    if ('addRemoteCandidate' in this.session) await this.session.addRemoteCandidate(c);
  }

  async renegotiate(offer: string): Promise<string> {
    const answer = await this.session.renegotiate(offer);
    this.sdp = answer;
    this.joined?.update();
    return answer;
  }

  sendDtmf(digits: string): void {
    this.session
      .sendDtmf(digits)
      .catch((err: unknown) => this.log.debug({ err }, 'sending key presses failed'));
  }

  codec(): string | undefined {
    return this.session instanceof RtpSession ? this.session.codec.name : undefined;
  }

  reanswer(offer: string, codecs: readonly string[]): void {
    if (!(this.session instanceof RtpSession)) return;
    const names = codecs.filter((c): c is RtpCodecName => (RTP_CODEC_NAMES as string[]).includes(c));
    this.sdp = this.session.answer(offer, names);
  }

  belongsTo(callId: string): void {
    this.callId = callId;
  }

  async play(sources: readonly AudioSource[]): Promise<void> {
    if (this.joined || this.session.state === 'closed') return;
    // Phone legs send nothing until joined (paced off): this leg's own pacer sends the announcement.
    this.session.setPaced(true);
    for (const source of sources) {
      if ((await this.session.output.play(source).done) !== 'finished') return;
    }
  }

  async warnPeer(): Promise<void> {
    const joined = this.joined;
    if (!joined) return;
    await joined.announce(joined.a === this.session ? 'b' : 'a', new ToneSource(WARNING_TONE)).done;
  }

  async close(): Promise<void> {
    if (this.callId && this.stats && 'jitterMs' in this.session.stats && this.session.state !== 'closed') {
      const s = this.session.stats;
      const expected = s.packetsReceived + s.packetsLost;
      this.stats(this.callId, {
        driver: 'embedded',
        packetsIn: s.packetsReceived,
        packetsOut: s.packetsSent,
        lossPct: expected > 0 ? (100 * s.packetsLost) / expected : 0,
        jitterMs: s.jitterMs,
        failure: null,
      });
      this.callId = undefined;
    }
    await this.session.close();
  }
}

export interface PhoneMediaDriverOptions {
  /** The process's WebRTC endpoint (browsers' legs). */
  webrtc: WebRtcEndpoint;
  /** The address phone legs bind and advertise (`PARLEY_MEDIA_ADDRESS`). */
  address: string;
  /** A phone leg without media this long reports 'timeout' (`PARLEY_MEDIA_TIMEOUT`); 0: never. */
  mediaTimeoutMs: number;
  log: Logger;
  /** Where a phone leg's statistics go when it closes (the call records). */
  stats?: PhoneMediaStatsSink;
}

export class PhoneMediaDriver implements PhoneMedia {
  /** Phone legs' sessions (tests count them: none left after a call). */
  readonly rtp: RtpEndpoint;

  constructor(private readonly o: PhoneMediaDriverOptions) {
    this.rtp = new RtpEndpoint({ address: o.address, mediaTimeoutMs: o.mediaTimeoutMs });
  }

  async offerRtp(o?: PairWith): Promise<PhoneMediaLeg> {
    const { session, offer } = await this.rtp.offer({ codecs: o?.codecs, paced: false });
    return new Leg(session, offer, this.o.log, this.o.stats);
  }

  async answerRtp(offer: string): Promise<PhoneMediaLeg> {
    const { session, answer } = await this.rtp.answer(offer, { paced: false });
    return new Leg(session, answer, this.o.log, this.o.stats);
  }

  async offerWebRtc(o?: PairWith): Promise<PhoneMediaLeg> {
    // The partner leg's G.711 codec, so its audio passes through (a carrier's PCMA reaches the browser as PCMA).
    const codec = o?.peer?.codec?.() === 'PCMA' ? 'PCMA' : 'PCMU';
    const { session, offer } = await this.o.webrtc.offer({ codec });
    return new Leg(session, offer, this.o.log);
  }

  async answerWebRtc(offer: string, o?: PairWith): Promise<PhoneMediaLeg> {
    // The partner's G.711 codec first when the caller knows it (a carrier's answer): it passes through.
    const first = (o?.codecs ?? []).filter((c): c is 'PCMU' | 'PCMA' => c === 'PCMU' || c === 'PCMA');
    const codecs = [...first, ...BROWSER_CODECS.filter((c) => !(first as string[]).includes(c))];
    const { session, answer } = await this.o.webrtc.answer(offer, { codecs });
    return new Leg(session, answer, this.o.log);
  }

  bridge(a: PhoneMediaLeg, b: PhoneMediaLeg): void {
    const la = a as Leg;
    const lb = b as Leg;
    const joined = bridge(la.session, lb.session);
    la.joined = lb.joined = joined;
  }

  /** Closes every phone leg (browser legs close with the WebRTC endpoint). */
  close(): Promise<void> {
    return this.rtp.close();
  }
}
