/**
 * The server-side WebRTC endpoint: answers offers with {@link WebRtcSession}s bound to one address.
 * It is the sessions' parent: closing the endpoint closes every session it made (nothing orphaned),
 * and a closed session leaves its set.
 */
import type { Clock } from '@parley/sip';
import type { CodecName } from './codec.ts';
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
  readonly clock?: Clock;
}

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

  /** Closes every session, then refuses new offers; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions].map((s) => s.close()));
  }
}
