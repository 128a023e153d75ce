/**
 * The ringtone, made by WebAudio in the page (no sound file to download, cache or serve): the British
 * double ring, 400 Hz and 450 Hz together, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off, as a phone on the
 * desk sounds. Each cycle is scheduled on the audio clock ahead of time, so a busy main thread does not
 * make it stutter; gains ramp over 10 ms so the tone starts and stops without clicks.
 *
 * Browsers only let a page make sound after the user has interacted with it (autoplay policy): until
 * then the context stays suspended and the ringtone is silent, while the incoming-call panel (and the
 * desktop notification when the tab is hidden) still shows the call.
 */

const CYCLE_S = 3;
const BURSTS: Array<[start: number, length: number]> = [
  [0, 0.4],
  [0.6, 0.4],
];
const RAMP_S = 0.01;
const VOLUME = 0.12;

export class Ringtone {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private nextCycle = 0;
  private unlock: (() => void) | null = null;

  /** Whether the ringtone is on (it may still be silent if the browser has not allowed sound yet). */
  get playing(): boolean {
    return this.ctx !== null;
  }

  /** Whether sound is actually coming out (the audio context runs). */
  get audible(): boolean {
    return this.ctx?.state === 'running';
  }

  start(): void {
    if (this.ctx || typeof AudioContext === 'undefined') return;
    const ctx = new AudioContext();
    this.ctx = ctx;
    void ctx.resume().catch(() => {});
    // Before the page has had a click or key press the context stays suspended: the first one unlocks it.
    const unlock = () => void ctx.resume().catch(() => {});
    document.addEventListener('pointerdown', unlock, { once: true });
    document.addEventListener('keydown', unlock, { once: true });
    this.unlock = unlock;
    const out = ctx.createGain();
    out.gain.value = 0;
    out.connect(ctx.destination);
    for (const hz of [400, 450]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(out);
      osc.start();
    }
    this.nextCycle = ctx.currentTime + 0.05;
    const schedule = () => {
      // Keep two cycles scheduled ahead of the audio clock.
      while (this.nextCycle < ctx.currentTime + 2 * CYCLE_S) {
        for (const [start, length] of BURSTS) {
          const t = this.nextCycle + start;
          out.gain.setValueAtTime(0, t);
          out.gain.linearRampToValueAtTime(VOLUME, t + RAMP_S);
          out.gain.setValueAtTime(VOLUME, t + length - RAMP_S);
          out.gain.linearRampToValueAtTime(0, t + length);
        }
        this.nextCycle += CYCLE_S;
      }
    };
    schedule();
    this.timer = setInterval(schedule, 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.unlock) {
      document.removeEventListener('pointerdown', this.unlock);
      document.removeEventListener('keydown', this.unlock);
      this.unlock = null;
    }
    const ctx = this.ctx;
    this.ctx = null;
    void ctx?.close().catch(() => {});
  }
}
