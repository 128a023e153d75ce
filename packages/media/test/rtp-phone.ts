/**
 * A plain RTP "phone" for tests: two real UDP sockets (RTP and RTCP) on a loopback address of its
 * own, sending paced G.711 and RFC 4733 events the way a desk phone does, and keeping what it
 * receives. Its SDP may name another address than the one it sends from (a phone behind NAT).
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import {
  encodeDtmfPayload,
  g711Decode,
  g711Encode,
  Pacer,
  parseRtp,
  type AudioSource,
  type RtpView,
} from '../src/index.ts';

export interface PhoneReceived extends Omit<RtpView, 'payload'> {
  readonly payload: Buffer;
  readonly at: number;
}

function bind(address: string, port = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, address, () => resolve(s));
  });
}

export class RtpPhone {
  readonly received: PhoneReceived[] = [];
  readonly rtcpReceived: Buffer[] = [];
  private pacer: Pacer | undefined;
  private source: AudioSource | undefined;
  private seq = 4000;
  private ts = 90000;
  readonly ssrc = 0x1234abcd;
  /** Where it sends (learned from the other side's SDP or set by the test). */
  remote: { address: string; port: number; rtcpPort: number } | undefined;

  private constructor(
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly address: string,
  ) {
    rtp.on('message', (msg) => {
      const p = parseRtp(msg);
      if (p) this.received.push({ ...p, payload: Buffer.from(p.payload), at: performance.now() });
      else this.rtcpReceived.push(Buffer.from(msg));
    });
    rtcp.on('message', (msg) => this.rtcpReceived.push(Buffer.from(msg)));
  }

  static async create(address = '127.0.0.2'): Promise<RtpPhone> {
    for (;;) {
      const rtp = await bind(address);
      const port = rtp.address().port;
      if (port % 2 === 0) {
        const rtcp = await bind(address, port + 1).catch(() => undefined);
        if (rtcp) return new RtpPhone(rtp, rtcp, address);
      }
      rtp.close();
    }
  }

  get port(): number {
    return this.rtp.address().port;
  }

  /** An offer as a phone writes it; `advertise` can differ from where it really is (NAT). */
  offer(opts: { codecs?: string; advertise?: string; port?: number; extra?: string } = {}): string {
    const addr = opts.advertise ?? this.address;
    const pts = opts.codecs ?? '0 8 101';
    return (
      `v=0\r\no=phone 1 1 IN IP4 ${addr}\r\ns=call\r\nc=IN IP4 ${addr}\r\nt=0 0\r\n` +
      `m=audio ${opts.port ?? this.port} RTP/AVP ${pts}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n` +
      `a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n${opts.extra ?? ''}a=sendrecv\r\n`
    );
  }

  /** Learns where to send from the other side's SDP. */
  learn(sdp: string): void {
    const address = /^c=IN IP4 (\S+)/m.exec(sdp)![1]!;
    const port = Number(/^m=audio (\d+)/m.exec(sdp)![1]);
    const rtcpPort = Number(/^a=rtcp:(\d+)/m.exec(sdp)?.[1] ?? port + 1);
    this.remote = { address, port, rtcpPort };
  }

  sendRaw(packet: Buffer, rtcp = false): void {
    const r = this.remote!;
    (rtcp ? this.rtcp : this.rtp).send(packet, rtcp ? r.rtcpPort : r.port, r.address);
  }

  packet(pt: number, payload: Buffer, marker = false, ts = this.ts): Buffer {
    const b = Buffer.alloc(12 + payload.length);
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | pt;
    b.writeUInt16BE(this.seq++ & 0xffff, 2);
    b.writeUInt32BE(ts >>> 0, 4);
    b.writeUInt32BE(this.ssrc, 8);
    payload.copy(b, 12);
    return b;
  }

  /** Sends `source` as paced G.711 (silence after it ends) until {@link stop}. */
  send(source: AudioSource, law: 'ulaw' | 'alaw' = 'ulaw'): void {
    this.source = source;
    if (this.pacer) return;
    this.pacer = new Pacer({
      onFrame: () => {
        const pcm = new Int16Array(160);
        if (this.source) pcm.set(this.source.read(160));
        this.sendRaw(this.packet(law === 'ulaw' ? 0 : 8, g711Encode(law, pcm)));
        this.ts += 160;
      },
    });
    this.pacer.start();
  }

  /** One digit as a phone sends it: three updates, then the end packet three times (RFC 4733). */
  sendDigit(event: number): void {
    const ts = this.ts;
    this.sendRaw(this.packet(101, encodeDtmfPayload(event, false, 10, 160), true, ts));
    this.sendRaw(this.packet(101, encodeDtmfPayload(event, false, 10, 320), false, ts));
    this.sendRaw(this.packet(101, encodeDtmfPayload(event, false, 10, 480), false, ts));
    for (let i = 0; i < 3; i++)
      this.sendRaw(this.packet(101, encodeDtmfPayload(event, true, 10, 800), false, ts));
    this.ts += 800;
  }

  /** Decodes the received audio of payload type `pt` at or after `since`. */
  decode(since = 0, pt = 0): Int16Array {
    const parts = this.received
      .filter((r) => r.at >= since && r.payloadType === pt)
      .map((r) => g711Decode(pt === 0 ? 'ulaw' : 'alaw', r.payload));
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  stop(): void {
    this.pacer?.stop();
    this.pacer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all([this.rtp, this.rtcp].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
