/**
 * A {@link MediaSession} over plain RTP/AVP (RFC 3550, RFC 3551): a desk phone's or a softphone's
 * media leg. G.711 (PCMU, PCMA) and RFC 4733 telephone-event on an even UDP port, RTCP on the next
 * one or muxed (RFC 5761). Created by {@link RtpEndpoint}, as answerer (the phone's INVITE had an
 * offer) or offerer (the server sends the offer; the phone's answer comes back in a 200 or ACK).
 *
 * Symmetric RTP with latching ("comedia", RFC 4961): a phone behind NAT sends from another address
 * than its SDP says, so the first packet of a negotiated payload type fixes where we send from then
 * on (RTP and RTCP separately, unless muxed). After that, packets from any other address are
 * ignored (counted in `stats.ignored`): a stranger cannot take the stream over by spraying the
 * port. A re-offer naming a new address starts latching again.
 *
 *   [connecting] --remote SDP applied--> [connected] --no packet for mediaTimeoutMs--> [disconnected]
 *        |                                   ^  'timeout'                                  |
 *        |                                   +------------- packets again ('media') -------+
 *        +-------------- close() ------------+------------------------------------------------> [closed]
 *
 * RTCP: a compound SR (or RR before we sent anything) with SDES CNAME every 5 s randomised (RFC 3550
 * section 6.3.1), a BYE on close (section 6.6); the far side's reports give `stats.remoteReport`.
 */
import { randomUUID } from 'node:crypto';
import type { Socket, RemoteInfo } from 'node:dgram';
import { systemClock, TypedEmitter, type Clock, type TimerHandle } from '@parley/sip';
import { AudioOutput } from './audio-out.ts';
import {
  canTranscode,
  CODECS,
  createCodec,
  FRAME_MS,
  type AudioCodec,
  type CodecInfo,
  type CodecName,
} from './codec.ts';
import { DtmfReceiver, DtmfSender, type DtmfSendOptions } from './dtmf.ts';
import { MediaError } from './errors.ts';
import { g711Decode } from './g711.ts';
import { MediaTimeout } from './media-timeout.ts';
import { Pacer } from './pacer.ts';
import {
  compoundReport,
  lsrOf,
  readRtcp,
  ReceptionStats,
  reportIntervalMs,
  type RemoteReport,
} from './rtcp.ts';
import { looksLikeRtcp, parseRtp, writeRtp } from './rtp-packet.ts';
import type { RtpSocketPair } from './rtp-ports.ts';
import {
  answerDirection,
  mayReceiveFrom,
  maySendTo,
  readRtpSdp,
  writeRtpSdp,
  TELEPHONE_EVENT_PT,
  staticPayloadType,
  type Direction,
  type LocalRtpDescription,
  type RemoteRtpDescription,
  type RtpCodecName,
} from './rtp-sdp.ts';
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

export interface RtpSessionOptions {
  /** The address the sockets bind and the SDP advertises (a concrete one, not 0.0.0.0). */
  readonly address: string;
  /** UDP port range for RTP/RTCP pairs (inclusive); any free pair when absent. */
  readonly portRange?: readonly [number, number];
  /** 'timeout' after this long without a packet while the far side sends; 0 or absent: never. */
  readonly mediaTimeoutMs?: number;
  /** The RTCP report interval before randomisation (default 5000 ms, RFC 3550 section 6.2). */
  readonly rtcpIntervalMs?: number;
  readonly clock?: Clock;
}

export interface RtpAddress {
  readonly address: string;
  readonly port: number;
}

export interface RtpSessionStats extends MediaSessionStats {
  /** Where RTP goes now: the latched source, else the SDP's address. */
  readonly remote?: RtpAddress;
  readonly latched: boolean;
  /** Packets from an address other than the latched one, or of a payload type not negotiated. */
  readonly ignored: number;
  readonly rtcpSent: number;
  readonly rtcpReceived: number;
  /** Interarrival jitter of what we receive (RFC 3550 appendix A.8). */
  readonly jitterMs: number;
  /** The far side's last report block about our stream. */
  readonly remoteReport?: RemoteReport;
}

export type RtpSessionEvents = MediaSessionEvents & { latched: [RtpAddress] };

const DEFAULT_RTCP_MS = 5000;

/** A codec instance for a G.711 law; none for G.722, which is only ever passed through. */
function coderFor(name: RtpCodecName): AudioCodec | undefined {
  return canTranscode(name) ? createCodec(name) : undefined;
}

