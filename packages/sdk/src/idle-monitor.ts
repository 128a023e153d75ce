/**
 * Idle detection for a device: no input for `afterMs` makes it idle (the server shows the user Away
 * unless another device is active); the next input makes it active again. In browsers, watch the
 * document; elsewhere, any EventTarget an application feeds with its own activity events.
 */

/** The part of EventTarget the monitor uses (a browser `document`, `window`, or Node's EventTarget). */
export interface ActivitySource {
  addEventListener(type: string, listener: () => void, options?: { passive?: boolean }): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Input that counts as activity. */
export const activityEvents = [
  'pointerdown',
  'pointermove',
  'keydown',
  'wheel',
  'touchstart',
  'focus',
  'visibilitychange',
] as const;

export class IdleMonitor {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private idle = false;
  private lastInput = 0;
  private readonly onInput = () => this.activity();

  constructor(
    private readonly source: ActivitySource,
    private readonly afterMs: number,
    private readonly onChange: (idle: boolean) => void,
  ) {
    for (const type of activityEvents) source.addEventListener(type, this.onInput, { passive: true });
    this.activity();
  }

  get isIdle(): boolean {
    return this.idle;
  }

  private activity(): void {
    const now = Date.now();
    // Pointer moves come by the hundred: re-arm the timer at most every 250 ms.
    if (!this.idle && this.timer && now - this.lastInput < 250) return;
    this.lastInput = now;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.set(true), this.afterMs);
    if (this.idle) this.set(false);
  }

  private set(idle: boolean): void {
    if (this.idle === idle) return;
    this.idle = idle;
    this.onChange(idle);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const type of activityEvents) this.source.removeEventListener(type, this.onInput);
  }
}
