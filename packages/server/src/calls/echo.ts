/**
 * Parley Echo: the built-in contact every tenant has, so a user can check microphone and speakers
 * before an important call (issue 15). Calling it is a call like any other (call record, history,
 * "In a call" for the caller): call control rings the service's device (a {@link CallSession} that is
 * no connection but this object), which answers at once with a `packages/media` WebRTC session and runs
 * the script:
 *
 *   prompt ("Parley echo test...") -> beep -> record up to PARLEY_ECHO_RECORD_SECONDS
 *     -> play the recording back -> closing prompt -> hang up
 *
 * Who it is: the reserved user id {@link ECHO_USER_ID} in every tenant (a generated id always has a
 * `prefix_` form, so it cannot collide), or the address `echo@<any domain>` of the caller's own tenant.
 * The service party takes the caller's tenant, so the record and history stay within the tenant wall.
 *
 * Nothing is orphaned: the call ending (hang up, lost after the grace, shutdown) closes the media
 * session, and the media session closing (ICE consent lost, RFC 7675) hangs the call up.
 */
import type { Logger } from 'pino';
import type { CallServerFrame, CallTarget } from '@parley/protocol';
import {
  playPcm,
  playSilence,
  playTone,
  PromptCache,
  Recorder,
  isMediaError,
  type IceCandidateInit,
  type Pcm,
  type WebRtcEndpoint,
  type WebRtcSession,
} from '@parley/media';
import type { CallSession } from '../realtime/session.ts';
import type { CallServices, CallUser } from './call-control.ts';

/** The echo's user id, the same in every tenant (not a directory row: it cannot sign in or be edited). */
export const ECHO_USER_ID = 'parley-echo';
export const ECHO_DISPLAY_NAME = 'Parley Echo';

export const ECHO_PROMPT =
  'Parley echo test. After the beep, speak for up to ten seconds. What you say will be played back to you.';
export const ECHO_CLOSING = 'That was your echo test. Goodbye.';

/** What the echo service needs of call control: it hands frames in as its device would. */
export interface EchoCallControl {
  frame(session: CallSession, f: import('@parley/protocol').CallClientFrame): unknown;
}

export interface EchoOptions {
  endpoint: WebRtcEndpoint;
  prompts: PromptCache;
  /** `PARLEY_ECHO_RECORD_SECONDS`, ms. */
  recordMs: number;
  log: Logger;
}

/** The echo service: resolves its target for call control and answers each call with a media session. */
export class EchoService implements CallServices {
  private control: EchoCallControl | null = null;
  private readonly calls = new Map<string, EchoCall>();
  private toneFallbackLogged = false;
  private readonly promptPcm = new Map<string, Promise<Pcm | null>>();

  constructor(private readonly o: EchoOptions) {}

  attach(control: EchoCallControl): void {
    this.control = control;
  }

  /** Echo calls in progress (tests check none is left). */
  get size(): number {
    return this.calls.size;
  }

  resolve(tenantId: string, to: CallTarget): CallUser | null {
    const named =
      'userId' in to
        ? to.userId === ECHO_USER_ID
        : 'address' in to && to.address.toLowerCase().split('@')[0] === 'echo';
    if (!named) return null;
    return {
      id: ECHO_USER_ID,
      tenantId,
      address: 'address' in to ? to.address.toLowerCase() : `echo@parley.invalid`,
      displayName: ECHO_DISPLAY_NAME,
      enabled: true,
    };
  }

  owns(userId: string): boolean {
    return userId === ECHO_USER_ID;
  }

  /** A new device for one call: each echo call is its own session, so calls never share state. */
  device(user: CallUser): CallSession {
    const call = new EchoCall(this, user.tenantId);
    return call.session;
  }

  /** Closes every echo call's media (server shutdown; call control ends the calls themselves). */
  async close(): Promise<void> {
    await Promise.all([...this.calls.values()].map((c) => c.close()));
  }

  // --- for EchoCall ---

  get options(): EchoOptions {
    return this.o;
  }

  send(session: CallSession, f: import('@parley/protocol').CallClientFrame): Promise<unknown> {
    return Promise.resolve().then(() => this.control!.frame(session, f));
  }

  track(callId: string, call: EchoCall | null): void {
    if (call) this.calls.set(callId, call);
    else this.calls.delete(callId);
  }

