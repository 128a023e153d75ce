/**
 * RTP packets for the plain RTP/AVP leg (RFC 3550 section 5.1), read and written by hand: a phone
 * leg's packets are a fixed 12-byte header and a G.711 or telephone-event payload, so a small
 * parser without objects per header extension keeps the bridge's per-packet cost low.
 *
 *    0                   1                   2                   3
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |           synchronization source (SSRC) identifier            |
 *   |            contributing source (CSRC) identifiers (CC)        |
 *   |   header extension (X: profile, length in words, data)        |
 *   |   payload ...                        | padding (P: last octet = count)
 */

/** One packet as the bridge passes it on: what is needed to re-send it with another header. */
export interface RtpView {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** A view into the datagram (valid while the handler runs; copy to keep it). */
  readonly payload: Uint8Array;
}

/** RTCP packet types 200-204 (SR, RR, SDES, BYE, APP) sit at 72-76 in the RTP PT field (RFC 5761 section 4). */
export function looksLikeRtcp(buf: Uint8Array): boolean {
  if (buf.length < 2) return false;
  const pt = buf[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/** Parses one RTP datagram; undefined when it is not RTP version 2 or is truncated. */
export function parseRtp(buf: Buffer): RtpView | undefined {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) return undefined;
  const b0 = buf[0]!;
  let offset = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (buf.length < offset + 4) return undefined;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) end -= buf[buf.length - 1]!;
  if (end < offset) return undefined;
  return {
    payloadType: buf[1]! & 0x7f,
    marker: (buf[1]! & 0x80) !== 0,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(offset, end),
  };
}

/** Writes a 12-byte-header packet (no CSRCs, no extension, no padding). */
export function writeRtp(
  payloadType: number,
  marker: boolean,
  sequence: number,
  timestamp: number,
  ssrc: number,
  payload: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(12 + payload.length);
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out.writeUInt16BE(sequence & 0xffff, 2);
  out.writeUInt32BE(timestamp >>> 0, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
  out.set(payload, 12);
  return out;
}
