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
 * measured with werift, about 30 s later the session closes itself as 'failed'. DTMF
 * (RFC 4733) events join the event map with the bridge.
 */
import type { AudioOutput } from './audio-out.ts';
import type { CodecInfo } from './codec.ts';
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
};

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
  /** Closes everything the session owns; idempotent; resolves when the sockets are closed. */
  close(reason?: MediaCloseReason): Promise<void>;
}
