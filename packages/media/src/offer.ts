/**
 * Reading a WebRTC offer before any socket is opened: the endpoint refuses garbage, an offer without
 * audio, or one it shares no codec with, with a coded {@link MediaError} the server can pass on as
 * `invalid_sdp`, and it chooses the codec up front so the answer carries exactly one (plus, later,
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
}

function invalid(message: string): never {
  throw new MediaError('invalid_sdp', message);
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
    if (rtp) return { codec: name, payloadType: rtp.payload, mLineIndex };
    // Static payload types may be offered without an rtpmap line (RFC 3551 section 6).
    if (
      info.staticPayloadType !== undefined &&
      String(audio.payloads ?? '')
        .split(' ')
        .includes(String(info.staticPayloadType)) &&
      !(audio.rtp ?? []).some((r) => r.payload === info.staticPayloadType)
    )
      return { codec: name, payloadType: info.staticPayloadType, mLineIndex };
  }
  const offered = (audio.rtp ?? []).map((r) => r.codec).join(', ') || '(none)';
  throw new MediaError(
    'no_common_codec',
    `the offer's audio codecs (${offered}) include none of ${preferences.join(', ')}`,
  );
}
