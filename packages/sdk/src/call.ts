/**
 * One call as this device takes part in it: the server's view of it (who, which way, where it is, why it
 * ended), the actions a user takes (answer, decline, hang up, mute, camera, devices) and its media.
 *
 * The state is the server's: the server referees who rang, who won and when the call ended, and says
 * so in `call.update`; this object only moves along the guarded transitions below and ignores a stale or
 * repeated update. It ends itself only when the server cannot tell it (the link was lost and the welcome
 * no longer lists the call, or a hang-up could not be sent), with the reason a user would be told.
 *
 * ```
 *   outgoing:  dialing ──(a callee device rings)──▶ ringing ──(answered)──▶ connected
 *   incoming:                                       ringing ──(answer won)─▶ connected
 *      every state ──(hang up, decline, cancel, no answer, answered elsewhere, lost...)──▶ ended
 * ```
 * Ending closes the media: the peer connection, the microphone and the camera, so nothing outlives the
 * call. An incoming call opens no media until it is answered (a device that loses the race, or a call
 * that is declined, never touches the microphone).
 */
import {
  ParleyError,
  type CallEndReason,
  type CallServerFrame,
  type CallState,
  type CallView,
  type IceCandidate,
  type ResultOf,
  type SessionDescription,
} from '@parley/protocol';
import { TypedEmitter } from './typed-emitter.ts';
import { CallMedia, type CallMediaEvents } from './call-media.ts';
import type { CallQuality } from './call-quality.ts';
import type { MediaStreamLike, PeerConnectionConfig, PeerConnectionLike, WebRtc } from './call-webrtc.ts';
import type { RealtimeLink } from './realtime-link.ts';

export interface CallEvents extends Record<string, unknown[]> {
  /** The call moved (dialing → ringing → connected → ended). */
  state: [CallState];
  /** Anything of the call's view changed (state, answer time, end reason). */
  update: [CallView];
  /** The other side's media: attach it to an audio or video element. Again when its tracks change. */
  remoteStream: [MediaStreamLike];
  /** This device's media changed (camera on or off, a device switched). */
  localStream: [MediaStreamLike];
  /** ICE connectivity changed (`connected`, `disconnected`, `failed`...): a reconnecting hint for the UI. */
  ice: [string];
  /** A periodic reading while connected (`webrtc.qualityIntervalMs`). */
  quality: [CallQuality];
  /** The call is over (after the `state` event for `ended`). */
  ended: [{ reason: CallEndReason | null; endedBy: string | null }];
  /** A failure not tied to an action of yours (a remote description that did not apply, ...). */
  error: [ParleyError];
  /** The other party pressed keys (a desk phone's RFC 4733 digits arrive one per event). */
  dtmf: [string];
}

const transitions: Record<CallState, readonly CallState[]> = {
  dialing: ['ringing', 'connected', 'ended'],
  ringing: ['connected', 'ended'],
  connected: ['ended'],
  ended: [],
};

/** What a call needs from the client: the realtime link, the WebRTC stack, ICE servers. */
export interface CallDeps {
  request: RealtimeLink['request'];
  linkOpen(): boolean;
  webrtc: WebRtc;
  iceServers(): Promise<PeerConnectionConfig['iceServers']>;
  /** This user's id (who ended a call this device ended itself). */
  me(): string | null;
  /** The call ended: the calls list forgets it. */
  ended(call: Call): void;
}

/** Remote candidates an unanswered incoming call keeps (the caller's, trickled while it rings). */
const MAX_HELD_CANDIDATES = 200;

export class Call extends TypedEmitter<CallEvents> {
  private v: CallView;
  private media: CallMedia | null = null;
  private readonly incoming: { offer: SessionDescription; candidates: IceCandidate[] } | null;

  private answering = false;
  /** A `call.incoming` arrived again for this ringing call (the server rang this device's new connection). */
  rerung = false;
  private devices: { audioInput?: string; videoInput?: string } = {};
  private qualityTimer: ReturnType<typeof setInterval> | null = null;

