/**
 * The server-side WebRTC endpoint: answers offers with {@link WebRtcSession}s bound to one address.
 * It is the sessions' parent: closing the endpoint closes every session it made (nothing orphaned),
 * and a closed session leaves its set.
 */
import type { Clock } from '@parley/sip';
import { CODECS, type CodecName } from './codec.ts';
import { MediaError } from './errors.ts';
import { readOffer } from './offer.ts';
import { WebRtcSession, type IceServer } from './webrtc-session.ts';

export interface WebRtcEndpointOptions {
  /** The address ICE binds and advertises; a concrete address, not 0.0.0.0. */
  readonly address: string;
  /** Codecs in order of preference (default Opus, then PCMU, then PCMA). */
  readonly codecs?: readonly CodecName[];
  readonly iceServers?: readonly IceServer[];
  readonly portRange?: readonly [number, number];
  /** Sessions report 'timeout' after this long without media; 0 or absent: never. */
  readonly mediaTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface OfferOptions {
  /** The one audio codec offered (default PCMU). */
  readonly codec?: CodecName;
}

/** Chromium's payload type for Opus, used when we offer it. */
const OPUS_PAYLOAD_TYPE = 111;
/** Our offers' telephone-event payload type (the usual dynamic choice). */
const OFFER_TELEPHONE_EVENT_PT = 101;

export interface AnswerOptions {
  /** This session's codec preferences, overriding the endpoint's (a bridge leg that must be G.711). */
  readonly codecs?: readonly CodecName[];
}

export const DEFAULT_CODECS: readonly CodecName[] = ['OPUS', 'PCMU', 'PCMA'];

export class WebRtcEndpoint {
  private readonly sessions = new Set<WebRtcSession>();
  private closed = false;

  constructor(readonly options: WebRtcEndpointOptions) {
    if (!options.address || options.address === '0.0.0.0' || options.address === '::')
      throw new RangeError('the endpoint needs a concrete address to bind and advertise');
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Answers an offer: validates it (coded {@link MediaError} on bad input, before any socket opens),
   * creates the session and returns it with the answer SDP.
   */
  async answer(
    offer: string,
    options: AnswerOptions = {},
  ): Promise<{ session: WebRtcSession; answer: string }> {
    if (this.closed) throw new MediaError('closed', 'the media endpoint is closed');
    const choice = readOffer(offer, options.codecs ?? this.options.codecs ?? DEFAULT_CODECS);
    const session = new WebRtcSession(choice, this.options);
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    const answer = await session.start(offer);
    return { session, answer };
  }

  /**
   * Makes an offer for a browser to answer (a phone calls a browser): one audio line with `codec`
   * (default PCMU: the phone leg's codec, so the bridge passes G.711 through) and telephone-event.
   * The browser's answer goes to `session.accept`.
   */
  async offer(options: OfferOptions = {}): Promise<{ session: WebRtcSession; offer: string }> {
    if (this.closed) throw new MediaError('closed', 'the media endpoint is closed');
    const codec = options.codec ?? 'PCMU';
    const info = CODECS[codec];
    const session = new WebRtcSession(
      {
        codec,
        payloadType: info.staticPayloadType ?? OPUS_PAYLOAD_TYPE,
        telephoneEvent: OFFER_TELEPHONE_EVENT_PT,
      },
      this.options,
    );
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    const offer = await session.startOffer();
    return { session, offer };
  }

  /** Closes every session, then refuses new offers; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions].map((s) => s.close()));
  }
}
