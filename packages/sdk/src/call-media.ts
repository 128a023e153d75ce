/**
 * The media side of one call on this device: its RTCPeerConnection, the local stream (microphone, and
 * the camera while it is on), the remote stream, mute, camera on and off, device switching, the quality
 * reading and ICE restarts after a network change. Signalling goes through its `Negotiator`; the call's
 * state machine (call.ts) owns this object and closes it when the call ends: closing stops every local
 * track and the connection, so nothing outlives the call.
 *
 * Camera on and off changes the session (a video track is added or removed, RFC 8829 section 5.2.2:
 * a new offer), so it renegotiates; switching a device replaces the track on its sender
 * (`replaceTrack`), which needs no new offer.
 */
import { ParleyError } from '@parley/protocol';
import { Negotiator, type Signalling } from './call-negotiation.ts';
import { readQuality, type CallQuality, type QualitySample } from './call-quality.ts';
import type {
  MediaConstraints,
  MediaStreamLike,
  PeerConnectionConfig,
  PeerConnectionLike,
  TrackLike,
  TransceiverLike,
  WebRtc,
} from './call-webrtc.ts';

export interface CallMediaEvents {
  /** The remote stream changed (a first track, or the other side's camera came or went). */
  remoteStream(stream: MediaStreamLike): void;
  /** The local stream's tracks changed (camera on or off, a device switched). */
  localStream(stream: MediaStreamLike): void;
  /** ICE connectivity (RTCIceConnectionState): `connected`, `disconnected`, `failed`, ... */
  ice(state: string): void;
  error(err: unknown): void;
}

export interface CallMediaOptions {
  webrtc: WebRtc;
  iceServers: PeerConnectionConfig['iceServers'];
  /** The callee is polite in glare (call-negotiation.ts). */
  polite: boolean;
  /** Start with the camera on. */
  video: boolean;
  devices: { audioInput?: string; videoInput?: string };
  /** Whether the realtime link can carry an ICE restart now (else the reconnection will restart ICE). */
  canSignal(): boolean;
  events: CallMediaEvents;
}

export class CallMedia {
  readonly pc: PeerConnectionLike;
  readonly negotiator: Negotiator;
  readonly localStream: MediaStreamLike;
  private remote: MediaStreamLike | null = null;
  private muted = false;
  private camera: boolean;
  private readonly devices: { audioInput?: string; videoInput?: string };
  private disconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private sample: QualitySample | null = null;
  private closed = false;

  /** Opens the microphone (and camera) and a peer connection for them. */
  static async open(o: CallMediaOptions): Promise<CallMedia> {
    const { RTCPeerConnection: Pc, getUserMedia } = o.webrtc;
    if (!Pc) throw new ParleyError('unavailable', 'no WebRTC here: pass webrtc.RTCPeerConnection');
    if (!getUserMedia) throw new ParleyError('unavailable', 'no media devices: pass webrtc.getUserMedia');
    const stream = await getUserMedia({
      audio: device(o.devices.audioInput),
      video: o.video ? device(o.devices.videoInput) : false,
    });
    let pc: PeerConnectionLike;
    try {
      pc = new Pc({ iceServers: o.iceServers, iceTransportPolicy: o.webrtc.iceTransportPolicy });
    } catch (err) {
      stopAll(stream);
      throw err;
    }
    return new CallMedia(pc, stream, o);
  }

  private constructor(
    pc: PeerConnectionLike,
    stream: MediaStreamLike,
    private readonly o: CallMediaOptions,
  ) {
    this.pc = pc;
    this.localStream = stream;
    this.camera = stream.getVideoTracks().length > 0;
    this.devices = { ...o.devices };
    this.negotiator = new Negotiator(pc, { polite: o.polite, onError: (e) => o.events.error(e) });
    pc.ontrack = (ev) => this.remoteTrack(ev.track, ev.streams?.[0]);
    pc.oniceconnectionstatechange = () => this.iceChanged();
  }

  /** The caller's first offer, with the local tracks. */
  offer() {
    this.addLocalTracks();
    return this.negotiator.initialOffer();
  }

  /** The callee's answer to the caller's offer, with the local tracks. */
  answer(
    offer: Parameters<Negotiator['initialAnswer']>[0],
    candidates: Parameters<Negotiator['initialAnswer']>[1],
  ) {
    return this.negotiator.initialAnswer(offer, candidates, () => this.addLocalTracks());
  }

  open(signalling: Signalling): void {
    this.negotiator.open(signalling);
  }

  get remoteStream(): MediaStreamLike | null {
    return this.remote;
  }

  get isMuted(): boolean {
    return this.muted;
  }

  get cameraOn(): boolean {
    return this.camera;
  }

  /** Mutes the microphone: its track stays (no renegotiation) but sends silence. */
  setMuted(muted: boolean): void {
    this.muted = muted;
    for (const t of this.localStream.getAudioTracks()) t.enabled = !muted;
  }

