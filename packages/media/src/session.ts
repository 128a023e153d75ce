/**
 * The media session: the one interface the echo test, the WebRTC<->RTP bridge, voicemail and
 * meetings share. A session is one party's media, whatever carries it (a WebRTC peer here; a plain
 * RTP phone leg or an rtpengine stream later). Its users see only PCM in, PCM out and a lifetime.
 *
 *                       owner (echo test, bridge, voicemail, meeting)
 *                         |            ^               |
 *          output.play(src)   'audio' AudioFrame       close()
 *                         v            |               v
 *   +---------------------------------------------------------------------+
 *   | MediaSession                                                        |
 *   |  AudioOutput queue --> Pacer (20 ms, drift-free) --> encode --> RTP ---> far end
 *   |  'audio' <-- decode <-- RTP <------------------------------------------- far end
 *   |  owns: transport (ICE/DTLS sockets), codec state, pacer timer       |
 *   +---------------------------------------------------------------------+
 *
 * Lifetime, an explicit state machine (guarded: a closed session never reopens):
 *
 *     created
 *        |
 *        v
 *   [connecting] --transport up--> [connected] --ICE lost--> [disconnected]
 *        |                             ^                          |
 *        |                             +-------ICE back-----------+
 *        |  failed / close()               failed / close()       |
 *        +------------------------------+-------------------------+
 *                                       v
 *                                   [closed]   tracks stopped, pacer timer cleared,
 *                                               codec freed, sockets closed; 'close' once
 *
 * `close()` is idempotent and resolves once every socket is closed. The owner decides how long a
 * disconnected session may linger (call control's grace); the session only reports. A peer that
 * vanishes (or closes without a word on signalling) is found by ICE consent freshness (RFC 7675):
 * measured with werift, about 30 s later the session closes itself as 'failed'.
 *
 * Two more things every session reports: digits (RFC 4733 telephone events, `'dtmf'` once per key
 * press) and a media timeout (`'timeout'` after `mediaTimeoutMs` without an incoming packet while
 * the far side says it sends, `'media'` when packets come back). The session only reports a
 * timeout; its owner decides whether that ends the call.
 *
 * The bridge needs one thing more, {@link PacketPort}: the raw packets as they arrive (no decoding)
 * and a way to send a packet on at once, so G.711 crosses from one leg to the other without the
 * pacer and without a decode/encode (see `bridge.ts`).
 */
import type { AudioOutput } from './audio-out.ts';
import { MediaError } from './errors.ts';
import type { CodecInfo, CodecName } from './codec.ts';
import type { DtmfEvent, DtmfSendOptions } from './dtmf.ts';
import type { PacerStats } from './pacer.ts';

export type MediaSessionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Why a session closed: its owner closed it, or its transport failed (ICE or DTLS). */
export type MediaCloseReason = 'closed' | 'failed';

/** One decoded incoming frame (20 ms of 16-bit mono PCM). */
export interface AudioFrame {
  readonly samples: Int16Array;
  readonly sampleRate: number;
  /** RTP timestamp of the packet (RFC 3550 section 5.1), in the codec's clock. */
  readonly rtpTimestamp: number;
  readonly sequence: number;
}

export interface MediaSessionStats {
  readonly packetsSent: number;
  readonly packetsReceived: number;
  /** Packets missing by sequence number (RFC 3550 appendix A.3, without reordering tolerance). */
  readonly packetsLost: number;
  readonly decodeErrors: number;
  readonly pacer: PacerStats;
}

export type MediaSessionEvents = {
  state: [MediaSessionState];
  audio: [AudioFrame];
  close: [MediaCloseReason];
  /** A digit from the far end (RFC 4733), once per key press, when it ends. */
  dtmf: [DtmfEvent];
  /** No packet for the media timeout while the far end should be sending. */
  timeout: [];
  /** Packets again after a timeout. */
  media: [];
  /** Every incoming RTP packet of the negotiated audio codecs and telephone-event, undecoded. */
  packet: [MediaPacket];
};

/** An incoming packet as the bridge forwards it. */
export interface MediaPacket {
  /** Audio of `codec`, or an RFC 4733 telephone event. */
  readonly kind: 'audio' | 'event';
  readonly codec?: CodecName;
  /** Valid only while the listener runs (a view into the datagram); copy it to keep it. */
  readonly payload: Uint8Array;
  readonly timestamp: number;
  readonly sequence: number;
  readonly marker: boolean;
  readonly ssrc: number;
}

/** Forwarding packets through a session without its pacer (the bridge's fast path). */
export interface PacketPort {
  /** Codecs the far end takes from us as they are (the first is the one we send from the pacer). */
  readonly sendCodecs: readonly CodecName[];
  /** Whether the far end takes RFC 4733 telephone events from us. */
  readonly sendsEvents: boolean;
  /**
   * Sends `packet` now under our SSRC and sequence numbers, its timestamp moved onto our own
   * timeline (an offset fixed per source SSRC), so forwarded and paced packets never collide.
   * Audio in a codec not in {@link sendCodecs}, or an event when {@link sendsEvents} is false, is
   * dropped: the caller checks first.
   */
  forward(packet: MediaPacket): void;
  /** Turns the session's own pacer off (the bridge forwards instead) or back on. */
  setPaced(on: boolean): void;
}

/** Listening to a session's events (what a recorder or an echo needs of it). */
export interface MediaSessionEventSource {
  on<K extends keyof MediaSessionEvents>(event: K, fn: (...args: MediaSessionEvents[K]) => void): unknown;
  once<K extends keyof MediaSessionEvents>(event: K, fn: (...args: MediaSessionEvents[K]) => void): unknown;
  off<K extends keyof MediaSessionEvents>(event: K, fn: (...args: MediaSessionEvents[K]) => void): unknown;
}

/** The shared shape; see the module comment for the lifetime. */
export interface MediaSession extends MediaSessionEventSource {
  readonly id: string;
  readonly state: MediaSessionState;
  /** The negotiated codec; PCM in both directions is at `codec.sampleRate`. */
  readonly codec: CodecInfo;
  /** Outgoing audio: queue sources (prompts, tones, recordings); silence when idle. */
  readonly output: AudioOutput;
  readonly stats: MediaSessionStats;
  /** Resolves when the transport is up; rejects with `closed` if the session closes first. */
  untilConnected(): Promise<void>;
  /**
   * Sends digits to the far end as RFC 4733 events, one after another; resolves when the last has
   * ended. Rejects with `no_telephone_event` when the far end did not negotiate telephone-event.
   */
  sendDtmf(digits: string, options?: DtmfSendOptions): Promise<void>;
  /** Closes everything the session owns; idempotent; resolves when the sockets are closed. */
  close(reason?: MediaCloseReason): Promise<void>;
}

/**
 * {@link MediaSession.untilConnected} for any session: resolves once it is (or has been) connected,
 * rejects with `closed` when it closes first.
 */
export function untilConnected(session: Pick<MediaSession, 'state' | 'on' | 'off'>): Promise<void> {
  if (session.state === 'connected' || session.state === 'disconnected') return Promise.resolve();
  if (session.state === 'closed')
    return Promise.reject(new MediaError('closed', 'the media session is closed'));
  return new Promise((resolve, reject) => {
    const onState = (s: MediaSessionState) => {
      session.off('state', onState);
      if (s === 'closed') reject(new MediaError('closed', 'the media session closed before it connected'));
      else resolve();
    };
    session.on('state', onState);
  });
}
