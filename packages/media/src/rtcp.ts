/**
 * RTCP for the plain RTP leg (RFC 3550 section 6): the reception statistics a receiver keeps
 * (appendix A.3 for loss, A.8 for interarrival jitter), the compound packets it sends (an SR when
 * it sent media since the last report, else an RR, then an SDES with its CNAME, section 6.1; a BYE
 * on close, section 6.6) and what it learns from the far side's reports (loss and jitter it sees
 * from us, and the round trip from LSR/DLSR, section 6.4.1).
 */

/** NTP time (RFC 5905 section 6: seconds since 1900) as [seconds, fraction] for wall-clock ms. */
function ntp(unixMs: number): [number, number] {
  const secs = Math.floor(unixMs / 1000) + 2208988800;
  const frac = Math.floor(((unixMs % 1000) / 1000) * 0x100000000);
  return [secs >>> 0, frac >>> 0];
}

/** The middle 32 bits of an NTP timestamp (LSR, in 1/65536 s). */
function middle32(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

/** Reception statistics for one remote source (RFC 3550 appendix A.3 and A.8). */
export class ReceptionStats {
  ssrc: number | undefined;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit: number | undefined;
  /** Interarrival jitter in timestamp units, scaled by 16 as appendix A.8 keeps it. */
  private jitter16 = 0;
  /** The last SR's middle NTP bits and when (ms, our clock) it came, for LSR/DLSR. */
  lastSr: { lsr: number; at: number } | undefined;

  constructor(private readonly clockRate: number) {}

  /** One packet: its sequence number, RTP timestamp and arrival (ms, any monotonic clock). */
  update(ssrc: number, seq: number, timestamp: number, arrivalMs: number): void {
    if (this.ssrc !== ssrc) {
      this.ssrc = ssrc;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
      this.transit = undefined;
      this.jitter16 = 0;
    }
    this.received++;
    const delta = (seq - this.maxSeq) & 0xffff;
    if (delta > 0 && delta < 0x8000) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
    const arrival = Math.round((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - timestamp) | 0;
    if (this.transit !== undefined) {
      const d = Math.abs((transit - this.transit) | 0);
      this.jitter16 += d - ((this.jitter16 + 8) >> 4);
    }
    this.transit = transit;
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  get lost(): number {
    if (this.ssrc === undefined) return 0;
    return Math.max(0, this.extendedMax - this.baseSeq + 1 - this.received);
  }

  get jitterMs(): number {
    return ((this.jitter16 >> 4) * 1000) / this.clockRate;
  }

  /** A report block (RFC 3550 section 6.4.1) about this source, or undefined before any packet. */
  reportBlock(nowMs: number): Buffer | undefined {
    if (this.ssrc === undefined) return undefined;
    const expected = this.extendedMax - this.baseSeq + 1;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction =
      expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    const cumulative = Math.min(0x7fffff, Math.max(-0x800000, expected - this.received));
    const b = Buffer.alloc(24);
    b.writeUInt32BE(this.ssrc >>> 0, 0);
    b.writeUInt32BE((((fraction & 0xff) << 24) | (cumulative & 0xffffff)) >>> 0, 4);
    b.writeUInt32BE(this.extendedMax >>> 0, 8);
    b.writeUInt32BE((this.jitter16 >> 4) >>> 0, 12);
    if (this.lastSr) {
      b.writeUInt32BE(this.lastSr.lsr, 16);
      b.writeUInt32BE(Math.round(((nowMs - this.lastSr.at) * 65536) / 1000) >>> 0, 20);
    }
    return b;
  }
}

export interface SenderCounts {
  readonly ssrc: number;
  readonly packets: number;
  readonly octets: number;
  /** Our RTP timestamp corresponding to the report's wall-clock instant. */
  readonly rtpTimestamp: number;
}

function header(count: number, type: number, words: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h[0] = 0x80 | (count & 0x1f);
  h[1] = type;
  h.writeUInt16BE(words, 2);
  return h;
}

/** The SDES packet with one CNAME item (RFC 3550 section 6.5.1), padded to a 32-bit boundary. */
function sdes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  const len = 4 + 2 + text.length + 1; // ssrc, type+length, text, the end item
  const padded = Math.ceil(len / 4) * 4;
  const chunk = Buffer.alloc(padded);
  chunk.writeUInt32BE(ssrc >>> 0, 0);
  chunk[4] = 1; // CNAME
  chunk[5] = text.length;
  text.copy(chunk, 6);
  return Buffer.concat([header(1, 202, padded / 4), chunk]);
}

/**
 * A compound report: SR when `sender` is given (we sent since the last report), else RR; our
 * report block about the far source when there is one; then SDES CNAME; and BYE when `bye`.
 */
export function compoundReport(
  ssrc: number,
  cname: string,
  wallMs: number,
  nowMs: number,
  sender: SenderCounts | undefined,
  reception: ReceptionStats,
  bye = false,
): Buffer {
  const block = reception.reportBlock(nowMs);
  const count = block ? 1 : 0;
  const parts: Buffer[] = [];
  if (sender) {
    const body = Buffer.alloc(24);
    body.writeUInt32BE(ssrc >>> 0, 0);
    const [sec, frac] = ntp(wallMs);
    body.writeUInt32BE(sec, 4);
    body.writeUInt32BE(frac, 8);
    body.writeUInt32BE(sender.rtpTimestamp >>> 0, 12);
    body.writeUInt32BE(sender.packets >>> 0, 16);
    body.writeUInt32BE(sender.octets >>> 0, 20);
    parts.push(header(count, 200, (24 + count * 24) / 4), body);
  } else {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(ssrc >>> 0, 0);
    parts.push(header(count, 201, (4 + count * 24) / 4), body);
  }
  if (block) parts.push(block);
  parts.push(sdes(ssrc, cname));
  if (bye) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(ssrc >>> 0, 0);
    parts.push(header(1, 203, 1), b);
  }
  return Buffer.concat(parts);
}

/** What the far side's report said about our stream. */
export interface RemoteReport {
  /** Fraction of our packets lost since its previous report, 0..1. */
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly jitterMs: number;
  /** Round trip from LSR/DLSR (RFC 3550 section 6.4.1), when its report echoed one of our SRs. */
  readonly roundTripMs?: number;
}

export interface RtcpInfo {
  /** The sender's SSRC of an SR, with its NTP middle bits (for our LSR). */
  sr?: { ssrc: number; lsr: number };
  /** A report block about `ourSsrc`. */
  report?: RemoteReport;
  bye: boolean;
}

/**
 * Reads a compound RTCP packet: SR sender info, a report block about `ourSsrc`, BYE. Unknown
 * types (APP, feedback) are skipped; a malformed packet ends the walk (what came before counts).
 */
export function readRtcp(
  buf: Buffer,
  ourSsrc: number,
  clockRate: number,
  wallMs: number,
  lastSrSentAt: (lsr: number) => number | undefined,
): RtcpInfo {
  const info: RtcpInfo = { bye: false };
  let pos = 0;
  while (pos + 4 <= buf.length) {
    if (buf[pos]! >> 6 !== 2) break;
    const count = buf[pos]! & 0x1f;
    const type = buf[pos + 1]!;
    const end = pos + 4 + buf.readUInt16BE(pos + 2) * 4;
    if (end > buf.length) break;
    let blocks = -1;
    if (type === 200 && end - pos >= 28) {
      const sec = buf.readUInt32BE(pos + 8);
      const frac = buf.readUInt32BE(pos + 12);
      info.sr = { ssrc: buf.readUInt32BE(pos + 4), lsr: middle32(sec, frac) };
      blocks = pos + 28;
    } else if (type === 201) blocks = pos + 8;
    else if (type === 203) info.bye = true;
    for (let i = 0; blocks >= 0 && i < count && blocks + 24 <= end; i++, blocks += 24) {
      if (buf.readUInt32BE(blocks) !== ourSsrc >>> 0) continue;
      const word = buf.readUInt32BE(blocks + 4);
      const lsr = buf.readUInt32BE(blocks + 16);
      const dlsr = buf.readUInt32BE(blocks + 20);
      const sentAt = lsr ? lastSrSentAt(lsr) : undefined;
      const cumulative = ((word & 0xffffff) << 8) >> 8; // 24-bit signed
      info.report = {
        fractionLost: (word >>> 24) / 256,
        cumulativeLost: cumulative,
        jitterMs: (buf.readUInt32BE(blocks + 12) * 1000) / clockRate,
        ...(sentAt !== undefined
          ? { roundTripMs: Math.max(0, wallMs - sentAt - (dlsr * 1000) / 65536) }
          : {}),
      };
    }
    pos = end;
  }
  return info;
}

/** The LSR value our SR at `wallMs` carries, so a later report block can be matched to it. */
export function lsrOf(wallMs: number): number {
  const [sec, frac] = ntp(wallMs);
  return middle32(sec, frac);
}

/** The next report interval: 5 s randomised over [0.5, 1.5] (RFC 3550 section 6.3.1, two members). */
export function reportIntervalMs(baseMs = 5000): number {
  return baseMs * (0.5 + Math.random());
}
