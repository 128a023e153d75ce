/**
 * A {@link MediaSession} over WebRTC, on werift: one RTCPeerConnection answering a browser's (or the
 * SDK's) offer with one audio transceiver, ICE on one bound address, DTLS-SRTP (RFC 5764), rtcp-mux
 * (RFC 5761, the only policy werift has) and BUNDLE. Created by {@link WebRtcEndpoint}.
 *
 * RTP out (RFC 3550 section 5.1): random initial sequence number and timestamp, the timestamp
 * advancing by the codec's frame ticks per pacer frame (960 for Opus at its fixed 48 kHz clock,
 * RFC 7587 section 4.1; 160 for G.711, RFC 3551 section 4.5.14), the marker bit on the first packet
 * (RFC 3551 section 4.1). werift sets the SSRC and sends RTCP sender reports.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { TypedEmitter, type Clock } from '@parley/sip';
import {
  RtpHeader,
  RtpPacket,
  useOPUS,
  usePCMA,
  usePCMU,
  type MediaStreamTrack,
  type RTCRtpCodecParameters,
  type RTCRtpTransceiver,
} from 'werift';
import { AudioOutput } from './audio-out.ts';
import { IceRestartingPeerConnection } from './ice-restart.ts';
import { CODECS, createCodec, FRAME_MS, type AudioCodec, type CodecInfo, type CodecName } from './codec.ts';
import { MediaError } from './errors.ts';
import { readOffer, type OfferChoice } from './offer.ts';
import { Pacer } from './pacer.ts';
import type {
  MediaCloseReason,
  MediaSession,
  MediaSessionEvents,
  MediaSessionState,
  MediaSessionStats,
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
  readonly clock?: Clock;
}

/** Events a WebRTC session adds to the shared ones: trickle ICE out (null = end of candidates). */
export type WebRtcSessionEvents = MediaSessionEvents & { candidate: [IceCandidateInit | null] };

const CANDIDATE_LINE = /^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)( |$)/i;

function codecParameters(name: CodecName, payloadType: number): RTCRtpCodecParameters {
  if (name === 'OPUS') return useOPUS({ payloadType });
  if (name === 'PCMU') return usePCMU({ payloadType });
  return usePCMA({ payloadType });
}

export class WebRtcSession extends TypedEmitter<WebRtcSessionEvents> implements MediaSession {
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
  private transceiver: RTCRtpTransceiver | undefined;
  private readonly unsubscribe: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private seq = randomInt(0, 0x10000);
  private readonly ts0 = randomInt(0, 0x100000000);
  private lastSeq: number | undefined;
  private sent = 0;
  private received = 0;
  private lost = 0;
  private decodeErrors = 0;

  /** Use {@link WebRtcEndpoint.answer}; the session is not usable before {@link start}. */
  constructor(choice: OfferChoice, options: WebRtcSessionOptions) {
    super();
    this.codec = CODECS[choice.codec];
    this.payloadType = choice.payloadType;
    this.coder = createCodec(choice.codec);
    this.output = new AudioOutput(this.codec.sampleRate, this.coder.frameSamples);
    this.pacer = new Pacer({
      frameMs: FRAME_MS,
      clock: options.clock,
      onFrame: (f) => this.sendFrame(f.index),
    });
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
      codecs: { audio: [codecParameters(choice.codec, choice.payloadType)], video: [] },
    });
  }

  get state(): MediaSessionState {
    return this._state;
  }

  get stats(): MediaSessionStats {
    return {
      packetsSent: this.sent,
      packetsReceived: this.received,
      packetsLost: this.lost,
      decodeErrors: this.decodeErrors,
      pacer: this.pacer.stats,
    };
  }

  /** Applies the offer and returns the answer SDP; on failure the session is closed. */
  async start(offer: string): Promise<string> {
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
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      this.transceiver = pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!this.transceiver) throw new MediaError('no_audio', 'the offer created no audio transceiver');
      this.transceiver.setDirection('sendrecv');
      await pc.setLocalDescription(await pc.createAnswer());
      const answer = pc.localDescription?.sdp;
      if (!answer) throw new MediaError('invalid_sdp', 'no answer could be made for the offer');
      return answer;
    } catch (err) {
      await this.close('failed');
      if (err instanceof MediaError) throw err;
      throw new MediaError('invalid_sdp', `the offer was refused: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * A later offer from the same peer (RFC 3264 section 8), applied and answered; the codec stays
   * as negotiated. An ICE restart (new credentials, RFC 8445 section 9) checks again and sends over
   * the new pair: see {@link IceRestartingPeerConnection} for the werift 0.25.2 gap it closes.
   */
  async renegotiate(offer: string): Promise<string> {
    if (this._state === 'closed') throw new MediaError('closed', 'the media session is closed');
    readOffer(offer, [this.codec.name]); // the same checks as the first offer, and still our codec
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
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
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'closed')
      return Promise.reject(new MediaError('closed', 'the media session is closed'));
    return new Promise((resolve, reject) => {
      const onState = (s: MediaSessionState) => {
        if (s === 'connected') {
          this.off('state', onState);
          resolve();
        } else if (s === 'closed') {
          this.off('state', onState);
          reject(new MediaError('closed', 'the media session closed before it connected'));
        }
      };
      this.on('state', onState);
    });
  }

  close(reason: MediaCloseReason = 'closed'): Promise<void> {
    this.closing ??= this.shutdown(reason);
    return this.closing;
  }

  private async shutdown(reason: MediaCloseReason): Promise<void> {
    this.setState('closed');
    this.pacer.stop();
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
      this.setState('connected');
      this.pacer.start(); // first time only; a reconnect keeps the running schedule
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
    // Other payload types (comfort noise, RFC 4733 events later) are not audio frames.
    if (header.payloadType !== this.payloadType) return;
    this.received++;
    if (this.lastSeq !== undefined) {
      const delta = (header.sequenceNumber - this.lastSeq) & 0xffff;
      if (delta === 0 || delta > 0x8000) return; // duplicate or late: already counted as lost
      this.lost += delta - 1;
    }
    this.lastSeq = header.sequenceNumber;
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

  private sendFrame(index: number): void {
    const sender = this.transceiver?.sender;
    if (!sender) return;
    const { pcm } = this.output.nextFrame();
    const header = new RtpHeader({
      payloadType: this.payloadType,
      sequenceNumber: this.seq,
      timestamp: (this.ts0 + index * this.coder.frameTicks) >>> 0,
      marker: index === 0,
    });
    this.seq = (this.seq + 1) & 0xffff;
    this.sent++;
    sender.sendRtp(new RtpPacket(header, this.coder.encode(pcm))).catch(() => {
      // A send failing while the transport goes down is reported by the connection state.
    });
  }
}
