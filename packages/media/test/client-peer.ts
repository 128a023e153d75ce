/**
 * A werift peer that calls the endpoint as a browser would: it makes the offer, trickles its ICE
 * candidates (or leaves them in the SDP), receives RTP and sends paced RTP of its own. No part of it
 * is a mock: it is a second WebRTC stack instance talking over loopback.
 */
import { performance } from 'node:perf_hooks';
import {
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  useOPUS,
  usePCMA,
  usePCMU,
  type RTCRtpTransceiver,
} from 'werift';
import {
  CODECS,
  createCodec,
  noDefaultStun,
  Pacer,
  type AudioCodec,
  type AudioSource,
  type CodecName,
} from '../src/index.ts';

export interface Received {
  readonly sequence: number;
  readonly timestamp: number;
  readonly payloadType: number;
  readonly payload: Buffer;
  readonly at: number;
}

const PARAMS = { OPUS: useOPUS, PCMU: usePCMU, PCMA: usePCMA };

export class ClientPeer {
  readonly pc: RTCPeerConnection;
  readonly transceiver: RTCRtpTransceiver;
  readonly received: Received[] = [];
  private pacer: Pacer | undefined;
  private sendCodec: AudioCodec | undefined;
  private source: AudioSource | undefined;

  constructor(
    readonly codecs: readonly CodecName[] = ['OPUS', 'PCMU'],
    readonly address = '127.0.0.1',
    /** Offer telephone-event/8000 (payload type 126, as Chromium numbers it) after the codecs. */
    readonly telephoneEvent = false,
  ) {
    const audio = codecs.map((c) => PARAMS[c as keyof typeof PARAMS]()); // no G.722 in a browser here
    if (telephoneEvent)
      audio.push(
        new RTCRtpCodecParameters({
          mimeType: 'audio/telephone-event',
          clockRate: 8000,
          channels: 1,
          payloadType: 126,
        }),
      );
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [address],
      iceInterfaceAddresses: { udp4: address },
      codecs: { audio, video: [] },
    });
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    noDefaultStun(this.pc); // a browser stand-in on loopback asks no STUN server either
    this.pc.onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) =>
        this.received.push({
          sequence: rtp.header.sequenceNumber,
          timestamp: rtp.header.timestamp,
          payloadType: rtp.header.payloadType,
          payload: Buffer.from(rtp.payload),
          at: performance.now(),
        }),
      ),
    );
  }

  /** Makes the offer (with its candidates inline unless `stripCandidates`). */
  async offer(stripCandidates = false): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const sdp = this.pc.localDescription!.sdp;
    return stripCandidates ? withoutCandidates(sdp) : sdp;
  }

  /** The candidate lines of the local description, as trickle messages. */
  localCandidates(): { candidate: string; sdpMid: string; sdpMLineIndex: number }[] {
    return this.pc
      .localDescription!.sdp.split(/\r?\n/)
      .filter((l) => l.startsWith('a=candidate:'))
      .map((l) => ({ candidate: l.slice(2), sdpMid: '0', sdpMLineIndex: 0 }));
  }

  async accept(answer: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  connected(): Promise<void> {
    if (this.pc.connectionState === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sub = this.pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') {
          sub.unSubscribe();
          resolve();
        } else if (s === 'failed' || s === 'closed') {
          sub.unSubscribe();
          reject(new Error(`client peer ${s}`));
        }
      });
    });
  }

  /** The negotiated codec, from the answer's first payload type. */
  get codec(): CodecName {
    const name = this.transceiver.sender.codec?.name.toUpperCase();
    if (name !== 'OPUS' && name !== 'PCMU' && name !== 'PCMA') throw new Error(`unexpected codec ${name}`);
    return name;
  }

  /** Decodes what arrived (in sequence order) at or after `since` (performance.now()). */
  decodeReceived(since = 0): { samples: Int16Array; sampleRate: number } {
    const codec = createCodec(this.codec);
    try {
      const parts = this.received
        .filter((r) => r.at >= since && r.payloadType === this.transceiver.sender.codec!.payloadType)
        .map((r) => codec.decode(r.payload) ?? new Int16Array(codec.frameSamples));
      const samples = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        samples.set(p, o);
        o += p.length;
      }
      return { samples, sampleRate: CODECS[this.codec].sampleRate };
    } finally {
      codec.close();
    }
  }

  /**
   * Sends `source` paced at 20 ms frames, then silence until {@link stopSending}. A later call
   * switches the source within the same stream (timestamps run on, as a browser's do).
   */
  send(source: AudioSource): void {
    this.source = source;
    if (this.pacer) return;
    const codec = (this.sendCodec = createCodec(this.codec));
    const pt = this.transceiver.sender.codec!.payloadType;
    let seq = 1000;
    this.pacer = new Pacer({
      onFrame: ({ index }) => {
        const pcm = new Int16Array(codec.frameSamples);
        if (this.source) pcm.set(this.source.read(codec.frameSamples));
        const header = new RtpHeader({
          payloadType: pt,
          sequenceNumber: seq++ & 0xffff,
          timestamp: index * codec.frameTicks,
        });
        void this.transceiver.sender.sendRtp(new RtpPacket(header, codec.encode(pcm)));
      },
    });
    this.pacer.start();
  }

  /** One RFC 4733 event packet with the negotiated telephone-event payload type (RTCDTMFSender's kind). */
  sendEvent(payload: Buffer, timestamp: number, marker: boolean): void {
    const pt = this.transceiver.codecs.find((c) => c.name.toLowerCase() === 'telephone-event')!.payloadType;
    const sender = this.transceiver.sender;
    const header = new RtpHeader({
      payloadType: pt,
      sequenceNumber: this.eventSeq++ & 0xffff,
      timestamp,
      marker,
      ssrc: sender.ssrc,
    });
    void sender.dtlsTransport.sendRtp(payload, header);
  }

  private eventSeq = 20000;

  stopSending(): void {
    this.pacer?.stop();
    this.pacer = undefined;
    this.sendCodec?.close();
    this.sendCodec = undefined;
  }

  async close(): Promise<void> {
    this.stopSending();
    await this.pc.close();
  }
}

export function withoutCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
