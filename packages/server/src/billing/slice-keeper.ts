/**
 * The call side of credit control, for telephony to attach to an outbound call from its authorisation:
 * it keeps the reservation alive (a keepalive every `keepaliveSeconds`, ringing included, so a call
 * that rings for minutes keeps what it holds), and once answered asks for the next slice
 * `renewBeforeSeconds` before the grant runs out. When a slice is refused (or cannot be asked for) it
 * cuts the call exactly when the grant ends; when the reservation turns out released (a keepalive or a
 * renewal answers `reservation_closed`: nothing is held for the call any more) it cuts it at once.
 *
 *   ringing ──(answered)──> running ──(renew ok)──> running ...
 *      │                       │
 *      │                       ├──(renew refused / failed)──> ending ──(grant over)──> cut
 *      │                       │                       (onEnding fires: warn the caller)
 *      │                       │
 *      └───────────────────────┴──(keepalive or renew: reservation_closed)──────────> cut   (at once)
 *   any state ──(stop: the call ended)──> stopped                  (onCutoff fires once, in cut)
 *
 * Billing never imports telephony: the call hands this object a callback, and the clock is injectable
 * so the behaviour is testable without waiting.
 */
import type { CreditControl, Extension } from './credit-control.ts';

export type SliceKeeperState = 'ringing' | 'running' | 'ending' | 'cut' | 'stopped';

export interface Scheduler {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: Date.now,
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SliceKeeperOptions {
  /** Ask for the next slice this many seconds before the grant ends (default 30). */
  renewBeforeSeconds?: number;
  /**
   * Seconds between keepalives (default 60): well within PARLEY_BILLING_RESERVATION_GRACE, so a
   * keepalive or two may fail (storage briefly down) before the reservation would expire.
   */
  keepaliveSeconds?: number;
  /** Called once, when the grant is over and no further slice was granted: end the call now. */
  onCutoff: (reason: { code: string; grantedSeconds: number }) => void;
  /**
   * Called once, when a renewal was refused: the call ends at `endsAt` (epoch ms) unless it ends
   * first (a warning to the caller is due).
   */
  onEnding?: (reason: { code: string; endsAt: number }) => void;
  scheduler?: Scheduler;
}

export class SliceKeeper {
  private state: SliceKeeperState;
  private timer: unknown = null;
  private keepaliveTimer: unknown = null;
  private granted: number;
  private answeredAt: number | null;
  private readonly sched: Scheduler;
  private readonly renewBefore: number;
  private readonly keepaliveMs: number;

  /**
   * `answeredAt` (epoch ms) starts the grant's clock: grants count seconds from answer; null while the
   * call rings (call `answered` then). `grantedSeconds` is what `authorise` granted.
   */
  constructor(
    private readonly credit: Pick<CreditControl, 'extend' | 'keepalive'>,
    private readonly reservationId: string,
    grantedSeconds: number,
    answeredAt: number | null,
    private readonly opts: SliceKeeperOptions,
  ) {
    this.granted = grantedSeconds;
    this.answeredAt = answeredAt;
    this.sched = opts.scheduler ?? realScheduler;
    this.renewBefore = opts.renewBeforeSeconds ?? 30;
    this.keepaliveMs = (opts.keepaliveSeconds ?? 60) * 1000;
    this.state = answeredAt === null ? 'ringing' : 'running';
    if (answeredAt !== null) this.schedule();
    this.scheduleKeepalive();
  }

  get currentState(): SliceKeeperState {
    return this.state;
  }

  /** Seconds from answer the call may last on what it holds now. */
  get grantedSeconds(): number {
    return this.granted;
  }

  /** The ringing call was answered at `at` (epoch ms): the grant runs from now on. */
  answered(at: number = this.sched.now()): void {
    if (this.state !== 'ringing') return;
    this.answeredAt = at;
    this.state = 'running';
    this.schedule();
  }

  /** The call ended (commit follows): stop asking and never cut. */
  stop(): void {
    if (this.state === 'cut' || this.state === 'stopped') return;
    this.state = 'stopped';
    this.clearTimers();
  }

  private clearTimers(): void {
    if (this.timer !== null) this.sched.clear(this.timer);
    if (this.keepaliveTimer !== null) this.sched.clear(this.keepaliveTimer);
    this.timer = this.keepaliveTimer = null;
  }

  private endAt(): number {
    return (this.answeredAt ?? this.sched.now()) + this.granted * 1000;
  }

  private schedule(): void {
    const renewAt = this.endAt() - this.renewBefore * 1000;
    this.timer = this.sched.set(() => void this.renew(), Math.max(0, renewAt - this.sched.now()));
  }

  private scheduleKeepalive(): void {
    this.keepaliveTimer = this.sched.set(() => void this.keepalive(), this.keepaliveMs);
  }

  private live(): boolean {
    return this.state === 'ringing' || this.state === 'running' || this.state === 'ending';
  }

  private async keepalive(): Promise<void> {
    this.keepaliveTimer = null;
    if (!this.live()) return;
    let closed = false;
    try {
      closed = !(await this.credit.keepalive(this.reservationId)).ok;
    } catch {
      // Storage briefly down: the reservation lives a grace after the last keepalive that got through.
    }
    if (!this.live()) return;
    if (closed) return this.cutNow('reservation_closed');
    this.scheduleKeepalive();
  }

  /** Nothing is held for the call any more: it ends now, not at its grant. */
  private cutNow(code: string): void {
    this.clearTimers();
    this.state = 'cut';
    this.opts.onCutoff({ code, grantedSeconds: this.granted });
  }

  private async renew(): Promise<void> {
    if (this.state !== 'running') return;
    let r: Extension | { ok: false; code: string; grantedSeconds: number };
    try {
      r = await this.credit.extend(this.reservationId);
    } catch (err) {
      // Storage down or the reservation gone: the call keeps what it holds and no more.
      r = { ok: false, code: (err as { code?: string }).code ?? 'unavailable', grantedSeconds: this.granted };
    }
    if (this.state !== 'running') return;
    if (r.ok) {
      this.granted = r.grantedSeconds;
      this.schedule();
      return;
    }
    if (r.code === 'reservation_closed') return this.cutNow(r.code);
    this.state = 'ending';
    const code = r.code;
    this.opts.onEnding?.({ code, endsAt: this.endAt() });
    this.timer = this.sched.set(
      () => {
        if (this.state !== 'ending') return;
        this.clearTimers();
        this.state = 'cut';
        this.opts.onCutoff({ code, grantedSeconds: this.granted });
      },
      Math.max(0, this.endAt() - this.sched.now()),
    );
  }
}
