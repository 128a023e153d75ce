/**
 * A {@link MediaSession} over WebRTC, on werift: one RTCPeerConnection answering a browser's (or the
 * SDK's) offer with one audio transceiver, ICE on one bound address, DTLS-SRTP (RFC 5764), rtcp-mux
 * (RFC 5761, the only policy werift has) and BUNDLE. Created by {@link WebRtcEndpoint}.
 *
 * RTP out (RFC 3550 section 5.1): random initial sequence number and timestamp, the timestamp
 * advancing by the codec's frame ticks per pacer frame (960 for Opus at its fixed 48 kHz clock,
 * RFC 7587 section 4.1; 160 for G.711, RFC 3551 section 4.5.14), the marker bit on the first packet
 * (RFC 3551 section 4.1). werift sets the SSRC and sends RTCP sender reports.
 *
 * Two roles: answerer (a browser calls; {@link WebRtcEndpoint.answer}) and offerer (a phone calls a
 * browser, so the server makes the offer: {@link WebRtcEndpoint.offer}, then {@link accept} with the
 * browser's answer). The offer carries one codec (the bridge's other leg's, so G.711 passes through)
 * and telephone-event at its clock rate.
 *
 * DTMF (RFC 4733): a browser's RTCDTMFSender sends telephone events, heard here as `'dtmf'`;
 * {@link sendDtmf} sends events to the browser (which plays no sound for them: browsers hand no
 * received event to the page, so a phone's digits reach a browser over signalling instead). werift
 * stamps its sender's one codec on every packet it sends, so events go to the DTLS transport
 * directly, under the sender's SSRC and our sequence numbers.
 */
import { randomUUID } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { systemClock, TypedEmitter, type Clock } from '@parley/sip';
import {
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  useOPUS,
  usePCMA,
  usePCMU,
  type MediaStreamTrack,
  type RTCRtpTransceiver,
} from 'werift';
import { AudioOutput } from './audio-out.ts';
import { IceRestartingPeerConnection } from './ice-restart.ts';
import { CODECS, createCodec, FRAME_MS, type AudioCodec, type CodecInfo, type CodecName } from './codec.ts';
import { DtmfReceiver, DtmfSender, type DtmfSendOptions } from './dtmf.ts';
import { MediaError } from './errors.ts';
import { MediaTimeout } from './media-timeout.ts';
import { keepPayloadTypes, readOffer, type OfferChoice } from './offer.ts';
import { Pacer } from './pacer.ts';
import { RtpTimeline } from './rtp-timeline.ts';
import {
  untilConnected,
  type MediaCloseReason,
  type MediaPacket,
  type MediaSession,
  type MediaSessionEvents,
  type MediaSessionState,
  type MediaSessionStats,
  type PacketPort,
} from './session.ts';

/** An ICE candidate as trickled over signalling (the shape of the browser's RTCIceCandidateInit). */
export interface IceCandidateInit {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
}

export interface IceServer {
  readonly urls: string | string[];
  readonly username?: string;
  readonly credential?: string;
}

export interface WebRtcSessionOptions {
  /** The one local address ICE binds and advertises (127.0.0.1 in tests, the host's public one live). */
  readonly address: string;
  readonly iceServers?: readonly IceServer[];
  /** UDP port range for ICE sockets (a firewall's opening); any free port when absent. */
  readonly portRange?: readonly [number, number];
  /** 'timeout' after this long without an incoming packet once connected; 0 or absent: never. */
  readonly mediaTimeoutMs?: number;
  readonly clock?: Clock;
}

/** Events a WebRTC session adds to the shared ones: trickle ICE out (null = end of candidates). */
export type WebRtcSessionEvents = MediaSessionEvents & { candidate: [IceCandidateInit | null] };

const CANDIDATE_LINE = /^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)( |$)/i;

function codecParameters(name: CodecName, payloadType: number): RTCRtpCodecParameters {
  if (name === 'OPUS') return useOPUS({ payloadType });
  if (name === 'PCMU') return usePCMU({ payloadType });
  if (name === 'G722')
    throw new MediaError(
      'not_transcodable',
      'a browser leg does not carry G.722 (phone legs pass it through)',
    );
  return usePCMA({ payloadType });
}

function telephoneEventParameters(payloadType: number, clockRate: number): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'audio/telephone-event',
    clockRate,
    channels: 1,
    payloadType,
    parameters: '0-15',
  });
}

