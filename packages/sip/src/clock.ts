/**
 * Time for the protocol timers. The stack never calls setTimeout directly, so tests can run every
 * timer of RFC 3261 section 17 instantly and deterministically with {@link FakeClock}.
 */

/** An opaque handle to a scheduled callback. */
export interface TimerHandle {
  readonly __timer: true;
}

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The process clock (setTimeout, unref'd so timers never keep a process alive). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimer(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  handle: TimerHandle;
  cancelled: boolean;
}

/**
 * A manual clock: time moves only through {@link advance}, which runs due timers in time order
 * (and in creation order for equal times), including timers those callbacks schedule.
 */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers: FakeTimer[] = [];
  private byHandle = new Map<TimerHandle, FakeTimer>();

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const handle = { __timer: true } as TimerHandle;
    const t: FakeTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, handle, cancelled: false };
    this.timers.push(t);
    this.byHandle.set(handle, t);
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.byHandle.get(handle);
    if (t) {
      t.cancelled = true;
      this.byHandle.delete(handle);
    }
  }

  /** Timers scheduled and not yet run or cleared. */
  get pending(): number {
    return this.byHandle.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq)))
          next = t;
      }
      if (!next) break;
      this.time = next.at;
      next.cancelled = true;
      this.byHandle.delete(next.handle);
      next.fn();
    }
    this.time = end;
  }
}
