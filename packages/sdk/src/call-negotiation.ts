/**
 * Offer/answer for one call's RTCPeerConnection, in the "perfect negotiation" pattern (W3C WebRTC 1.0,
 * section 10.7 example): either side may offer at any time after the answer (camera on or off, an ICE
 * restart), and when both offer at once (glare) the polite side (the callee) rolls its offer back and
 * answers the other's, while the impolite side (the caller) ignores the colliding offer. The polite side
 * then offers its own change again, so both changes land and only one offer is ever in flight per side.
 *
 * Every operation on the connection runs in one queue, in arrival order: a remote offer that arrives
 * while this side is still creating its own offer waits until that offer is set, and then sees the
 * collision in `signalingState` (no `makingOffer` flag racing across awaits). Sending never holds the
 * queue: a round trip to the server must not delay applying the other side's frames.
 *
 * Trickle ICE (RFC 8838): local candidates are held until the call may send them (the caller once the
 * server gave the call an id, the callee once its answer won) and remote ones until a remote description
 * exists. What failed to send while the realtime link was down is sent again on `resume()`.
 */
import type { IceCandidate, SessionDescription } from '@parley/protocol';
import type { CandidateLike, PeerConnectionLike } from './call-webrtc.ts';

/** How the negotiator reaches the other party (the call's `call.sdp` and `call.ice` frames). */
export interface Signalling {
  description(d: SessionDescription): Promise<unknown>;
  candidate(c: IceCandidate): Promise<unknown>;
}

export interface NegotiatorOptions {
  /** The callee is polite: on glare it yields to the caller's offer. */
  polite: boolean;
  /** A failure the application should hear about (a remote description that did not apply, ...). */
  onError(err: unknown): void;
}

export class Negotiator {
  private queue: Promise<void> = Promise.resolve();
  private signalling: Signalling | null = null;
  /** Local candidates gathered before trickle opened, or whose send failed (link down). */
  private readonly localHeld: IceCandidate[] = [];
  /** Remote candidates that arrived before any remote description. */
  private readonly remoteHeld: IceCandidate[] = [];
  /** A description whose send failed: sent again on resume (an answer the other side still waits for). */
  private unsent: SessionDescription | null = null;
  /** A renegotiation asked for while an offer was in flight (or rolled back on glare). */
  private wanted: { iceRestart: boolean } | null = null;
  /** The kind of offer this side has in flight, if any. */
  private inFlight: { iceRestart: boolean } | null = null;
  /** The impolite side ignored a colliding offer: its candidates will not apply either. */
  private ignoring = false;
  /**
   * A local description is being set and not yet sent: candidates of its ICE generation wait, since
   * the other side can only apply them after the description (they name its new ufrag).
   */
  private describing = false;
  private closed = false;

  constructor(
    private readonly pc: PeerConnectionLike,
    private readonly o: NegotiatorOptions,
  ) {
    pc.onicecandidate = (ev) => this.localCandidate(ev.candidate ?? null);
  }