export class WebRtcSession extends TypedEmitter<WebRtcSessionEvents> implements MediaSession, PacketPort {
  readonly id = randomUUID();
  readonly codec: CodecInfo;
  readonly output: AudioOutput;
  /** Candidates gathered so far; the answer already carries them (host candidates are instant). */
  readonly localCandidates: IceCandidateInit[] = [];
  private _state: MediaSessionState = 'connecting';
  private readonly pc: IceRestartingPeerConnection;
  private readonly coder: AudioCodec;
  private readonly pacer: Pacer;
  private readonly payloadType: number;
  /** Telephone-event's payload type once negotiated (the offer's, or ours when we offered). */
  private eventPt: number | undefined;
  private transceiver: RTCRtpTransceiver | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private readonly timeline: RtpTimeline;
  private pacedBase = 0;
  private paced = true;
  private awaitingAnswer = false;
  private readonly dtmfIn: DtmfReceiver;
  private readonly dtmfOut: DtmfSender;
  private readonly watchdog: MediaTimeout;
  private lastSeq: number | undefined;
  private received = 0;
  private lost = 0;
  private decodeErrors = 0;

  /**
   * Use {@link WebRtcEndpoint.answer} or {@link WebRtcEndpoint.offer}; the session is not usable
   * before {@link start} or {@link startOffer}.
   */
  constructor(choice: Omit<OfferChoice, 'mLineIndex'>, options: WebRtcSessionOptions) {
    super();
    this.codec = CODECS[choice.codec];
    this.payloadType = choice.payloadType;
    this.eventPt = choice.telephoneEvent;
    this.coder = createCodec(choice.codec);
    this.output = new AudioOutput(this.codec.sampleRate, this.coder.frameSamples);
    const clock = options.clock ?? systemClock;
    this.timeline = new RtpTimeline(clock, this.codec.clockRate);
    this.pacer = new Pacer({
      frameMs: FRAME_MS,
      clock,
      onFrame: (f) => this.sendFrame(f.index),
    });
    this.dtmfIn = new DtmfReceiver(this.codec.clockRate, (e) => this.emit('dtmf', e));
    this.dtmfOut = new DtmfSender(
      {
        clockRate: this.codec.clockRate,
        timestampNow: () => this.timeline.now(),
        sendEvent: (payload, ts, marker) => this.sendEvent(payload, ts, marker),
      },
      clock,
    );
    this.watchdog = new MediaTimeout(
      clock,
      options.mediaTimeoutMs ?? 0,
      () => this.emit('timeout'),
      () => this.emit('media'),
    );
    const codecs = [codecParameters(choice.codec, choice.payloadType)];
    if (choice.telephoneEvent !== undefined)
      codecs.push(telephoneEventParameters(choice.telephoneEvent, this.codec.clockRate));
    const family = isIPv6(options.address) ? 'udp6' : 'udp4';
    this.pc = new IceRestartingPeerConnection({
      // Default werift asks Google's STUN server; a server endpoint never does.
      iceServers: (options.iceServers ?? []).map((s) => ({ ...s })),
      // Host candidates only on the given address: werift would otherwise advertise every interface.
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [options.address],
      iceInterfaceAddresses: { [family]: options.address },
      icePortRange: options.portRange ? [options.portRange[0], options.portRange[1]] : undefined,
      codecs: { audio: codecs, video: [] },
    });
  }

  get state(): MediaSessionState {
    return this._state;
  }

  get stats(): MediaSessionStats {
    return {
      packetsSent: this.timeline.packets,
      packetsReceived: this.received,
      packetsLost: this.lost,
      decodeErrors: this.decodeErrors,
      pacer: this.pacer.stats,
    };
  }

  get sendCodecs(): readonly CodecName[] {
    return [this.codec.name];
  }

  get sendsEvents(): boolean {
    return this.eventPt !== undefined && !this.awaitingAnswer;
  }

