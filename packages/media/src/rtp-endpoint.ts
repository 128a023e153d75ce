/**
 * The plain RTP endpoint: makes {@link RtpSession}s on one address (and a port range), as offerer
 * or answerer. Like the WebRTC endpoint it is the sessions' parent: closing it closes every
 * session it made, and a closed session leaves its set.
 */
import type { Clock } from '@parley/sip';
import { MediaError } from './errors.ts';
import { bindRtpPair } from './rtp-ports.ts';
import { readRtpSdp, RTP_CODECS, type RtpCodecName } from './rtp-sdp.ts';
import { RtpSession } from './rtp-session.ts';

export interface RtpEndpointOptions {
  /** The address sockets bind and SDP advertises; a concrete address, not 0.0.0.0. */
  readonly address: string;
  /** UDP ports for RTP/RTCP pairs (inclusive), e.g. a firewall's 20000-29999; any free pair when absent. */
  readonly portRange?: readonly [number, number];
  /** Codecs in order of preference (default PCMU, then PCMA). */
  readonly codecs?: readonly RtpCodecName[];
  /** A session reports 'timeout' after this long without media; 0 or absent: never. */
  readonly mediaTimeoutMs?: number;
  readonly rtcpIntervalMs?: number;
  readonly clock?: Clock;
}

export interface RtpSessionRequest {
  /** This session's codec preferences (the bridge puts the other leg's codec first). */
  readonly codecs?: readonly RtpCodecName[];
  /**
   * False: the session sends no frames of its own (not even silence) until `setPaced(true)`, as a
   * bridge does when it must encode for it. A leg that waits to be joined sets it: otherwise our
   * answer's codec reaches a phone before the answer does (a caller's answer re-made before its 200
   * would change the codec under the phone's feet). Default true.
   */
  readonly paced?: boolean;
}

export class RtpEndpoint {
  private readonly sessions = new Set<RtpSession>();
  private closed = false;

  constructor(readonly options: RtpEndpointOptions) {
    if (!options.address || options.address === '0.0.0.0' || options.address === '::')
      throw new RangeError('the RTP endpoint needs a concrete address to bind and advertise');
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A session that offers (the far side's answer goes to `session.accept`). */
  async offer(request: RtpSessionRequest = {}): Promise<{ session: RtpSession; offer: string }> {
    const session = await this.create(request.codecs ?? this.options.codecs ?? RTP_CODECS);
    if (request.paced === false) session.setPaced(false);
    return { session, offer: session.makeOffer() };
  }

  /**
   * Answers an offer: validated first (`invalid_sdp`, `no_audio`, `unsupported_transport`,
   * `no_common_codec`, before any socket opens), then a session bound and its answer made.
   */
  async answer(
    offer: string,
    request: RtpSessionRequest = {},
  ): Promise<{ session: RtpSession; answer: string }> {
    const codecs = request.codecs ?? this.options.codecs ?? RTP_CODECS;
    readRtpSdp(offer, 'offer', codecs);
    const session = await this.create(codecs);
    if (request.paced === false) session.setPaced(false);
    try {
      return { session, answer: session.answer(offer, codecs) };
    } catch (err) {
      await session.close('failed');
      throw err;
    }
  }

  /** Closes every session, then refuses new ones; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  private async create(codecs: readonly RtpCodecName[]): Promise<RtpSession> {
    if (this.closed) throw new MediaError('closed', 'the RTP endpoint is closed');
    const sockets = await bindRtpPair(this.options.address, this.options.portRange);
    if (this.closed) {
      sockets.rtp.close();
      sockets.rtcp.close();
      throw new MediaError('closed', 'the RTP endpoint is closed');
    }
    const session = new RtpSession(sockets, this.options, codecs.length ? codecs : RTP_CODECS);
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    return session;
  }
}
