/**
 * The media timeout: reports when no packet has arrived for `timeoutMs`, and when packets come back.
 * A packet only stamps the time (no timer per packet); one timer wakes at the earliest instant the
 * timeout could be due and re-arms itself for what is left. Paused while the far side says it sends
 * nothing (hold: a=recvonly or a=inactive, RFC 3264 section 8.4), so a held call never times out.
 */
import type { Clock, TimerHandle } from '@parley/sip';

export class MediaTimeout {
  private last: number;
  private timer: TimerHandle | undefined;
  private expired = false;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void,
    private readonly onResume: () => void,
  ) {
    this.last = clock.now();
  }

  /** Starts (or restarts after a pause) counting from now. */
  start(): void {
    if (this.running || !(this.timeoutMs > 0)) return;
    this.running = true;
    this.last = this.clock.now();
    this.arm(this.timeoutMs);
  }

  /** A packet arrived. */
  touch(): void {
    this.last = this.clock.now();
    if (this.expired) {
      this.expired = false;
      if (this.running) this.arm(this.timeoutMs);
      this.onResume();
    }
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(ms, this.check);
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const idle = this.clock.now() - this.last;
    if (idle < this.timeoutMs) return this.arm(this.timeoutMs - idle);
    this.expired = true;
    this.onTimeout();
  };
}