export class RtpSession extends TypedEmitter<RtpSessionEvents> implements MediaSession, PacketPort {
  readonly id = randomUUID();
  readonly output: AudioOutput;
  /** The SDP we last produced (offer or answer). */
  localDescription = '';
  private _state: MediaSessionState = 'connecting';
  private _codec: CodecInfo = CODECS.PCMU;
  /** The encoder/decoder of the codec we send; none for a passthrough-only one (G.722). */
  private coder: AudioCodec | undefined;
  private sendPt = 0;
  private readonly clock: Clock;
  private readonly rtp: Socket;
  private readonly rtcp: Socket;
  private readonly pacer: Pacer;
  private readonly timeline: RtpTimeline;
  private readonly dtmfIn: DtmfReceiver;
  private readonly dtmfOut: DtmfSender;
  private readonly watchdog: MediaTimeout;
  private readonly reception = new ReceptionStats(8000);
  private local: LocalRtpDescription;
  private remote: RemoteRtpDescription | undefined;
  /** Incoming payload types: ours and the far side's numbers for the same codecs. */
  private recvPts = new Map<number, RtpCodecName | 'event'>();
  private rtpDest: RtpAddress | undefined;
  private rtcpDest: RtpAddress | undefined;
  private rtpLatched = false;
  private rtcpLatched = false;
  private awaitingAnswer = false;
  private paced = true;
  private pacedBase = 0;
  private rtcpTimer: TimerHandle | undefined;
  private readonly rtcpIntervalMs: number;
  private readonly cname = `${randomUUID()}@parley`;
  private readonly srSentAt = new Map<number, number>();
  private closing: Promise<void> | undefined;
  private lastSeq: number | undefined;
  private received = 0;
  private lost = 0;
  private ignored = 0;
  private decodeErrors = 0;
  private rtcpSent = 0;
  private rtcpReceived = 0;
  private remoteReport: RemoteReport | undefined;

  /** Use {@link RtpEndpoint}; the session owns `sockets` from here on. */
  constructor(
    sockets: RtpSocketPair,
    private readonly options: RtpSessionOptions,
    codecs: readonly RtpCodecName[],
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.rtp = sockets.rtp;
    this.rtcp = sockets.rtcp;
    this.rtcpIntervalMs = options.rtcpIntervalMs ?? DEFAULT_RTCP_MS;
    this.coder = coderFor(codecs[0] ?? 'PCMU');
    this._codec = CODECS[codecs[0] ?? 'PCMU'];
    this.output = new AudioOutput(8000, (8000 * FRAME_MS) / 1000);
    this.timeline = new RtpTimeline(this.clock, 8000);
    const id = Math.floor(Date.now() / 1000);
    this.local = {
      address: options.address,
      port: sockets.port,
      rtcpPort: sockets.port + 1,
      codecs: codecs.map((name) => ({ name, payloadType: staticPayloadType(name) })),
      telephoneEvent: TELEPHONE_EVENT_PT,
      direction: 'sendrecv',
      rtcpMux: true,
      sessionId: id,
      sessionVersion: id,
    };
    this.pacer = new Pacer({ clock: this.clock, onFrame: (f) => this.sendFrame(f.index) });
    this.dtmfIn = new DtmfReceiver(8000, (e) => this.emit('dtmf', e));
    this.dtmfOut = new DtmfSender(
      {
        clockRate: 8000,
        timestampNow: () => this.timeline.now(),
        sendEvent: (payload, ts, marker) => this.sendEvent(payload, ts, marker),
      },
      this.clock,
    );
    this.watchdog = new MediaTimeout(
      this.clock,
      options.mediaTimeoutMs ?? 0,
      () => this.onTimeout(),
      () => this.onMediaBack(),
    );
    this.rtp.on('message', (msg, rinfo) => this.onRtpSocket(msg, rinfo));
    this.rtcp.on('message', (msg, rinfo) => this.onRtcpSocket(msg, rinfo));
    // A send error (ICMP port unreachable surfacing, a closed socket) is not fatal to a media leg.
    this.rtp.on('error', () => {});
    this.rtcp.on('error', () => {});
  }

  get state(): MediaSessionState {
    return this._state;
  }

  /** The codec we send; PCM both ways is 8 kHz (both G.711 laws). */
  get codec(): CodecInfo {
    return this._codec;
  }

