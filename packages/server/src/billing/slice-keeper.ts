/**
 * The call side of credit control's slices, for telephony to attach to an answered outbound call: it
 * asks for the next slice `renewBeforeSeconds` before the grant runs out, and when a slice is refused
 * (or cannot be asked for) it cuts the call exactly when the grant ends.
 *
 *   answered ──> running ──(renew ok)──> running ...
 *                   │
 *                   ├──(renew refused / failed)──> ending ──(grant over)──> cut   (onCutoff fires once)
 *                   └──(stop: the call ended)──> stopped
 *
 * Billing never imports telephony: the call hands this object a callback, and the clock is injectable
 * so the behaviour is testable without waiting.
 */
import type { CreditControl, Extension } from './credit-control.ts';

export type SliceKeeperState = 'running' | 'ending' | 'cut' | 'stopped';

export interface Scheduler {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realScheduler: Scheduler = {
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
  /** Called once, when the grant is over and no further slice was granted: end the call now. */
  onCutoff: (reason: { code: string; grantedSeconds: number }) => void;
  scheduler?: Scheduler;
}

export class SliceKeeper {
  private state: SliceKeeperState = 'running';
  private timer: unknown = null;
  private granted: number;
  private readonly sched: Scheduler;
  private readonly renewBefore: number;

  /**
   * `answeredAt` (epoch ms) starts the clock: grants count seconds from answer.
   * `grantedSeconds` is what `authorise` granted.
   */
  constructor(
    private readonly credit: Pick<CreditControl, 'extend'>,
    private readonly reservationId: string,
    grantedSeconds: number,
    private readonly answeredAt: number,
    private readonly opts: SliceKeeperOptions,
  ) {
    this.granted = grantedSeconds;
    this.sched = opts.scheduler ?? realScheduler;
    this.renewBefore = opts.renewBeforeSeconds ?? 30;
    this.schedule();
  }

  get currentState(): SliceKeeperState {
    return this.state;
  }

  /** Seconds from answer the call may last on what it holds now. */
  get grantedSeconds(): number {
    return this.granted;
  }

  /** The call ended (commit follows): stop asking and never cut. */
  stop(): void {
    if (this.state === 'cut' || this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.timer !== null) this.sched.clear(this.timer);
    this.timer = null;
  }

  private endAt(): number {
    return this.answeredAt + this.granted * 1000;
  }

  private schedule(): void {
    const renewAt = this.endAt() - this.renewBefore * 1000;
    this.timer = this.sched.set(() => void this.renew(), Math.max(0, renewAt - this.sched.now()));
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
    this.state = 'ending';
    const code = r.code;
    this.timer = this.sched.set(
      () => {
        if (this.state !== 'ending') return;
        this.state = 'cut';
        this.timer = null;
        this.opts.onCutoff({ code, grantedSeconds: this.granted });
      },
      Math.max(0, this.endAt() - this.sched.now()),
    );
  }
}
