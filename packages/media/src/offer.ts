/**
 * Reading a WebRTC offer before any socket is opened: the endpoint refuses garbage, an offer without
 * audio, or one it shares no codec with, with a coded {@link MediaError} the server can pass on as
 * `invalid_sdp`, and it chooses the codec up front so the answer carries exactly one (plus
 * telephone-event).
 *
 * What WebRTC requires of an offer (RFC 8829 section 5.8, RFC 8843 for BUNDLE): an `ice-ufrag` and
 * `ice-pwd` (RFC 8839 section 5.4) and a DTLS `fingerprint` (RFC 8122 section 5), at session or
 * media level, on a `UDP/TLS/RTP/SAVPF` (or `UDP/TLS/RTP/SAVP`) media line.
 */
import * as sdpTransform from 'sdp-transform';
import { CODECS, type CodecName } from './codec.ts';
import { MediaError } from './errors.ts';

/** Longest SDP accepted: a browser's audio+video offer is a few KiB. */
export const MAX_SDP_BYTES = 64 * 1024;

export interface OfferChoice {
  readonly codec: CodecName;
  /** The offerer's payload type for it (RFC 3264 section 6.1: the answer uses the offer's). */
  readonly payloadType: number;
  /** Index of the audio m-line answered. */
  readonly mLineIndex: number;
  /** The offer's RFC 4733 telephone-event payload type at the codec's clock rate, if any. */
  readonly telephoneEvent?: number;
}

function invalid(message: string): never {
  throw new MediaError('invalid_sdp', message);
}

/** The telephone-event at `clockRate` (RFC 4733 section 7.1.1: its clock is the audio codec's). */
function telephoneEventOf(audio: sdpTransform.MediaDescription, clockRate: number): number | undefined {
  return (audio.rtp ?? []).find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === clockRate)
    ?.payload;
}

/** Validates an offer and picks the first codec of `preferences` it offers on its first audio line. */
export function readOffer(sdp: unknown, preferences: readonly CodecName[]): OfferChoice {
  if (typeof sdp !== 'string' || sdp.length === 0) invalid('the offer is not an SDP string');
  if (Buffer.byteLength(sdp) > MAX_SDP_BYTES) invalid(`the offer is longer than ${MAX_SDP_BYTES} bytes`);
  if (!/^v=0\r?\n/.test(sdp)) invalid('the offer does not start with v=0 (RFC 8866 section 5)');
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch (err) {
    throw new MediaError('invalid_sdp', 'the offer does not parse as SDP', { cause: err });
  }
  const media = parsed.media ?? [];
  if (media.length === 0) invalid('the offer has no media line');
  const mLineIndex = media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (mLineIndex < 0)
    throw new MediaError('no_audio', 'the offer has no audio line (or every audio line is rejected)');
  const audio = media[mLineIndex]!;
  if (!/^UDP\/TLS\/RTP\/SAVPF?$/i.test(audio.protocol ?? ''))
    invalid(
      `the audio line's transport ${audio.protocol ?? '(none)'} is not UDP/TLS/RTP/SAVPF (WebRTC needs DTLS-SRTP)`,
    );
  if (!(audio.iceUfrag ?? parsed.iceUfrag) || !(audio.icePwd ?? parsed.icePwd))
    invalid('the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)');
  if (!(audio.fingerprint ?? parsed.fingerprint))
    invalid('the offer has no DTLS fingerprint (a=fingerprint)');
  if (audio.direction === 'inactive') throw new MediaError('no_audio', "the offer's audio line is inactive");
  for (const name of preferences) {
    const info = CODECS[name];
    const rtp = (audio.rtp ?? []).find((r) => r.codec.toUpperCase() === name && r.rate === info.clockRate);
    const te = telephoneEventOf(audio, info.clockRate);
    const extra = te !== undefined ? { telephoneEvent: te } : {};
    if (rtp) return { codec: name, payloadType: rtp.payload, mLineIndex, ...extra };
    // Static payload types may be offered without an rtpmap line (RFC 3551 section 6).
    if (
      info.staticPayloadType !== undefined &&
      String(audio.payloads ?? '')
        .split(' ')
        .includes(String(info.staticPayloadType)) &&
      !(audio.rtp ?? []).some((r) => r.payload === info.staticPayloadType)
    )
      return { codec: name, payloadType: info.staticPayloadType, mLineIndex, ...extra };
  }
  const offered = (audio.rtp ?? []).map((r) => r.codec).join(', ') || '(none)';
  throw new MediaError(
    'no_common_codec',
    `the offer's audio codecs (${offered}) include none of ${preferences.join(', ')}`,
  );
}

/**
 * The offer with its audio line cut down to the chosen payload types (codec and telephone-event),
 * for werift: it matches remote codecs by name alone, so given Chromium's telephone-event/48000
 * first it would pair it with G.711 at 8 kHz. The answer is a subset of the offer either way.
 */
export function keepPayloadTypes(sdp: string, mLineIndex: number, keep: readonly number[]): string {
  const lines = sdp.split(/\r?\n/);
  let m = -1;
  const wanted = new Set(keep.map(String));
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      m++;
      if (m === mLineIndex) {
        const parts = line.split(' ');
        out.push([...parts.slice(0, 3), ...parts.slice(3).filter((p) => wanted.has(p))].join(' '));
        continue;
      }
    }
    if (m === mLineIndex) {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ /]/.exec(line)?.[1];
      if (pt !== undefined && !wanted.has(pt)) continue;
    }
    out.push(line);
  }
  return out.join('\r\n');
}