  /** Made by the calls API: an incoming call with the caller's offer, or a placed call with its media. */
  constructor(
    view: CallView,
    private readonly deps: CallDeps,
    start: { incoming: { offer: SessionDescription; candidates: IceCandidate[] } } | { media: CallMedia },
  ) {
    super();
    this.v = view;
    this.incoming =
      'incoming' in start ? { ...start.incoming, candidates: [...start.incoming.candidates] } : null;
    if ('media' in start) {
      this.media = start.media;
      this.openSignalling(start.media);
    }
    if (view.state === 'connected') this.startQuality();
    if (view.state === 'ended') queueMicrotask(() => this.finish());
  }

  get id(): string {
    return this.v.id;
  }
  get direction(): CallView['direction'] {
    return this.v.direction;
  }
  get state(): CallState {
    return this.v.state;
  }
  get peer(): CallView['peer'] {
    return this.v.peer;
  }
  /** Placed with video (either side may still turn its camera on or off). */
  get video(): boolean {
    return this.v.video;
  }
  get endReason(): CallEndReason | null {
    return this.v.endReason;
  }
  get endedBy(): string | null {
    return this.v.endedBy;
  }
  get createdAt(): string {
    return this.v.createdAt;
  }
  get answeredAt(): string | null {
    return this.v.answeredAt;
  }
  get endedAt(): string | null {
    return this.v.endedAt;
  }
  /** The server's view of the call, as last told. */
  get view(): CallView {
    return this.v;
  }
  get localStream(): MediaStreamLike | null {
    return this.media?.localStream ?? null;
  }
  get remoteStream(): MediaStreamLike | null {
    return this.media?.remoteStream ?? null;
  }
  /** The call's RTCPeerConnection (null before an incoming call is answered, and after the end): tests read its stats. */
  get peerConnection(): PeerConnectionLike | null {
    return this.media?.pc ?? null;
  }
  get muted(): boolean {
    return this.media?.isMuted ?? false;
  }
  get cameraOn(): boolean {
    return this.media?.cameraOn ?? false;
  }

  // --- actions ---

  /**
   * Answers a call ringing on this device: opens the microphone (and camera with `video`, default: as
   * the call was placed) and sends the answer. Rejects with `call_state` when another device won the
   * race or the call ended meanwhile (then the call ends with the server's reason).
   */
  async answer(opts: { video?: boolean } = {}): Promise<void> {
    const offer = this.incoming;
    if (!offer || this.v.state !== 'ringing' || this.answering)
      throw new ParleyError(
        'call_state',
        `cannot answer a call that is ${this.answering ? 'being answered' : this.v.state}`,
      );
    this.answering = true;
    let media: CallMedia | null = null;
    try {
      const iceServers = await this.deps.iceServers();
      const video = opts.video ?? this.v.video;
      media = await CallMedia.open(
        Call.mediaOptions(this.deps, iceServers, true, video, this.devices, () => this),
      );
      if (this.state === 'ended') throw new ParleyError('call_state', 'the call ended before the answer');
      this.media = media;
      const answer = await media.answer(offer.offer, offer.candidates.splice(0));
      const view = await this.deps.request({ t: 'call.answer', callId: this.id, answer });
      this.apply(view);
      // A ringing device sends its candidates only once its answer won (protocol/calls.ts).
      if (this.state === 'connected') this.openSignalling(media);
    } catch (err) {
      if (media && this.state !== 'connected') {
        media.close();
        if (this.media === media) this.media = null;
      }
      throw err;
    } finally {
      this.answering = false;
    }
  }

  /** Declines a call ringing on this device: it stops ringing everywhere and the caller hears busy. */
  async decline(): Promise<void> {
    if (this.v.direction !== 'incoming' || this.v.state !== 'ringing')
      throw new ParleyError('call_state', `cannot decline a call that is ${this.v.state}`);
    await this.finalRequest({ t: 'call.decline', callId: this.id }, 'declined');
  }