  /** Turns the camera on (a video track added, reusing an idle video transceiver) or off (removed). */
  async setCamera(on: boolean): Promise<void> {
    if (on === this.camera) return;
    if (on) {
      const track = await this.grab('video');
      if (this.closed) return track.stop();
      this.localStream.addTrack(track);
      const idle = this.pc
        .getTransceivers()
        .find((t) => !t.stopped && kindOf(t) === 'video' && !t.sender.track);
      if (idle) {
        await idle.sender.replaceTrack(track);
        idle.direction = 'sendrecv';
      } else this.pc.addTrack(track, this.localStream);
    } else {
      for (const sender of this.pc.getSenders()) {
        if (sender.track?.kind !== 'video') continue;
        this.pc.removeTrack(sender);
      }
      for (const t of this.localStream.getVideoTracks()) {
        t.stop();
        this.localStream.removeTrack(t);
      }
    }
    this.camera = on;
    this.o.events.localStream(this.localStream);
    this.negotiator.renegotiate();
  }

  /** Switches the microphone or camera to another device (`deviceId` from enumerateDevices). */
  async setDevices(d: { audioInput?: string; videoInput?: string }): Promise<void> {
    if (d.audioInput !== undefined) {
      this.devices.audioInput = d.audioInput;
      await this.replace('audio');
    }
    if (d.videoInput !== undefined) {
      this.devices.videoInput = d.videoInput;
      if (this.camera) await this.replace('video');
    }
  }

  /** Reads the connection's statistics now. */
  async quality(): Promise<CallQuality> {
    const { quality, sample } = readQuality(await this.pc.getStats(), this.sample);
    this.sample = sample;
    return quality;
  }

  /** Restarts ICE with a new offer (a new network path; RFC 8445 section 9). */
  restartIce(): void {
    this.negotiator.renegotiate({ iceRestart: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.negotiator.close();
    this.pc.ontrack = null;
    this.pc.oniceconnectionstatechange = null;
    stopAll(this.localStream);
    try {
      const r = this.pc.close() as Promise<unknown> | undefined;
      r?.catch?.(() => {});
    } catch {
      // already closed
    }
  }

  // --- internals ---

  private addLocalTracks(): void {
    for (const t of this.localStream.getTracks()) this.pc.addTrack(t, this.localStream);
    this.setMuted(this.muted);
  }

  private async grab(kind: 'audio' | 'video'): Promise<TrackLike> {
    const gum = this.o.webrtc.getUserMedia!;
    const s = await gum(
      kind === 'audio'
        ? { audio: device(this.devices.audioInput) }
        : { video: device(this.devices.videoInput) },
    );
    const [track, ...rest] = kind === 'audio' ? s.getAudioTracks() : s.getVideoTracks();
    for (const t of rest) t.stop();
    if (!track) throw new ParleyError('unavailable', `no ${kind} track from getUserMedia`);
    return track;
  }

  private async replace(kind: 'audio' | 'video'): Promise<void> {
    const track = await this.grab(kind);
    if (this.closed) return track.stop();
    const sender = this.pc.getSenders().find((s) => s.track?.kind === kind);
    await sender?.replaceTrack(track);
    const old = kind === 'audio' ? this.localStream.getAudioTracks() : this.localStream.getVideoTracks();
    for (const t of old) {
      t.stop();
      this.localStream.removeTrack(t);
    }
    this.localStream.addTrack(track);
    if (!sender) this.pc.addTrack(track, this.localStream);
    if (kind === 'audio') this.setMuted(this.muted);
    this.o.events.localStream(this.localStream);
  }

  private remoteTrack(track: TrackLike, stream: MediaStreamLike | undefined): void {
    if (stream) this.remote = stream;
    else {
      this.remote ??= new TrackList();
      if (!this.remote.getTracks().includes(track)) this.remote.addTrack(track);
    }
    this.o.events.remoteStream(this.remote);
  }

  /**
   * A network change without a socket loss: `failed` restarts ICE at once; `disconnected` often heals by
   * itself (a lost packet or two), so it restarts only if it lasts `iceDisconnectedMs`.
   */
  private iceChanged(): void {
    const state = this.pc.iceConnectionState;
    this.o.events.ice(state);
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = null;
    const restart = () => {
      if (!this.closed && this.o.canSignal()) this.restartIce();
    };
    if (state === 'failed') restart();
    else if (state === 'disconnected') {
      this.disconnectTimer = setTimeout(() => {
        this.disconnectTimer = null;
        if (this.pc.iceConnectionState === 'disconnected') restart();
      }, this.o.webrtc.iceDisconnectedMs);
      (this.disconnectTimer as { unref?: () => void }).unref?.();
    }
  }
}

function device(id: string | undefined): MediaConstraints['audio'] {
  return id ? { deviceId: { exact: id } } : true;
}

function kindOf(t: TransceiverLike): string | undefined {
  return (t as { kind?: string }).kind ?? t.receiver.track?.kind;
}

function stopAll(s: MediaStreamLike): void {
  for (const t of s.getTracks()) t.stop();
}

/** A remote stream for stacks whose track events carry no stream (werift without msid). */
class TrackList implements MediaStreamLike {
  private readonly tracks: TrackLike[] = [];
  getTracks = () => [...this.tracks];
  getAudioTracks = () => this.tracks.filter((t) => t.kind === 'audio');
  getVideoTracks = () => this.tracks.filter((t) => t.kind === 'video');
  addTrack = (t: TrackLike) => void this.tracks.push(t);
  removeTrack = (t: TrackLike) => {
    const i = this.tracks.indexOf(t);
    if (i >= 0) this.tracks.splice(i, 1);
  };
}