  /** The caller's first offer (sent with `call.place`). */
  initialOffer(): Promise<SessionDescription> {
    return this.run(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(asInit(offer));
      return this.localDescription();
    });
  }

  /**
   * The callee's answer: applies the caller's offer and candidates, lets `addTracks` attach the local
   * media (so the answer carries them, reusing the offer's transceivers), then answers.
   */
  initialAnswer(
    offer: SessionDescription,
    candidates: readonly IceCandidate[],
    addTracks: () => void,
  ): Promise<SessionDescription> {
    this.remoteHeld.push(...candidates);
    return this.run(async () => {
      await this.pc.setRemoteDescription(offer);
      await this.flushRemote();
      addTracks();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(asInit(answer));
      return this.localDescription();
    });
  }

  /** The call may now signal: held local candidates go out, later ones as they are gathered. */
  open(signalling: Signalling): void {
    this.signalling = signalling;
    this.flushLocal();
  }

  /** A new offer or answer from the other party (`call.sdp`). */
  remoteDescription(d: SessionDescription): Promise<void> {
    return this.run(async () => {
      if (d.type === 'answer') {
        // An answer to an offer this side no longer has (rolled back, or a duplicate): nothing to do.
        if (this.pc.signalingState !== 'have-local-offer') return;
        await this.pc.setRemoteDescription(d);
        this.inFlight = null;
        await this.flushRemote();
        await this.offerIfWanted();
        return;
      }
      const collision = this.pc.signalingState !== 'stable';
      this.ignoring = !this.o.polite && collision;
      if (this.ignoring) return;
      if (collision) {
        await this.pc.setLocalDescription({ type: 'rollback' });
        // Our rolled-back change still has to be offered, after this answer. An ICE restart need not be:
        // the other side's offer restarts ICE for both when it did, and renews nothing otherwise.
        if (this.inFlight && !this.inFlight.iceRestart) this.want({ iceRestart: false });
        this.inFlight = null;
      }
      await this.pc.setRemoteDescription(d);
      await this.flushRemote();
      await this.describe(await this.pc.createAnswer());
      await this.offerIfWanted();
    });
  }

  /** A trickled candidate from the other party (`call.ice`). */
  remoteCandidate(c: IceCandidate): Promise<void> {
    return this.run(async () => {
      if (!this.pc.remoteDescription) {
        this.remoteHeld.push(c);
        return;
      }
      await this.addCandidate(c);
    });
  }

  /**
   * Offers again (a track added or removed, or `iceRestart` after a network change). While an offer is
   * in flight the request waits for its answer, and requests made meanwhile are folded into one.
   */
  renegotiate(opts: { iceRestart?: boolean } = {}): void {
    this.want({ iceRestart: !!opts.iceRestart });
    this.run(() => this.offerIfWanted()).catch((err: unknown) => this.o.onError(err));
  }

  /**
   * After the realtime link came back: an answer that failed to send goes again, then ICE restarts (new
   * paths), carrying any change whose offer was rolled back meanwhile.
   */
  resume(opts: { iceRestart: boolean }): void {
    const d = this.unsent;
    this.unsent = null;
    if (d) this.send(d);
    this.flushLocal();
    if (opts.iceRestart) this.renegotiate({ iceRestart: true });
    else if (this.wanted) this.renegotiate();
  }

  close(): void {
    this.closed = true;
    this.pc.onicecandidate = null;
  }

  // --- internals ---

  private want(w: { iceRestart: boolean }): void {
    this.wanted = { iceRestart: (this.wanted?.iceRestart ?? false) || w.iceRestart };
  }

  /** Runs inside the queue (after an answer settles, the next wanted offer goes). */
  private async offerIfWanted(): Promise<void> {
    if (!this.wanted || this.closed || !this.signalling) return;
    // One offer at a time: the answer settling it calls this again for the next one.
    if (this.pc.signalingState !== 'stable' || !this.pc.remoteDescription) return;
    const w = this.wanted;
    this.wanted = null;
    const offer = await this.pc.createOffer(w.iceRestart ? { iceRestart: true } : undefined);
    await this.describe(offer);
    this.inFlight = w;
    this.ignoring = false;
  }

  /** Sets a local description and sends it, then the candidates gathered meanwhile (in that order). */
  private async describe(d: { type: string; sdp?: string }): Promise<void> {
    this.describing = true;
    try {
      await this.pc.setLocalDescription(asInit(d));
      this.send(this.localDescription());
    } finally {
      this.describing = false;
      this.flushLocal();
    }
  }

  private send(d: SessionDescription): void {
    const s = this.signalling;
    if (!s) return;
    s.description(d).catch((err: unknown) => {
      if (!isExpected(err)) this.o.onError(err);
      if (d.type === 'answer') {
        // The other side waits for it: sent again on resume.
        this.unsent = d;
        return;
      }
      // An offer the other side never got (our link is down, or the server says the other party is
      // reconnecting): left in place, it would deadlock with the other side's own offer when it
      // returns (the caller ignores colliding offers). Rolled back, and the change kept for later.
      this.run(async () => {
        if (this.pc.signalingState !== 'have-local-offer' || this.pc.localDescription?.sdp !== d.sdp) return;
        await this.pc.setLocalDescription({ type: 'rollback' });
        if (this.inFlight) this.want(this.inFlight);
        this.inFlight = null;
      }).catch((e: unknown) => this.o.onError(e));
    });
  }

  private localCandidate(c: CandidateLike | null): void {
    if (this.closed) return;
    // null: gathering is complete; sent as the end-of-candidates indication (RFC 8838 section 4.4).
    const init: IceCandidate = c
      ? {
          candidate: c.candidate,
          sdpMid: c.sdpMid ?? null,
          sdpMLineIndex: c.sdpMLineIndex ?? null,
          ...(c.usernameFragment ? { usernameFragment: c.usernameFragment } : {}),
        }
      : { candidate: '', sdpMid: null, sdpMLineIndex: 0 };
    this.localHeld.push(init);
    this.flushLocal();
  }

  private flushLocal(): void {
    const s = this.signalling;
    if (!s || this.closed || this.describing) return;
    for (const c of this.localHeld.splice(0)) {
      s.candidate(c).catch((err: unknown) => {
        if (isUnavailable(err)) this.localHeld.push(c);
      });
    }
  }

  private async flushRemote(): Promise<void> {
    for (const c of this.remoteHeld.splice(0)) await this.addCandidate(c);
  }

  private async addCandidate(c: IceCandidate): Promise<void> {
    try {
      await this.pc.addIceCandidate(c.candidate === '' ? { ...c, candidate: '' } : c);
    } catch (err) {
      // Candidates of an offer this side ignored, or of an earlier ICE generation, do not apply.
      if (!this.ignoring && c.candidate !== '') this.o.onError(err);
    }
  }

  private localDescription(): SessionDescription {
    const d = this.pc.localDescription;
    if (!d || (d.type !== 'offer' && d.type !== 'answer')) throw new Error('no local description');
    return { type: d.type, sdp: d.sdp };
  }

  /** Queues `fn` after every earlier operation; a failure rejects its own promise, not the queue. */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(() => (this.closed ? Promise.reject(new Error('call closed')) : fn()));
    this.queue = p.then(
      () => {},
      () => {},
    );
    return p;
  }
}

function asInit(d: { type: string; sdp?: string }): { type: 'offer' | 'answer'; sdp?: string } {
  return { type: d.type as 'offer' | 'answer', ...(d.sdp !== undefined ? { sdp: d.sdp } : {}) };
}

function isUnavailable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'unavailable';
}

/** Refusals that are part of a call's life: the link is down, or the other party is reconnecting. */
function isExpected(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'unavailable' || code === 'call_state';
}
