/**
 * SDP offer/answer (RFC 3264) for the plain RTP/AVP phone leg: one audio stream with PCMU and/or
 * PCMA (RFC 3551 static payload types 0 and 8), G.722 when asked for (static type 9, `G722/8000`:
 * RFC 3551 section 4.5.2 gives a 16 kHz codec an 8000 clock; a peer that wrote 16000 is read too,
 * ours always says 8000) and RFC 4733 telephone-event, RTCP on the next port
 * (RFC 3550 section 11, announced with `a=rtcp`, RFC 3605) or muxed when both sides say
 * `a=rtcp-mux` (RFC 5761 section 5.1.1).
 *
 * Payload types follow RFC 3264 section 6.1: what a side lists is what it wants to receive, so we
 * send with the far side's numbers and accept ours and theirs.
 */
import { codecsOf, parseSdp, type MediaDescription, type SessionDescription } from '@parley/sip';
import { CODECS, type CodecName } from './codec.ts';
import { MediaError } from './errors.ts';
import { MAX_SDP_BYTES } from './offer.ts';

/**
 * The codecs a plain RTP leg carries: G.711 (both 8 kHz, 160 samples a frame) and G.722 (passed
 * through only). The default offers G.711 alone; G.722 only when a caller lists it.
 */
export type RtpCodecName = 'PCMU' | 'PCMA' | 'G722';
export const RTP_CODEC_NAMES: readonly RtpCodecName[] = ['PCMU', 'PCMA', 'G722'];
export const RTP_CODECS: readonly RtpCodecName[] = ['PCMU', 'PCMA'];

/** The dynamic payload type we give telephone-event in our own offers (the common choice). */
export const TELEPHONE_EVENT_PT = 101;

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const OPPOSITE: Record<Direction, Direction> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

/** What we put in our SDP. */
export interface LocalRtpDescription {
  readonly address: string;
  readonly port: number;
  readonly rtcpPort: number;
  /** Codecs with the payload types we receive them on, in preference order. */
  readonly codecs: ReadonlyArray<{ readonly name: RtpCodecName; readonly payloadType: number }>;
  /** Our telephone-event payload type, or undefined to not offer or answer it. */
  readonly telephoneEvent?: number;
  readonly direction: Direction;
  readonly rtcpMux: boolean;
  readonly sessionId: number;
  readonly sessionVersion: number;
}

/** What the far side's SDP says, reduced to what the session acts on. */
export interface RemoteRtpDescription {
  /** The c= address; 0.0.0.0 is the old hold (RFC 3264 section 8.4): send nothing. */
  readonly address: string;
  readonly port: number;
  readonly rtcpAddress: string;
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  /** Codecs in common, in the order chosen (first is the one we send), with the far side's numbers. */
  readonly codecs: ReadonlyArray<{ readonly name: RtpCodecName; readonly payloadType: number }>;
  readonly telephoneEvent?: number;
  /** The far side's direction (what it does, not what we do). */
  readonly direction: Direction;
}

/** Writes one audio stream's SDP (RFC 8866 section 5 field order). */
export function writeRtpSdp(local: LocalRtpDescription): string {
  const ip = local.address.includes(':') ? 'IP6' : 'IP4';
  const pts = local.codecs.map((c) => c.payloadType);
  if (local.telephoneEvent !== undefined) pts.push(local.telephoneEvent);
  let s =
    `v=0\r\no=- ${local.sessionId} ${local.sessionVersion} IN ${ip} ${local.address}\r\ns=-\r\n` +
    `c=IN ${ip} ${local.address}\r\nt=0 0\r\nm=audio ${local.port} RTP/AVP ${pts.join(' ')}\r\n`;
  for (const c of local.codecs) s += `a=rtpmap:${c.payloadType} ${c.name}/8000\r\n`;
  if (local.telephoneEvent !== undefined)
    s += `a=rtpmap:${local.telephoneEvent} telephone-event/8000\r\na=fmtp:${local.telephoneEvent} 0-15\r\n`;
  s += `a=ptime:20\r\na=rtcp:${local.rtcpPort}\r\n`;
  if (local.rtcpMux) s += 'a=rtcp-mux\r\n';
  return s + `a=${local.direction}\r\n`;
}

function invalid(message: string): never {
  throw new MediaError('invalid_sdp', message);
}