  get localPort(): number {
    return this.local.port;
  }

  get sendCodecs(): readonly CodecName[] {
    return this.remote?.codecs.map((c) => c.name) ?? [];
  }

  get sendsEvents(): boolean {
    return this.remote?.telephoneEvent !== undefined;
  }

  get stats(): RtpSessionStats {
    return {
      packetsSent: this.timeline.packets,
      packetsReceived: this.received,
      packetsLost: this.lost,
      decodeErrors: this.decodeErrors,
      pacer: this.pacer.stats,
      ...(this.rtpDest ? { remote: this.rtpDest } : {}),
      latched: this.rtpLatched,
      ignored: this.ignored,
      rtcpSent: this.rtcpSent,
      rtcpReceived: this.rtcpReceived,
      jitterMs: this.reception.jitterMs,
      ...(this.remoteReport ? { remoteReport: this.remoteReport } : {}),
    };
  }

  /** Our offer (the endpoint calls this); the far side's answer goes to {@link accept}. */
  makeOffer(): string {
    this.awaitingAnswer = true;
    this.rebuildRecvPts();
    return (this.localDescription = writeRtpSdp(this.local));
  }

  /** Answers the far side's offer (first offer or a re-offer, RFC 3264 section 8). */
  answer(offer: string, preferences?: readonly RtpCodecName[]): string {
    this.assertOpen();
    const prefs =
      preferences ??
      (this.remote ? [this._codec.name as RtpCodecName] : this.local.codecs.map((c) => c.name));
    const remote = readRtpSdp(offer, 'offer', prefs);
    const chosen = remote.codecs[0]!;
    this.local = {
      ...this.local,
      codecs: [{ name: chosen.name, payloadType: chosen.payloadType }],
      telephoneEvent: remote.telephoneEvent,
      direction: answerDirection(remote.direction),
      rtcpMux: remote.rtcpMux,
      sessionVersion: this.local.sessionVersion + (this.localDescription ? 1 : 0),
    };
    this.apply({ ...remote, codecs: [chosen] });
    return (this.localDescription = writeRtpSdp(this.local));
  }

  /** Applies the far side's answer to our offer. */
  accept(answer: string): void {
    this.assertOpen();
    if (!this.awaitingAnswer)
      throw new MediaError('unexpected_answer', 'this session has no offer awaiting an answer');
    const remote = readRtpSdp(
      answer,
      'answer',
      this.local.codecs.map((c) => c.name),
    );
    this.awaitingAnswer = false;
    if (!remote.rtcpMux && this.local.rtcpMux) this.local = { ...this.local, rtcpMux: false };
    if (remote.telephoneEvent === undefined) this.local = { ...this.local, telephoneEvent: undefined };
    this.apply(remote);
  }

  /** A re-offer from the far side (hold, a new address); the codec stays ours when it can. */
  renegotiate(offer: string): string {
    return this.answer(offer, [this._codec.name as RtpCodecName, ...this.local.codecs.map((c) => c.name)]);
  }

  /** Puts our direction in the next offer or answer (a=sendonly to hold the far side). */
  setDirection(direction: Direction): void {
    this.local = { ...this.local, direction };
  }

  untilConnected(): Promise<void> {
    return untilConnected(this);
  }

  sendDtmf(digits: string, options?: DtmfSendOptions): Promise<void> {
    return this.dtmfOut.sendFor(this, digits, options);
  }

