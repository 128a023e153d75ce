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
 * Timers sit in a binary heap, so thousands of pending timers cost little.
 */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private heap: FakeTimer[] = [];
  private byHandle = new Map<TimerHandle, FakeTimer>();

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const handle = { __timer: true } as TimerHandle;
    const t: FakeTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, handle, cancelled: false };
    this.push(t);
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
    for (;;) {
      const next = this.heap[0];
      if (!next || next.at > end) break;
      this.pop();
      if (next.cancelled) continue;
      this.time = next.at;
      next.cancelled = true;
      this.byHandle.delete(next.handle);
      next.fn();
    }
    this.time = end;
  }

  private less(a: FakeTimer, b: FakeTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: FakeTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