  /** The spoken prompt, or null when espeak-ng is missing or fails (tones instead, logged once). */
  prompt(text: string): Promise<Pcm | null> {
    let p = this.promptPcm.get(text);
    if (!p) {
      p = this.o.prompts.load(text).catch((err: unknown) => {
        this.promptPcm.delete(text); // tried again next call (espeak-ng may be installed meanwhile)
        if (!this.toneFallbackLogged) {
          this.toneFallbackLogged = true;
          this.o.log.warn(
            { err: isMediaError(err) ? err.message : err },
            'echo test: no spoken prompts, playing tones instead',
          );
        }
        return null;
      });
      this.promptPcm.set(text, p);
    }
    return p;
  }
}

let requestIds = 0;

/** One echo call: its device on the call-control side, its media session on the other. */
class EchoCall {
  readonly session: CallSession;
  private callId: string | null = null;
  private media: WebRtcSession | null = null;
  private readonly early: IceCandidateInit[] = [];
  private ended = false;

  constructor(
    private readonly svc: EchoService,
    tenantId: string,
  ) {
    const key = `echo/${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    this.session = {
      tenantId,
      userId: ECHO_USER_ID,
      deviceKey: key,
      push: (f) => this.push(f),
    };
  }

  private push(f: CallServerFrame): void {
    switch (f.t) {
      case 'call.incoming':
        this.callId = f.call.id;
        this.svc.track(f.call.id, this);
        this.early.push(...f.candidates);
        void this.answer(f.offer.sdp).catch((err: unknown) => this.fail(err));
        return;
      case 'call.ice':
        if (this.media) void this.media.addRemoteCandidate(f.candidate).catch(() => {});
        else this.early.push(f.candidate);
        return;
      case 'call.sdp':
        if (f.description.type === 'offer' && this.media) void this.renegotiate(f.description.sdp);
        return;
      case 'call.update':
        if (f.call.state === 'ended') void this.close();
        return;
    }
  }

  private async answer(offer: string): Promise<void> {
    const { session, answer } = await this.svc.options.endpoint.answer(offer);
    this.media = session;
    // The media closing first (the caller vanished, ICE consent lost) hangs the call up.
    session.once('close', () => void this.hangup());
    if (this.ended) return void session.close();
    for (const c of this.early.splice(0)) await session.addRemoteCandidate(c).catch(() => {});
    await this.svc.send(this.session, {
      t: 'call.answer',
      id: ++requestIds,
      callId: this.callId!,
      answer: { type: 'answer', sdp: answer },
    });
    await session.untilConnected();
    await this.script(session);
    await this.hangup();
  }

  /** The echo test itself; every step ends early ('closed') when the session closes. */
  private async script(s: WebRtcSession): Promise<void> {
    const { recordMs } = this.svc.options;
    const closed = () => s.state === 'closed'; // read each time: the session may close at any await
    await this.say(s, ECHO_PROMPT, [523, 659]);
    await playSilence(s.output, 200).done;
    await playTone(s.output, { frequencies: [1000], durationMs: 400 }).done;
    if (closed()) return;
    const recording = await new Recorder(s, { maxDurationMs: recordMs }).done;
    if (closed()) return;
    await playPcm(s.output, recording).done;
    await playSilence(s.output, 300).done;
    await this.say(s, ECHO_CLOSING, [659, 523]);
    await playSilence(s.output, 300).done; // the last frames reach the caller before the hang-up
  }

  /** A prompt, or two short tones in its place when it cannot be spoken. */
  private async say(s: WebRtcSession, text: string, tones: number[]): Promise<void> {
    const pcm = await this.svc.prompt(text);
    if (pcm) return void (await playPcm(s.output, pcm).done);
    for (const f of tones) await playTone(s.output, { frequencies: [f], durationMs: 300 }).done;
  }

  private async renegotiate(offer: string): Promise<void> {
    try {
      const answer = await this.media!.renegotiate(offer);
      await this.svc.send(this.session, {
        t: 'call.sdp',
        id: ++requestIds,
        callId: this.callId!,
        description: { type: 'answer', sdp: answer },
      });
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (!this.ended) this.svc.options.log.warn({ err, call: this.callId }, 'echo call failed');
    void this.hangup();
  }

  private async hangup(): Promise<void> {
    if (this.ended) return;
    const callId = this.callId;
    await this.close();
    if (callId)
      await this.svc.send(this.session, { t: 'call.hangup', id: ++requestIds, callId }).catch(() => {});
  }

  /** Closes the media session (idempotent); the call's end is call control's. */
  async close(): Promise<void> {
    this.ended = true;
    if (this.callId) this.svc.track(this.callId, null);
    await this.media?.close();
  }
}
