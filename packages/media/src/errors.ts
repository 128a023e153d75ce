/**
 * Errors of the media plane. Every one carries a stable code so the server can map it onto its own
 * catalogue (`invalid_sdp` for the SDP ones) and log lines can be matched by code, never by text.
 * They are expected conditions (bad input from the network, a missing program), not bugs.
 */

export type MediaErrorCode =
  /** The SDP does not parse, or lacks what WebRTC needs (ICE credentials, a DTLS fingerprint). */
  | 'invalid_sdp'
  /** The offer has no usable audio m-line (none, or all rejected with port 0). */
  | 'no_audio'
  /** The offer's audio line shares no codec with the endpoint's list. */
  | 'no_common_codec'
  /** The audio line is not the transport this session speaks (RTP/AVP for a phone leg, DTLS-SRTP for WebRTC). */
  | 'unsupported_transport'
  /** No free UDP port pair for RTP and RTCP in the configured range. */
  | 'no_ports'
  /** Digits to send that are not DTMF (0-9, *, #, A-D; at most 64). */
  | 'invalid_dtmf'
  /** The far end did not negotiate RFC 4733 telephone-event, so digits cannot be sent. */
  | 'no_telephone_event'
  /** An answer given to a session that made no offer, or a second one. */
  | 'unexpected_answer'
  /** A trickled ICE candidate that is not an RFC 8839 candidate line. */
  | 'invalid_candidate'
  /** A WAV file that is not mono/stereo 16-bit PCM, or is truncated. */
  | 'unsupported_wav'
  /** The text-to-speech program (espeak-ng) is not installed: the caller falls back to tones. */
  | 'tts_unavailable'
  /** espeak-ng ran but failed, or the prompt text is empty or too long. */
  | 'tts_failed'
  /**
   * Audio would have to be decoded or encoded in a codec the media plane only passes through
   * (G.722): two legs to be bridged share no codec and one of them negotiated it.
   */
  | 'not_transcodable'
  /** The session (or endpoint) is closed. */
  | 'closed';

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMediaError(err: unknown, code?: MediaErrorCode): err is MediaError {
  return err instanceof MediaError && (code === undefined || err.code === code);
}