  forward(packet: MediaPacket): void {
    if (this._state === 'closed' || !this.remote || !this.rtpDest || !maySendTo(this.remote)) return;
    let pt: number | undefined;
    if (packet.kind === 'event') pt = this.remote.telephoneEvent;
    else pt = this.remote.codecs.find((c) => c.name === packet.codec)?.payloadType;
    if (pt === undefined) return;
    const { timestamp, first } = this.timeline.forwarded(packet.ssrc, packet.timestamp);
    const seq = this.timeline.take(timestamp, packet.payload.length);
    this.rtp.send(
      writeRtp(pt, packet.marker || first, seq, timestamp, this.timeline.ssrc, packet.payload),
      this.rtpDest.port,
      this.rtpDest.address,
    );
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
    if (this._state !== 'closed') {
      this._state = 'closed';
      this.emit('state', 'closed');
    }
    this.pacer.stop();
    this.watchdog.stop();
    this.dtmfOut.close();
    this.output.close();
    if (this.rtcpTimer !== undefined) this.clock.clearTimer(this.rtcpTimer);
    this.rtcpTimer = undefined;
    // The BYE leaves before the sockets close (a datagram still queued would be dropped).
    if (this.remote) await new Promise<void>((r) => this.sendRtcp(true, r));
    await Promise.all([this.rtp, this.rtcp].map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.coder?.close();
    this.emit('close', reason);
    this.removeAllListeners();
  }

  private assertOpen(): void {
    if (this._state === 'closed') throw new MediaError('closed', 'the media session is closed');
  }

  private rebuildRecvPts(): void {
    const pts = new Map<number, RtpCodecName | 'event'>();
    for (const c of this.local.codecs) pts.set(c.payloadType, c.name);
    if (this.local.telephoneEvent !== undefined) pts.set(this.local.telephoneEvent, 'event');
    for (const c of this.remote?.codecs ?? []) if (!pts.has(c.payloadType)) pts.set(c.payloadType, c.name);
    if (this.remote?.telephoneEvent !== undefined && !pts.has(this.remote.telephoneEvent))
      pts.set(this.remote.telephoneEvent, 'event');
    this.recvPts = pts;
  }

  /** The far side's description takes effect: where to send, which codec, timers. */
  private apply(remote: RemoteRtpDescription): void {
    const moved = !this.remote || this.remote.address !== remote.address || this.remote.port !== remote.port;
    this.remote = remote;
    const codec = remote.codecs[0]!;
    if (codec.name !== this._codec.name) {
      this.coder?.close();
      this.coder = coderFor(codec.name);
      this._codec = CODECS[codec.name];
    }
    this.sendPt = codec.payloadType;
    this.rebuildRecvPts();
    if (moved) {
      this.rtpLatched = false;
      this.rtcpLatched = false;
      this.rtpDest = { address: remote.address, port: remote.port };
      this.rtcpDest = remote.rtcpMux ? this.rtpDest : { address: remote.rtcpAddress, port: remote.rtcpPort };
    }
    if (mayReceiveFrom(remote)) this.watchdog.start();
    else this.watchdog.stop();
    if (this._state === 'connecting') {
      this._state = 'connected';
      this.emit('state', 'connected');
      if (this.paced) this.startPacer();
      this.scheduleRtcp();
    }
  }

  private startPacer(): void {
    this.pacedBase = this.timeline.now();
    this.pacer.start();
  }

  private sendFrame(index: number): void {
    const { pcm } = this.output.nextFrame();
    const remote = this.remote;
    // A passthrough-only codec (G.722) has no encoder: only the bridge's packets go out.
    if (!this.coder || !remote || !this.rtpDest || !maySendTo(remote) || this.dtmfOut.active) return;
    const ts = (this.pacedBase + index * this.coder.frameTicks) >>> 0;
    const payload = this.coder.encode(pcm);
    const seq = this.timeline.take(ts, payload.length);
    this.rtp.send(
      writeRtp(this.sendPt, index === 0, seq, ts, this.timeline.ssrc, payload),
      this.rtpDest.port,
      this.rtpDest.address,
    );
  }

  private sendEvent(payload: Buffer, ts: number, marker: boolean): void {
    const remote = this.remote;
    if (this._state === 'closed' || !remote || remote.telephoneEvent === undefined || !this.rtpDest) return;
    const seq = this.timeline.take(ts, payload.length);
    this.rtp.send(
      writeRtp(remote.telephoneEvent, marker, seq, ts, this.timeline.ssrc, payload),
      this.rtpDest.port,
      this.rtpDest.address,
    );
    this.timeline.resetForwarding();
  }

  private onRtpSocket(msg: Buffer, rinfo: RemoteInfo): void {
    if (this._state === 'closed') return;
    if (looksLikeRtcp(msg)) return this.onRtcpSocket(msg, rinfo, true);
    const p = parseRtp(msg);
    const kind = p && this.recvPts.get(p.payloadType);
    if (!p || !kind) {
      this.ignored++;
      return;
    }
    if (this.rtpLatched) {
      if (rinfo.address !== this.rtpDest?.address || rinfo.port !== this.rtpDest.port) {
        this.ignored++;
        return;
      }
    } else {
      this.rtpLatched = true;
      this.rtpDest = { address: rinfo.address, port: rinfo.port };
      if (this.remote?.rtcpMux) this.rtcpDest = this.rtpDest;
      this.emit('latched', this.rtpDest);
    }
    this.received++;
    this.watchdog.touch();
    this.reception.update(p.ssrc, p.sequence, p.timestamp, this.clock.now());
    if (kind === 'event') {
      this.dtmfIn.push(p.payload, p.timestamp);
      if (this.listenerCount('packet') > 0)
        this.emit('packet', {
          kind: 'event',
          payload: p.payload,
          timestamp: p.timestamp,
          sequence: p.sequence,
          marker: p.marker,
          ssrc: p.ssrc,
        });
      return;
    }
    if (this.lastSeq !== undefined) {
      const delta = (p.sequence - this.lastSeq) & 0xffff;
      if (delta === 0 || delta > 0x8000) return; // duplicate or late
      this.lost += delta - 1;
    }
    this.lastSeq = p.sequence;
    if (this.listenerCount('packet') > 0)
      this.emit('packet', {
        kind: 'audio',
        codec: kind,
        payload: p.payload,
        timestamp: p.timestamp,
        sequence: p.sequence,
        marker: p.marker,
        ssrc: p.ssrc,
      });
    if (this.listenerCount('audio') === 0 || kind === 'G722') return; // G.722: passed through only
    const samples = g711Decode(kind === 'PCMU' ? 'ulaw' : 'alaw', p.payload);
    this.emit('audio', { samples, sampleRate: 8000, rtpTimestamp: p.timestamp, sequence: p.sequence });
  }

  private onRtcpSocket(msg: Buffer, rinfo: RemoteInfo, muxed = false): void {
    if (this._state === 'closed') return;
    if (!muxed) {
      if (this.rtcpLatched) {
        if (rinfo.address !== this.rtcpDest?.address || rinfo.port !== this.rtcpDest.port) {
          this.ignored++;
          return;
        }
      } else if (this.remote) {
        this.rtcpLatched = true;
        this.rtcpDest = { address: rinfo.address, port: rinfo.port };
      }
    } else if (
      this.rtpLatched &&
      (rinfo.address !== this.rtpDest?.address || rinfo.port !== this.rtpDest.port)
    ) {
      this.ignored++;
      return;
    }
    this.rtcpReceived++;
    const info = readRtcp(msg, this.timeline.ssrc, 8000, Date.now(), (lsr) => this.srSentAt.get(lsr));
    if (info.sr) this.reception.lastSr = { lsr: info.sr.lsr, at: this.clock.now() };
    if (info.report) this.remoteReport = info.report;
  }

  private scheduleRtcp(): void {
    this.rtcpTimer = this.clock.setTimer(reportIntervalMs(this.rtcpIntervalMs), () => {
      this.rtcpTimer = undefined;
      if (this._state === 'closed') return;
      this.sendRtcp(false);
      this.scheduleRtcp();
    });
  }

  private sentSinceReport = -1;

  private sendRtcp(bye: boolean, sent?: () => void): void {
    const dest = this.rtcpDest;
    if (!dest) return sent?.();
    const wall = Date.now();
    const sender =
      this.timeline.packets !== this.sentSinceReport
        ? {
            ssrc: this.timeline.ssrc,
            packets: this.timeline.packets,
            octets: this.timeline.octets,
            rtpTimestamp: this.timeline.now(),
          }
        : undefined;
    this.sentSinceReport = this.timeline.packets;
    if (sender) {
      this.srSentAt.set(lsrOf(wall), wall);
      if (this.srSentAt.size > 8) this.srSentAt.delete(this.srSentAt.keys().next().value!);
    }
    const packet = compoundReport(
      this.timeline.ssrc,
      this.cname,
      wall,
      this.clock.now(),
      sender,
      this.reception,
      bye,
    );
    const socket = this.remote?.rtcpMux ? this.rtp : this.rtcp;
    this.rtcpSent++;
    socket.send(packet, dest.port, dest.address, () => sent?.());
  }

  private onTimeout(): void {
    if (this._state !== 'connected') return;
    this._state = 'disconnected';
    this.emit('state', 'disconnected');
    this.emit('timeout');
  }

  private onMediaBack(): void {
    if (this._state !== 'disconnected') return;
    this._state = 'connected';
    this.emit('state', 'connected');
    this.emit('media');
  }
}
