/**
 * The media a phone call needs, as the phone-calls service sees it (phone-calls.ts): four ways to make
 * a leg and one way to join two. A browser's leg is WebRTC (ICE, DTLS-SRTP), a phone's is plain
 * RTP/AVP (RFC 3551, G.711 and RFC 4733 telephone-event); the server answers or makes the offer on each
 * side, so a phone never sees WebRTC and a browser never sees RTP/AVP. Phone to phone is two RTP legs
 * joined: the media are anchored here (NAT-safe, latched to where each phone actually sends from).
 *
 * Why an interface of its own: packages/media knows nothing of Parley and may carry another driver
 * (rtpengine); the service needs only these few calls, and its tests pass a fake that needs no sockets.
 */
import type { AudioSource } from '@parley/media';
import type { IceCandidate } from '@parley/protocol';
import type { TypedEmitter } from '@parley/sip';

export type PhoneMediaLegEvents = {
  /** A key press arrived on this leg (an RFC 4733 event from a phone), one digit. */
  dtmf: [digit: string];
  /** No media arrived for `PARLEY_MEDIA_TIMEOUT` (a phone that lost power or its network). */
  timeout: [];
  /** The leg closed (by `close()`, or by itself: ICE consent lost, RFC 7675). */
  close: [];
};

/** One party's media: a WebRTC session with a browser or an RTP/AVP session with a phone. */
export interface PhoneMediaLeg extends Pick<TypedEmitter<PhoneMediaLegEvents>, 'on' | 'once' | 'off'> {
  /** Our description: the offer (until `accept`) or the answer we made. */
  readonly sdp: string;
  /** Applies the other side's answer to our offer. */
  accept(answer: string): Promise<void>;
  /** A browser's trickled candidate (WebRTC legs; RTP legs ignore it). */
  addRemoteCandidate(c: IceCandidate): Promise<void>;
  /** A new offer from the other side (a browser's ICE restart or camera change): our answer. */
  renegotiate(offer: string): Promise<string>;
  /** Sends key presses (RFC 4733 events on an RTP leg). */
  sendDtmf(digits: string): void;
  /** Closes the leg (idempotent): its sockets and timers. */
  close(): Promise<void>;
  /**
   * Names the call this phone's leg carries: its media statistics go to the call's record when it
   * closes (`PhoneMediaStatsSink`). Optional so test fakes need not have it.
   */
  belongsTo?(callId: string): void;
  /**
   * An RTP leg's codec (its answer's, or the one its offer's answer chose): phone to phone reads the
   * callee's to answer the caller with the same (G.722 passed through). Optional so fakes need not.
   */
  codec?(): string | undefined;
  /**
   * Re-makes our answer to the phone's offer preferring `codecs` (before it is sent: the caller's
   * 200 waits for the callee's choice). Optional: a driver without it keeps its first answer.
   */
  reanswer?(offer: string, codecs: readonly string[]): void;
  /**
   * Plays the warning tone (three short beeps) to the party joined to this leg by `bridge`, in place
   * of this leg's audio, resolving once it has played: a call about to be cut. Optional: a driver
   * that cannot play into a bridged call (rtpengine) has none.
   */
  warnPeer?(): Promise<void>;
  /**
   * Plays `sources` one after another to the party on this leg, which must not be bridged (a call
   * refused with early media: the phone hears why before the final answer). Resolves once played.
   * Optional: a driver that cannot (rtpengine) has none.
   */
  play?(sources: readonly AudioSource[]): Promise<void>;
}

/** A phone leg's media statistics when it closed (the call record's media columns, migration 014). */
export interface PhoneMediaStats {
  driver: 'embedded' | 'rtpengine';
  /** RTP packets received from the phone, and sent to it. */
  packetsIn: number | null;
  packetsOut: number | null;
  /** Loss of the phone's stream, percent. */
  lossPct: number | null;
  /** Interarrival jitter of the phone's stream, ms. */
  jitterMs: number | null;
  /** Why the media failed mid-call, when they did. */
  failure: string | null;
}

/** Where drivers write a closed phone leg's statistics (the call records). */
export type PhoneMediaStatsSink = (callId: string, stats: PhoneMediaStats) => void;

/**
 * The leg a new one will be joined with, when the caller knows it: a driver that carries both parties
 * as one relayed call (rtpengine, phone-media-rtpengine.ts) makes the pair from it; the embedded driver
 * ignores it.
 */
export interface PairWith {
  /** The partner leg, made already (a phone's leg when its browser's is made). */
  peer?: PhoneMediaLeg;
  /** The partner's offer when its leg is not made yet (a browser's, when the phone is offered). */
  peerOffer?: string;
  /**
   * Codecs an RTP offer carries, in order (`offerRtp`): a phone calling a phone that offered G.722
   * gets the callee offered G722, PCMU, PCMA. Absent: the driver's default (G.711). For
   * `answerWebRtc`, the partner's codec to prefer (a carrier's answer: its G.711 passes through).
   */
  codecs?: readonly ('PCMU' | 'PCMA' | 'G722')[];
}

/** Makes and joins legs. */
export interface PhoneMedia {
  /** An RTP/AVP leg offering to a phone (the INVITE Parley sends). */
  offerRtp(o?: PairWith): Promise<PhoneMediaLeg>;
  /** An RTP/AVP leg answering a phone's offer (its INVITE); a coded MediaError when none is usable. */
  answerRtp(offer: string): Promise<PhoneMediaLeg>;
  /** A WebRTC leg offering to a browser (a phone calls a browser). */
  offerWebRtc(o?: PairWith): Promise<PhoneMediaLeg>;
  /** A WebRTC leg answering a browser's offer (a browser calls a phone). */
  answerWebRtc(offer: string, o?: PairWith): Promise<PhoneMediaLeg>;
  /**
   * Joins two legs' audio both ways (and their RFC 4733 digits, between two phones). A promise when
   * joining changes a leg's `sdp` (rtpengine moving a phone into another phone's call): await it before
   * reading the `sdp`.
   */
  bridge(a: PhoneMediaLeg, b: PhoneMediaLeg): void | Promise<void>;
}

/**
 * The offer of a call no browser takes part in (the embedded driver makes WebRTC legs on demand): call
 * control wants one as a browser's (ICE, DTLS, an audio line), but nobody reads it. A carrier's call
 * that rings only phones (their own RTP offers are made for them, trunk-in-call.ts), and a phone calling
 * a number (the trunk leg joins its RTP to the carrier's, phone-caller.ts).
 */
export const PHONES_ONLY_OFFER = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=parley phones only',
  't=0 0',
  'a=ice-ufrag:phonesonly',
  'a=ice-pwd:phonesonlyphonesonlyphones0',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => '00').join(':')}`,
  'm=audio 9 UDP/TLS/RTP/SAVPF 0',
  'c=IN IP4 0.0.0.0',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  '',
].join('\r\n');