  /** Hangs up (before the answer: cancels, a missed call for the callee). Ringing here: declines. */
  async hangup(): Promise<void> {
    if (this.v.state === 'ended') return;
    if (this.v.direction === 'incoming' && this.v.state === 'ringing' && !this.answering)
      return this.decline();
    // The microphone and camera stop at once, whatever the server takes to answer.
    this.media?.close();
    await this.finalRequest(
      { t: 'call.hangup', callId: this.id },
      this.v.state === 'connected' ? 'hangup' : 'cancelled',
    );
  }

  /**
   * Sends key presses (0-9, `*`, `#`, A-D) to the other party once the call is answered: a phone
   * hears them as RFC 4733 events (its menu, a conference PIN). Coded `validation_failed` otherwise.
   */
  async sendDtmf(digits: string): Promise<void> {
    if (this.v.state !== 'connected')
      throw new ParleyError(
        'call_state',
        `key presses are sent once the call is answered, not ${this.v.state}`,
      );
    await this.deps.request({ t: 'call.dtmf', callId: this.id, digits });
  }

  /** Mutes or unmutes the microphone (the other side hears silence; no renegotiation). */
  setMuted(muted: boolean): void {
    this.needMedia().setMuted(muted);
  }

  /** Turns the camera on or off: adds or removes the video track, with a new offer (`call.sdp`). */
  setCamera(on: boolean): Promise<void> {
    return this.needMedia().setCamera(on);
  }

  /**
   * Picks the microphone and camera (`deviceId`s from `navigator.mediaDevices.enumerateDevices()`).
   * Before the answer it is remembered for it; during the call the track is replaced in place.
   */
  async setDevices(d: { audioInput?: string; videoInput?: string }): Promise<void> {
    this.devices = { ...this.devices, ...d };
    if (this.media) await this.media.setDevices(d);
  }

  /** The network quality now, from `getStats` (`unknown` without media). */
  quality(): Promise<CallQuality> {
    if (!this.media)
      return Promise.resolve({
        level: 'unknown',
        roundTripTime: null,
        packetLoss: null,
        jitter: null,
        packetsReceived: 0,
      });
    return this.media.quality();
  }

  // --- from the calls API ---

  /** A push for this call. */
  received(f: CallServerFrame): void {
    switch (f.t) {
      case 'call.update':
        return this.apply(f.call);
      case 'call.sdp':
        if (this.media) this.media.negotiator.remoteDescription(f.description).catch((e) => this.fail(e));
        return;
      case 'call.ice':
        if (this.media) this.media.negotiator.remoteCandidate(f.candidate).catch((e) => this.fail(e));
        else if (this.incoming && this.incoming.candidates.length < MAX_HELD_CANDIDATES)
          this.incoming.candidates.push(f.candidate);
        return;
      case 'call.dtmf':
        if (this.v.state === 'connected') this.emit('dtmf', f.digits);
        return;
      case 'call.incoming':
        // Rung again on this device's new connection (after a reconnection): the offer and every
        // candidate so far, again.
        if (this.incoming && this.v.state === 'ringing' && !this.media) {
          this.incoming.offer = f.offer;
          this.incoming.candidates.splice(0, Infinity, ...f.candidates);
          this.rerung = true;
        }
        return;
    }
  }

  /**
   * The realtime link came back and the welcome still lists this call: take the server's view, send what
   * failed to go while away, and restart ICE if media flowed (the network path has likely changed).
   */
  resumed(view: CallView): void {
    this.apply(view);
    if (this.v.state === 'ended' || !this.media) return;
    this.media.negotiator.resume({ iceRestart: this.v.state === 'connected' });
  }

  /**
   * The server no longer holds this device in the call (the welcome does not list it, or the link
   * closed): it ended, or went on without this device, while it was away.
   */
  lost(): void {
    this.endHere('lost', null);
  }

