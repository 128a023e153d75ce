/**
 * The pacer: the one clock of a session's outgoing audio. It fires once per frame (20 ms) on an
 * absolute schedule, frame k being due at `start + k * frameMs`, and each wait is computed from that
 * schedule rather than from the previous wake-up, so timer lateness never accumulates (no drift).
 *
 * A late wake-up (a busy event loop, a GC pause) catches up by timestamps: every frame that fell due
 * meanwhile is emitted at once with its own index, so its RTP timestamp (`index * frameTicks`) still
 * says when it was meant to be heard (RFC 3550 section 5.1: the timestamp is the sampling instant).
 * Frames more than `maxLateMs` overdue are skipped instead of sent: their timestamp slots stay
 * empty, the receiver conceals them as loss, and what follows is on time rather than bunched. A
 * skipped slot consumes no audio: the prompt resumes where it was, only later.
 *
 *   t0      t0+20    t0+40    t0+60    t0+80
 *   |--f0----|--f1----|--f2----|--f3----|--f4
 *   emit f0  emit f1  (timer late ...........) emit f2,f3,f4 at once (each <= maxLateMs late)
 */
import { systemClock, type Clock, type TimerHandle } from '@parley/sip';

export interface PacedFrame {
  /** Frame number since start; the RTP timestamp offset is `index * frameTicks`. */
  readonly index: number;
  /** How late this emission is against its schedule, in ms (>= 0). */
  readonly lateMs: number;
}

export interface PacerOptions {
  readonly onFrame: (frame: PacedFrame) => void;
  readonly frameMs?: number;
  /** Frames later than this are skipped, not sent (default 60 ms: three frames of catch-up). */
  readonly maxLateMs?: number;
  readonly clock?: Clock;
}

export interface PacerStats {
  readonly emitted: number;
  readonly skipped: number;
  readonly maxLateMs: number;
  readonly meanLateMs: number;
}

export class Pacer {
  private readonly frameMs: number;
  private readonly maxLateMs: number;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private t0 = 0;
  private next = 0;
  private running = false;
  private emitted = 0;
  private skipped = 0;
  private lateMax = 0;
  private lateSum = 0;

  constructor(private readonly options: PacerOptions) {
    this.frameMs = options.frameMs ?? 20;
    this.maxLateMs = options.maxLateMs ?? 60;
    this.clock = options.clock ?? systemClock;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the schedule now; frame 0 is emitted at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.t0 = this.clock.now();
    this.next = 0;
    this.tick();
  }

  /** Stops and clears the timer; idempotent. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  get stats(): PacerStats {
    return {
      emitted: this.emitted,
      skipped: this.skipped,
      maxLateMs: this.lateMax,
      meanLateMs: this.emitted ? this.lateSum / this.emitted : 0,
    };
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    const lastDue = Math.floor((now - this.t0) / this.frameMs);
    for (; this.next <= lastDue && this.running; this.next++) {
      const lateMs = now - (this.t0 + this.next * this.frameMs);
      if (lateMs > this.maxLateMs) {
        this.skipped++;
        continue;
      }
      this.emitted++;
      this.lateSum += lateMs;
      if (lateMs > this.lateMax) this.lateMax = lateMs;
      this.options.onFrame({ index: this.next, lateMs });
    }
    if (!this.running) return;
    const wait = this.t0 + this.next * this.frameMs - this.clock.now();
    this.timer = this.clock.setTimer(Math.max(0, wait), this.tick);
  };
}