  /** Applies the offer and returns the answer SDP; on failure the session is closed. */
  async start(offer: string): Promise<string> {
    this.subscribe();
    try {
      const choice = readOffer(offer, [this.codec.name]);
      const keep = [this.payloadType, ...(this.eventPt !== undefined ? [this.eventPt] : [])];
      await this.pc.setRemoteDescription({
        type: 'offer',
        sdp: keepPayloadTypes(offer, choice.mLineIndex, keep),
      });
      this.transceiver = this.pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!this.transceiver) throw new MediaError('no_audio', 'the offer created no audio transceiver');
      this.transceiver.setDirection('sendrecv');
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      const answer = this.pc.localDescription?.sdp;
      if (!answer) throw new MediaError('invalid_sdp', 'no answer could be made for the offer');
      if (!/ telephone-event\//i.test(answer)) this.eventPt = undefined;
      return answer;
    } catch (err) {
      await this.close('failed');
      if (err instanceof MediaError) throw err;
      throw new MediaError('invalid_sdp', `the offer was refused: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Makes our offer (one audio line: our codec and telephone-event); the answer goes to {@link accept}. */
  async startOffer(): Promise<string> {
    this.subscribe();
    try {
      this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
      await this.pc.setLocalDescription(await this.pc.createOffer());
      this.awaitingAnswer = true;
      return this.pc.localDescription!.sdp;
    } catch (err) {
      await this.close('failed');
      throw err;
    }
  }

  /**
   * Applies the browser's answer to our offer: checked like an offer (DTLS-SRTP, ICE credentials,
   * a fingerprint, our codec), coded `MediaError`s; the session stays open on a bad answer.
   */
  async accept(answer: string): Promise<void> {
    if (this._state === 'closed') throw new MediaError('closed', 'the media session is closed');
    if (!this.awaitingAnswer)
      throw new MediaError('unexpected_answer', 'this session has no offer awaiting an answer');
    const choice = readOffer(answer, [this.codec.name]);
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (err) {
      throw new MediaError('invalid_sdp', `the answer was refused: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.awaitingAnswer = false;
    if (choice.telephoneEvent === undefined) this.eventPt = undefined;
  }

  private subscribe(): void {
    const pc = this.pc;
    // werift trap: subscribe to tracks before setRemoteDescription, or the first RTP is missed.
    const track = pc.onTrack.subscribe((t) => this.attachTrack(t));
    this.unsubscribe.push(() => track.unSubscribe());
    const cand = pc.onIceCandidate.subscribe((c) => {
      const init = c
        ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null }
        : null;
      if (init) this.localCandidates.push(init);
      this.emit('candidate', init);
    });
    this.unsubscribe.push(() => cand.unSubscribe());
    const conn = pc.connectionStateChange.subscribe((s) => this.onConnectionState(s));
    this.unsubscribe.push(() => conn.unSubscribe());
  }

  /**
   * A later offer from the same peer (RFC 3264 section 8), applied and answered; the codec stays
   * as negotiated. An ICE restart (new credentials, RFC 8445 section 9) checks again and sends over
   * the new pair: see {@link IceRestartingPeerConnection} for the werift 0.25.2 gap it closes.
   */
  async renegotiate(offer: string): Promise<string> {
    if (this._state === 'closed') throw new MediaError('closed', 'the media session is closed');
    // The same checks as the first offer, and still our codec.
    const choice = readOffer(offer, [this.codec.name]);
    const keep = [this.payloadType, ...(this.eventPt !== undefined ? [this.eventPt] : [])];
    try {
      await this.pc.setRemoteDescription({
        type: 'offer',
        sdp: keepPayloadTypes(offer, choice.mLineIndex, keep),
      });
      await this.pc.setLocalDescription(await this.pc.createAnswer());
    } catch (err) {
      throw new MediaError('invalid_sdp', `the offer was refused: ${(err as Error).message}`, { cause: err });
    }
    return this.pc.localDescription!.sdp;
  }

  /** A trickled remote candidate; an empty candidate string means end of candidates (RFC 8838 section 4.4). */
  async addRemoteCandidate(c: IceCandidateInit): Promise<void> {
    if (this._state === 'closed') throw new MediaError('closed', 'the media session is closed');
    if (typeof c?.candidate !== 'string' || (c.candidate !== '' && !CANDIDATE_LINE.test(c.candidate)))
      throw new MediaError('invalid_candidate', 'not an ICE candidate line (RFC 8839 section 5.1)');
    const init = {
      candidate: c.candidate.replace(/^a=/, ''),
      sdpMid: c.sdpMid ?? '0',
      sdpMLineIndex: c.sdpMLineIndex ?? 0,
    };
    try {
      await this.pc.addIceCandidate(init);
    } catch (err) {
      throw new MediaError('invalid_candidate', `the candidate was refused: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  untilConnected(): Promise<void> {
    return untilConnected(this);
  }

  sendDtmf(digits: string, options?: DtmfSendOptions): Promise<void> {
    return this.dtmfOut.sendFor(this, digits, options);
  }

  forward(packet: MediaPacket): void {
    if (this._state === 'closed') return;
    if (packet.kind === 'event') {
      if (!this.sendsEvents) return;
      const { timestamp, first } = this.timeline.forwarded(packet.ssrc, packet.timestamp);
      this.sendEvent(packet.payload, timestamp, packet.marker || first, false);
      return;
    }
    const sender = this.transceiver?.sender;
    if (!sender || packet.codec !== this.codec.name) return;
    const { timestamp, first } = this.timeline.forwarded(packet.ssrc, packet.timestamp);
    const header = new RtpHeader({
      payloadType: this.payloadType,
      sequenceNumber: this.timeline.take(timestamp, packet.payload.length),
      timestamp,
      marker: packet.marker || first,
    });
    sender.sendRtp(new RtpPacket(header, Buffer.from(packet.payload))).catch(() => {});
  }

  setPaced(on: boolean): void {
    if (on === this.paced) return;
    this.paced = on;
    if (!on) this.pacer.stop();
    else if (this._state === 'connected' || this._state === 'disconnected') this.startPacer();
    this.timeline.resetForwarding();
  }

  close(reason: MediaCloseReason = 'closed'): Promise<void> {
    this.closing ??= this.shutdown(reason);
    return this.closing;
  }

  private async shutdown(reason: MediaCloseReason): Promise<void> {
    this.setState('closed');
    this.pacer.stop();
    this.watchdog.stop();
    this.dtmfOut.close();
    this.output.close();
    for (const u of this.unsubscribe.splice(0)) u();
    try {
      await this.pc.close();
    } finally {
      this.coder.close();
      this.emit('close', reason);
      this.removeAllListeners();
    }
  }

  private setState(next: MediaSessionState): void {
    if (this._state === next) return;
    if (this._state === 'closed') throw new Error(`media session: closed cannot become ${next}`);
    this._state = next;
    this.emit('state', next);
  }

  private onConnectionState(s: string): void {
    if (this._state === 'closed') return;
    if (s === 'connected') {
      const first = this._state === 'connecting';
      this.setState('connected');
      // First time only; a reconnect keeps the running schedule.
      if (first) {
        if (this.paced) this.startPacer();
        this.watchdog.start();
      }
    } else if (s === 'disconnected') {
      if (this._state === 'connected') this.setState('disconnected');
    } else if (s === 'failed') {
      void this.close('failed');
    }
  }

  private attachTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'audio') return;
    const sub = track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
    this.unsubscribe.push(() => sub.unSubscribe());
  }

  private onRtp(rtp: RtpPacket): void {
    if (this._state === 'closed') return;
    const { header } = rtp;
    this.watchdog.touch();
    if (header.payloadType === this.eventPt && this.eventPt !== undefined) {
      this.dtmfIn.push(rtp.payload, header.timestamp);
      if (this.listenerCount('packet') > 0) this.emit('packet', this.packetOf(rtp, 'event'));
      return;
    }
    // Other payload types (comfort noise) are not audio frames.
    if (header.payloadType !== this.payloadType) return;
    this.received++;
    if (this.lastSeq !== undefined) {
      const delta = (header.sequenceNumber - this.lastSeq) & 0xffff;
      if (delta === 0 || delta > 0x8000) return; // duplicate or late: already counted as lost
      this.lost += delta - 1;
    }
    this.lastSeq = header.sequenceNumber;
    if (this.listenerCount('packet') > 0) this.emit('packet', this.packetOf(rtp, 'audio'));
    if (this.listenerCount('audio') === 0) return; // decode only for someone
    const samples = this.coder.decode(rtp.payload);
    if (!samples) {
      this.decodeErrors++;
      return;
    }
    this.emit('audio', {
      samples,
      sampleRate: this.codec.sampleRate,
      rtpTimestamp: header.timestamp,
      sequence: header.sequenceNumber,
    });
  }

  private packetOf(rtp: RtpPacket, kind: 'audio' | 'event'): MediaPacket {
    const { header } = rtp;
    return {
      kind,
      ...(kind === 'audio' ? { codec: this.codec.name } : {}),
      payload: rtp.payload,
      timestamp: header.timestamp,
      sequence: header.sequenceNumber,
      marker: header.marker,
      ssrc: header.ssrc,
    };
  }

  private startPacer(): void {
    this.pacedBase = this.timeline.now();
    this.pacer.start();
  }

  private sendFrame(index: number): void {
    const sender = this.transceiver?.sender;
    const { pcm } = this.output.nextFrame();
    if (!sender || this.dtmfOut.active) return;
    const payload = this.coder.encode(pcm);
    const timestamp = (this.pacedBase + index * this.coder.frameTicks) >>> 0;
    const header = new RtpHeader({
      payloadType: this.payloadType,
      sequenceNumber: this.timeline.take(timestamp, payload.length),
      timestamp,
      marker: index === 0,
    });
    sender.sendRtp(new RtpPacket(header, payload)).catch(() => {
      // A send failing while the transport goes down is reported by the connection state.
    });
  }

  /** An event packet straight to the DTLS transport (werift's sender would stamp the audio codec on it). */
  private sendEvent(payload: Uint8Array, timestamp: number, marker: boolean, own = true): void {
    const sender = this.transceiver?.sender;
    if (this._state !== 'connected' || !sender || this.eventPt === undefined) return;
    const header = new RtpHeader({
      payloadType: this.eventPt,
      sequenceNumber: this.timeline.take(timestamp, payload.length),
      timestamp,
      marker,
      ssrc: sender.ssrc,
    });
    sender.dtlsTransport.sendRtp(Buffer.from(payload), header).catch(() => {});
    if (own) this.timeline.resetForwarding();
  }
}