  /** Takes the server's view if it moves the call forward (or is the same state with news). */
  apply(view: CallView): void {
    if (view.id !== this.v.id) return;
    const from = this.v.state;
    if (view.state !== from && !transitions[from].includes(view.state)) return; // stale or repeated
    const changed = JSON.stringify(view) !== JSON.stringify(this.v);
    this.v = view;
    if (view.state !== from) {
      this.emit('state', view.state);
      if (view.state === 'connected') this.startQuality();
    }
    if (changed) this.emit('update', view);
    if (view.state === 'ended' && from !== 'ended') this.finish();
  }

  // --- internals ---

  private needMedia(): CallMedia {
    if (!this.media || this.v.state === 'ended')
      throw new ParleyError('call_state', `no media in a call that is ${this.v.state}: answer it first`);
    return this.media;
  }

  /** Sends a decline or hang-up, then ends here if the server's update has not done so already. */
  private async finalRequest(
    frame: Extract<Parameters<CallDeps['request']>[0], { t: 'call.decline' | 'call.hangup' }>,
    reason: CallEndReason,
  ): Promise<void> {
    try {
      await (this.deps.request(frame) as Promise<ResultOf['call.hangup']>);
    } catch (err) {
      // Over already (call_state), or the link is down (the server ends it after the lost grace).
      const code = (err as { code?: string }).code;
      if (code !== 'call_state' && code !== 'unavailable') {
        this.endHere(reason, this.deps.me());
        throw err;
      }
    }
    this.endHere(reason, this.deps.me());
  }

  private endHere(reason: CallEndReason, endedBy: string | null): void {
    if (this.v.state === 'ended') return;
    this.apply({ ...this.v, state: 'ended', endedAt: new Date().toISOString(), endReason: reason, endedBy });
  }

  private finish(): void {
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    this.qualityTimer = null;
    this.media?.close();
    this.media = null;
    this.emit('ended', { reason: this.v.endReason, endedBy: this.v.endedBy });
    this.deps.ended(this);
  }

  private openSignalling(media: CallMedia): void {
    media.open({
      description: (description) => this.deps.request({ t: 'call.sdp', callId: this.id, description }),
      candidate: (candidate) => this.deps.request({ t: 'call.ice', callId: this.id, candidate }),
    });
  }

  private startQuality(): void {
    const every = this.deps.webrtc.qualityIntervalMs;
    if (this.qualityTimer || every <= 0) return;
    this.qualityTimer = setInterval(() => {
      if (!this.media || this.v.state !== 'connected') return;
      this.media.quality().then(
        (q) => this.emit('quality', q),
        () => {},
      );
    }, every);
    (this.qualityTimer as { unref?: () => void }).unref?.();
  }

  private fail(err: unknown): void {
    if (this.v.state === 'ended') return;
    this.emit(
      'error',
      err instanceof ParleyError ? err : new ParleyError('internal', `call ${this.id}: ${String(err)}`),
    );
  }

  /**
   * Media options whose events go to the call `target()` returns: a placed call opens its media before
   * the server knows the call, so the call object comes later (nothing is emitted before the answer).
   */
  static mediaOptions(
    deps: Pick<CallDeps, 'webrtc' | 'linkOpen'>,
    iceServers: PeerConnectionConfig['iceServers'],
    polite: boolean,
    video: boolean,
    devices: { audioInput?: string; videoInput?: string },
    target: () => Call | null,
  ): Parameters<typeof CallMedia.open>[0] {
    const events: CallMediaEvents = {
      remoteStream: (s) => target()?.emit('remoteStream', s),
      localStream: (s) => target()?.emit('localStream', s),
      ice: (s) => target()?.emit('ice', s),
      error: (e) => target()?.fail(e),
    };
    return {
      webrtc: deps.webrtc,
      iceServers,
      polite,
      video,
      devices,
      canSignal: () => deps.linkOpen(),
      events,
    };
  }

  /** Remembers the devices a placed call opened with (for later switches of the other one). */
  useDevices(devices: { audioInput?: string; videoInput?: string }): void {
    this.devices = { ...devices };
  }
}