function parse(sdp: unknown): SessionDescription {
  if (typeof sdp !== 'string' || sdp.length === 0) invalid('the SDP is not a string');
  if (Buffer.byteLength(sdp) > MAX_SDP_BYTES) invalid(`the SDP is longer than ${MAX_SDP_BYTES} bytes`);
  if (!/^v=0\r?\n/.test(sdp)) invalid('the SDP does not start with v=0 (RFC 8866 section 5)');
  try {
    return parseSdp(sdp);
  } catch (err) {
    throw new MediaError('invalid_sdp', 'the SDP does not parse', { cause: err });
  }
}

/** The first audio line in use, checked to be plain RTP/AVP. */
function audioLine(desc: SessionDescription): { m: MediaDescription; index: number } {
  const media = desc.media ?? [];
  if (media.length === 0) invalid('the SDP has no media line');
  const index = media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (index < 0)
    throw new MediaError('no_audio', 'the SDP has no audio line (or every audio line is rejected)');
  const m = media[index]!;
  if (!/^RTP\/AVP$/i.test(m.protocol ?? ''))
    throw new MediaError(
      'unsupported_transport',
      `the audio line's transport ${m.protocol ?? '(none)'} is not RTP/AVP (a phone leg is plain RTP)`,
    );
  return { m, index };
}

/**
 * Reads the far side's SDP. For an offer, `preferences` orders the codecs we would take (the first
 * one the offer has is sent); for an answer, the answer's own order among what we offered.
 */
export function readRtpSdp(
  sdp: unknown,
  kind: 'offer' | 'answer',
  preferences: readonly RtpCodecName[],
): RemoteRtpDescription & { mLineIndex: number } {
  const desc = parse(sdp);
  const { m, index } = audioLine(desc);
  const address = m.connection?.ip ?? desc.connection?.ip;
  if (!address) invalid('the SDP has no connection address (c=) for its audio line');
  if (!(m.port > 0 && m.port < 65536)) invalid(`the audio port ${m.port} is not a UDP port`);
  const offered = codecsOf(m);
  const usable = offered
    .filter((c) => c.rate === 8000 || (c.rate === 16000 && c.name.toUpperCase() === 'G722'))
    .map((c) => ({ name: c.name.toUpperCase(), payloadType: c.payload }))
    .filter((c): c is { name: RtpCodecName; payloadType: number } =>
      (RTP_CODEC_NAMES as readonly string[]).includes(c.name),
    );
  const codecs =
    kind === 'offer'
      ? preferences.flatMap((p) => usable.filter((c) => c.name === p).slice(0, 1))
      : usable.filter((c) => preferences.includes(c.name));
  if (codecs.length === 0) {
    const names = offered.map((c) => c.name).join(', ') || '(none)';
    throw new MediaError(
      'no_common_codec',
      `the audio codecs (${names}) include none of ${preferences.join(', ')}`,
    );
  }
  const te = offered.find((c) => c.name.toLowerCase() === 'telephone-event' && c.rate === 8000);
  const rtcpMux = m.rtcpMux !== undefined;
  const rtcp = m.rtcp;
  const direction = (m.direction ?? desc.direction ?? 'sendrecv') as Direction;
  return {
    address,
    port: m.port,
    rtcpAddress: rtcp?.address ?? address,
    rtcpPort: rtcpMux ? m.port : (rtcp?.port ?? m.port + 1),
    rtcpMux,
    codecs,
    ...(te ? { telephoneEvent: te.payload } : {}),
    direction: OPPOSITE[direction] ? direction : 'sendrecv',
    mLineIndex: index,
  };
}

/** Our direction in an answer to the far side's (RFC 3264 section 6.1). */
export function answerDirection(remote: Direction, wanted: Direction = 'sendrecv'): Direction {
  const allowed = OPPOSITE[remote];
  if (wanted === 'sendrecv') return allowed;
  if (allowed === 'sendrecv' || allowed === wanted) return wanted;
  return 'inactive';
}

/** Whether we may send to a far side in this state (its direction and address). */
export function mayReceiveFrom(remote: Pick<RemoteRtpDescription, 'direction'>): boolean {
  return remote.direction === 'sendrecv' || remote.direction === 'sendonly';
}

export function maySendTo(remote: Pick<RemoteRtpDescription, 'direction' | 'address'>): boolean {
  return (
    (remote.direction === 'sendrecv' || remote.direction === 'recvonly') && !isHoldAddress(remote.address)
  );
}

export function isHoldAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The codec's static payload type (RFC 3551 table 4). */
export function staticPayloadType(name: RtpCodecName): number {
  return CODECS[name as CodecName].staticPayloadType!;
}
