/**
 * A fake of the bridge for the phone-calls tests (one layer: no sockets). Legs carry recognisable
 * descriptions (WebRTC ones pass the server's SDP checks), remember what was asked of them, and let a
 * test make a phone's digit or media timeout happen on demand.
 */
import { TypedEmitter } from '@parley/sip';
import type { IceCandidate } from '@parley/protocol';
import type { PhoneMedia, PhoneMediaLeg, PhoneMediaLegEvents } from '../../src/sip/phone-media.ts';
import { sdp as webrtcSdp } from '../calls/call-devices.ts';

let n = 0;

export class FakeLeg extends TypedEmitter<PhoneMediaLegEvents> implements PhoneMediaLeg {
  readonly id = ++n;
  accepted: string | null = null;
  readonly candidates: IceCandidate[] = [];
  readonly dtmfSent: string[] = [];
  closed = false;

  constructor(
    readonly kind: 'rtp' | 'webrtc',
    readonly role: 'offer' | 'answer',
    readonly sdp: string,
    /** The offer this leg answered. */
    readonly remoteOffer: string | null = null,
  ) {
    super();
  }

  async accept(answer: string): Promise<void> {
    this.accepted = answer;
  }

  async addRemoteCandidate(c: IceCandidate): Promise<void> {
    this.candidates.push(c);
  }

  async renegotiate(): Promise<string> {
    return this.sdp;
  }

  sendDtmf(digits: string): void {
    this.dtmfSent.push(digits);
  }

  /** What the bridge would report: a phone's digit, or its media stopping. */
  happen(event: 'dtmf', digit: string): void;
  happen(event: 'timeout'): void;
  happen(event: 'dtmf' | 'timeout', digit?: string): void {
    if (event === 'dtmf') this.emit('dtmf', digit!);
    else this.emit('timeout');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/** An RTP/AVP description as a phone would send or get (PCMU, PCMA, telephone-event). */
export function rtpSdp(port: number): string {
  return [
    'v=0',
    `o=- ${port} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export class FakeMedia implements PhoneMedia {
  readonly legs: FakeLeg[] = [];
  readonly bridges: Array<[FakeLeg, FakeLeg]> = [];
  private port = 40000;

  private make(kind: 'rtp' | 'webrtc', role: 'offer' | 'answer', offer: string | null = null): FakeLeg {
    const sdp = kind === 'rtp' ? rtpSdp((this.port += 2)) : webrtcSdp({ ufrag: `leg${n + 1}` });
    const leg = new FakeLeg(kind, role, sdp, offer);
    this.legs.push(leg);
    return leg;
  }

  async offerRtp() {
    return this.make('rtp', 'offer');
  }
  async answerRtp(offer: string) {
    if (!offer.includes('RTP/AVP')) throw new Error('no_audio');
    return this.make('rtp', 'answer', offer);
  }
  async offerWebRtc() {
    return this.make('webrtc', 'offer');
  }
  async answerWebRtc(offer: string) {
    return this.make('webrtc', 'answer', offer);
  }
  bridge(a: PhoneMediaLeg, b: PhoneMediaLeg): void {
    this.bridges.push([a as FakeLeg, b as FakeLeg]);
  }

  get open(): FakeLeg[] {
    return this.legs.filter((l) => !l.closed);
  }
}
