/**
 * A Call: two parties and their legs, and the one state machine that decides what happened to them.
 *
 * ```
 *             first device rings                 first answer wins
 *   dialing ─────────────────────▶ ringing ─────────────────────────▶ connected
 *      │                              │                                   │
 *      │ busy, do not disturb,        │ declined, cancelled, no_answer,   │ hangup, lost,
 *      │ unavailable, lost, failed    │ unavailable, lost, failed         │ failed
 *      ▼                              ▼                                   ▼
 *   ended ◀───────────────────────────┴───────────────────────────────────┘
 * ```
 * `dialing` lasts while the call's records are being stored (acknowledged means stored: nothing rings
 * before). Ending is the one way out and it is total: every leg is ended (a lost leg's grace timer with
 * it), the ring timer is cleared, and the call refuses every later move, so a late answer, decline or
 * relay finds `ended` and is refused instead of corrupting anything.
 *
 * Parties, not tenants: each party carries its own tenant, user (or, later, a phone number) and what may
 * be shown of it; nothing here assumes both parties share a tenant. A party of another tenant is shown
 * to the other by number only (an on-net call to a number a user of another organisation owns).
 */
import type { CallEndReason, CallState, CallView, IceCandidate, SessionDescription } from '@parley/protocol';
import type { Clock, TimerHandle } from '@parley/sip';
import { iso } from '../ids.ts';
import type { Leg, LegSide } from './leg.ts';
import { reasonAcrossTenants } from './call-records-outcome.ts';

/** One side of a call as call control knows it. */
export interface Party {
  side: LegSide;
  tenantId: string;
  /** The user, for a user party; null for a phone number party (later). */
  userId: string | null;
  displayName: string | null;
  address: string | null;
  number: string | null;
}

const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  dialing: ['ringing', 'ended'],
  ringing: ['connected', 'ended'],
  connected: ['ended'],
  ended: [],
};

export class Call {
  private current: CallState = 'dialing';
  /** Callee legs by device key: every device that rang (the answered one included). */
  private readonly calleeLegs = new Map<string, Leg>();
  private answeredLeg: Leg | null = null;
  private ringTimer: TimerHandle | null = null;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  endReason: CallEndReason | null = null;
  endedBy: string | null = null;
  /** Why in words, when the reason alone does not say (a carrier's answer); see CallView.endDetail. */
  endDetail: string | null = null;
  /** The caller's trickled candidates before the answer, for devices that start ringing later (bounded). */
  readonly candidates: IceCandidate[] = [];

  constructor(
    readonly id: string,
    readonly caller: Party,
    readonly callee: Party,
    readonly callerLeg: Leg,
    readonly offer: SessionDescription,
    readonly video: boolean,
    readonly createdAt: number,
    private readonly clock: Clock,
  ) {}

  get state(): CallState {
    return this.current;
  }

  private to(next: CallState): void {
    if (!TRANSITIONS[this.current].includes(next))
      throw new Error(`call ${this.id}: illegal transition ${this.current} -> ${next}`);
    this.current = next;
  }

  /** The party a user is, or null (not a party: to that user the call does not exist). */
  partyOf(userId: string): Party | null {
    if (this.caller.userId === userId) return this.caller;
    if (this.callee.userId === userId) return this.callee;
    return null;
  }

  /** The leg a device holds in this call, if any. */
  legOf(deviceKey: string | null): Leg | undefined {
    if (deviceKey === null) return undefined;
    if (this.callerLeg.deviceKey === deviceKey) return this.callerLeg;
    return this.calleeLegs.get(deviceKey);
  }

  /** Every leg, caller's first. */
  legs(): Leg[] {
    return [this.callerLeg, ...this.calleeLegs.values()];
  }

  /** Callee legs still ringing. */
  ringingLegs(): Leg[] {
    return [...this.calleeLegs.values()].filter((l) => l.state === 'ringing');
  }

  get answered(): Leg | null {
    return this.answeredLeg;
  }

