/**
 * The WebRTC surface the calls API uses, as narrow structural types: the browser's globals fit them, and
 * so does werift (Node), so one call implementation runs in both. Only what a call needs is named here,
 * which keeps a stack that lacks some corner of the W3C API (werift's events, say) usable.
 */

/** An SDP offer or answer, or a rollback (RTCSessionDescriptionInit). */
export interface DescriptionLike {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp?: string;
}

/** A trickled candidate (RTCIceCandidate or its JSON). */
export interface CandidateLike {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
  toJSON?(): unknown;
}

export interface TrackLike {
  readonly kind: string;
  enabled: boolean;
  stop(): void;
}

export interface MediaStreamLike {
  getTracks(): TrackLike[];
  getAudioTracks(): TrackLike[];
  getVideoTracks(): TrackLike[];
  addTrack(track: TrackLike): void;
  removeTrack(track: TrackLike): void;
}

export interface SenderLike {
  readonly track: TrackLike | null;
  replaceTrack(track: TrackLike | null): Promise<void>;
}

export interface TransceiverLike {
  readonly sender: SenderLike;
  readonly receiver: { readonly track: TrackLike | null };
  direction: string;
  readonly stopped?: boolean;
}

/** One entry of a stats report (RTCStats and its subtypes: only the fields the quality reading uses). */
export interface StatsLike {
  type: string;
  id: string;
  kind?: string;
  packetsReceived?: number;
  packetsLost?: number;
  jitter?: number;
  roundTripTime?: number;
  fractionLost?: number;
  currentRoundTripTime?: number;
  nominated?: boolean;
  state?: string;
  selected?: boolean;
}

/** RTCStatsReport: a Map-like of stats; werift's is a Map too. */
export interface StatsReportLike {
  forEach(fn: (s: StatsLike) => void): void;
}

export interface PeerConnectionConfig {
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  iceTransportPolicy: 'all' | 'relay';
}

/** The RTCPeerConnection operations a call uses (handlers are assigned, so werift's setters fit). */
export interface PeerConnectionLike {
  readonly signalingState: string;
  readonly iceConnectionState: string;
  readonly connectionState?: string;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly remoteDescription: { type: string; sdp: string } | null;
  createOffer(options?: { iceRestart?: boolean }): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description: DescriptionLike): Promise<unknown>;
  setRemoteDescription(description: DescriptionLike): Promise<unknown>;
  addIceCandidate(candidate: CandidateLike): Promise<unknown>;
  addTrack(track: TrackLike, ...streams: MediaStreamLike[]): SenderLike;
  removeTrack(sender: SenderLike): void;
  getSenders(): SenderLike[];
  getTransceivers(): TransceiverLike[];
  getStats(): Promise<StatsReportLike>;
  close(): unknown;
  onicecandidate: ((ev: { candidate?: CandidateLike | null }) => void) | null;
  ontrack: ((ev: { track: TrackLike; streams?: readonly MediaStreamLike[] }) => void) | null;
  oniceconnectionstatechange: ((ev?: unknown) => void) | null;
}

export type PeerConnectionConstructor = new (config: PeerConnectionConfig) => PeerConnectionLike;

/** MediaStreamConstraints, as far as calls use them: a device by id, or the default one. */
export interface MediaConstraints {
  audio?: boolean | { deviceId: { exact: string } };
  video?: boolean | { deviceId: { exact: string } };
}

export type GetUserMedia = (constraints: MediaConstraints) => Promise<MediaStreamLike>;

/** `new ParleyClient({ webrtc })`: the WebRTC stack to use (default: the browser's globals). */
export interface WebRtcOptions {
  /** The browser's `RTCPeerConnection` (default), or werift's in Node. */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** The browser's `navigator.mediaDevices.getUserMedia` (default), or a generated source in Node. */
  getUserMedia?: GetUserMedia;
  /** `relay` forces every call through TURN (corporate firewalls, and the TURN test). Default `all`. */
  iceTransportPolicy?: 'all' | 'relay';
  /** How often a connected call measures its quality (`quality` events); 0: never. Default 2000 ms. */
  qualityIntervalMs?: number;
  /** How long ICE may stay `disconnected` before the call restarts it. Default 2000 ms. */
  iceDisconnectedMs?: number;
}

/** The options with the browser's globals filled in; null members where the host has none. */
export interface WebRtc {
  RTCPeerConnection: PeerConnectionConstructor | null;
  getUserMedia: GetUserMedia | null;
  iceTransportPolicy: 'all' | 'relay';
  qualityIntervalMs: number;
  iceDisconnectedMs: number;
}

export function resolveWebRtc(o: WebRtcOptions = {}): WebRtc {
  const g = globalThis as {
    RTCPeerConnection?: PeerConnectionConstructor;
    navigator?: { mediaDevices?: { getUserMedia?: GetUserMedia } };
  };
  const devices = g.navigator?.mediaDevices;
  return {
    RTCPeerConnection: o.RTCPeerConnection ?? g.RTCPeerConnection ?? null,
    // Bound: the browser's getUserMedia called detached from mediaDevices throws "Illegal invocation".
    getUserMedia: o.getUserMedia ?? devices?.getUserMedia?.bind(devices) ?? null,
    iceTransportPolicy: o.iceTransportPolicy ?? 'all',
    qualityIntervalMs: o.qualityIntervalMs ?? 2000,
    iceDisconnectedMs: o.iceDisconnectedMs ?? 2000,
  };
}
