/**
 * A Leg: one party's attachment to a call: a realtime device (a browser or an SDK client speaking
 * WebRTC, signalled over its realtime socket) or a SIP phone (a registered contact or a phone's own
 * INVITE, signalled in SIP by the server's phone-calls service and bridged to RTP/AVP, see
 * packages/server/src/sip/phone-calls.ts); later kinds are a trunk leg to the phone network, a
 * voicemail session and a meeting. The call decides who wins and when it ends;
 * a leg only knows where its device is and whether it can carry media.
 *
 * ```
 *                 answer (first wins)
 *   ringing ─────────────────────────▶ up ◀───────────rebind (same device key, within grace)──┐
 *      │                               │ │                                                     │
 *      │                               │ └──connection dropped (not deliberately)──▶ lost ─────┘
 *      │                               │                                             │
 *      └─stop ringing (answered        └──call ended / hung up──▶ ended ◀──grace over┘
 *        elsewhere, declined,                                       ▲    or call ended
 *        cancelled, device gone)───────────────────────────────────┘
 * ```
 * The caller's leg starts `up` (it sent the offer); each callee device starts `ringing`. A `lost` leg
 * keeps its place for `PARLEY_CALL_LOST_GRACE`: the peer's media may survive a short network change (ICE
 * restart), so the call is not ended for it. The grace timer belongs to the leg and is cleared by every
 * move out of `lost`, so no timer outlives its leg.
 */
import type { Clock, TimerHandle } from '@parley/sip';
import type { CallSession } from '../realtime/session.ts';

export type LegState = 'ringing' | 'up' | 'lost' | 'ended';

/** What a leg is attached to (see the doc comment): a realtime device or a SIP phone. */
export type LegKind = 'device' | 'sip';

/** Which side of the call a leg serves. */
export type LegSide = 'caller' | 'callee';

const TRANSITIONS: Readonly<Record<LegState, readonly LegState[]>> = {
  ringing: ['up', 'ended'],
  up: ['lost', 'ended'],
  lost: ['up', 'ended'],
  ended: [],
};

export class Leg {
  readonly kind: LegKind;
  private current: LegState;
  private graceTimer: TimerHandle | null = null;

  constructor(
    readonly side: LegSide,
    /** `sessionId/deviceId` (stable across reconnects of one signed-in client). */
    readonly deviceKey: string,
    /** The connection the device is reached through now (replaced on rebind). */
    private bound: CallSession,
    initial: 'ringing' | 'up',
    private readonly clock: Clock,
  ) {
    this.current = initial;
    this.kind = bound.kind ?? 'device';
  }

  get state(): LegState {
    return this.current;
  }

  get session(): CallSession {
    return this.bound;
  }

  /** Whether the device can be reached now (ringing or up; a lost device cannot). */
  get reachable(): boolean {
    return this.current === 'ringing' || this.current === 'up';
  }

  private to(next: LegState): void {
    if (!TRANSITIONS[this.current].includes(next))
      throw new Error(`call leg: illegal transition ${this.current} -> ${next}`);
    this.current = next;
  }

  /** The ringing device answered (the call has checked it won). */
  answer(): void {
    this.to('up');
  }

  /** The device's connection dropped: after `graceMs` without a rebind, `onExpired` runs. */
  lose(graceMs: number, onExpired: () => void): void {
    this.to('lost');
    this.graceTimer = this.clock.setTimer(graceMs, () => {
      this.graceTimer = null;
      onExpired();
    });
  }

  /** The same device said hello again on `session` (or a new connection replaced the old one). */
  rebind(session: CallSession): void {
    if (this.current === 'lost') {
      this.clearGrace();
      this.to('up');
    } else if (this.current !== 'up' && this.current !== 'ringing')
      throw new Error(`call leg: cannot rebind a ${this.current} leg`);
    this.bound = session;
  }

  /** Ends the leg (idempotent: a leg already ended stays so). */
  end(): void {
    if (this.current === 'ended') return;
    this.clearGrace();
    this.to('ended');
  }

  private clearGrace(): void {
    if (this.graceTimer) this.clock.clearTimer(this.graceTimer);
    this.graceTimer = null;
  }

  /** Whether a grace timer is pending (tests check that none outlives a call). */
  get timing(): boolean {
    return this.graceTimer !== null;
  }
}