  /** The leg media flows with: the caller's for the answered device, the answered device's for the caller. */
  peerOf(leg: Leg): Leg | null {
    if (leg === this.callerLeg) return this.answeredLeg;
    return leg === this.answeredLeg ? this.callerLeg : null;
  }

  /**
   * A callee device starts ringing (the first one moves the call to `ringing`, which starts the ring
   * timer: `onTimeout` ends the call as unanswered).
   */
  ring(leg: Leg, timeoutMs: number, onTimeout: () => void): void {
    if (this.current === 'dialing') {
      this.to('ringing');
      this.ringTimer = this.clock.setTimer(timeoutMs, () => {
        this.ringTimer = null;
        onTimeout();
      });
    } else if (this.current !== 'ringing')
      throw new Error(`call ${this.id}: cannot ring while ${this.current}`);
    this.calleeLegs.set(leg.deviceKey, leg);
  }

  /**
   * A ringing device stops ringing (it went away); the call goes on for the others. Its leg leaves the
   * call, so the same device coming back while the call still rings rings again.
   */
  stopRinging(leg: Leg): void {
    leg.end();
    if (this.calleeLegs.get(leg.deviceKey) === leg) this.calleeLegs.delete(leg.deviceKey);
  }

  /**
   * `leg` answered first: the call is connected and every other ringing device stops. Returns those
   * devices' legs (they are told "answered elsewhere"). Throws if the call is not ringing (the caller
   * checks first and refuses with `call_state`).
   */
  answer(leg: Leg, at: number): Leg[] {
    this.to('connected');
    this.clearRingTimer();
    leg.answer();
    this.answeredLeg = leg;
    this.answeredAt = at;
    const others = this.ringingLegs();
    for (const o of others) o.end();
    this.candidates.length = 0; // the answered device has them; nobody else will ring
    return others;
  }

  /** Ends the call and every leg; idempotent (a second end keeps the first reason). */
  end(reason: CallEndReason, at: number, endedBy: string | null, detail: string | null = null): boolean {
    if (this.current === 'ended') return false;
    this.to('ended');
    this.endDetail = detail;
    this.clearRingTimer();
    this.endReason = reason;
    this.endedAt = at;
    this.endedBy = endedBy;
    for (const l of this.legs()) l.end();
    return true;
  }

  private clearRingTimer(): void {
    if (this.ringTimer) this.clock.clearTimer(this.ringTimer);
    this.ringTimer = null;
  }

  /** Whether any timer of the call or its legs is pending (none may outlive the call). */
  get timing(): boolean {
    return this.ringTimer !== null || this.legs().some((l) => l.timing);
  }

  /**
   * The call as `party`'s devices see it. `endedHere` gives one device's own end (a device that
   * stopped ringing because another answered sees `ended`/`answered_elsewhere` while the call goes on).
   */
  viewFor(party: Party, endedHere?: { reason: CallEndReason; at: number }): CallView {
    const other = party === this.caller ? this.callee : this.caller;
    const sameTenant = other.tenantId === party.tenantId;
    return {
      id: this.id,
      direction: party === this.caller ? 'outgoing' : 'incoming',
      state: endedHere ? 'ended' : this.current,
      video: this.video,
      peer: sameTenant
        ? {
            userId: other.userId,
            displayName: other.displayName,
            address: other.address,
            number: other.number,
          }
        : { userId: null, displayName: null, address: null, number: other.number },
      createdAt: iso(this.createdAt),
      answeredAt: endedHere || this.answeredAt === null ? null : iso(this.answeredAt),
      endedAt: endedHere ? iso(endedHere.at) : this.endedAt === null ? null : iso(this.endedAt),
      // Across tenants nothing of the other user shows: not their id (who hung up), nor their
      // presence (Do not disturb reads as not available).
      endReason: endedHere
        ? endedHere.reason
        : this.endReason && !sameTenant && party === this.caller
          ? reasonAcrossTenants(this.endReason)
          : this.endReason,
      endedBy: endedHere ? null : sameTenant || this.endedBy === party.userId ? this.endedBy : null,
      ...(!endedHere && this.endDetail ? { endDetail: this.endDetail } : {}),
    };
  }
}
