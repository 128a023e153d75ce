/**
 * Generated tones: one frequency or a pair (dual tones such as the ITU-T E.180 ringback, 400+450 Hz,
 * or North American 440+480 Hz), for a duration, optionally in a cadence (on/off, e.g. 400 ms on,
 * 200 ms off). The phase runs on through the off parts and across reads, so a tone read in 20 ms
 * frames has no discontinuity at frame edges (a click would show up as broadband energy).
 */
import type { AudioSource } from './source.ts';

export interface ToneSpec {
  /** One or more frequencies in Hz, summed. */
  readonly frequencies: readonly number[];
  readonly durationMs: number;
  /** Peak level of the sum in dBFS (default -12: loud, with headroom for a second tone). */
  readonly levelDbfs?: number;
  /** On/off pattern repeated for the duration; absent means continuous. */
  readonly cadence?: { readonly onMs: number; readonly offMs: number };
  readonly sampleRate?: number;
}

export class ToneSource implements AudioSource {
  readonly sampleRate: number;
  private readonly total: number;
  private readonly amplitude: number;
  private readonly steps: number[];
  private readonly on: number;
  private readonly period: number;
  private pos = 0;

  constructor(readonly spec: ToneSpec) {
    if (spec.frequencies.length === 0) throw new RangeError('a tone needs a frequency');
    this.sampleRate = spec.sampleRate ?? 48000;
    for (const f of spec.frequencies)
      if (!(f > 0 && f < this.sampleRate / 2)) throw new RangeError(`tone frequency ${f} Hz out of range`);
    this.total = Math.round((spec.durationMs * this.sampleRate) / 1000);
    this.amplitude = (32767 * 10 ** ((spec.levelDbfs ?? -12) / 20)) / spec.frequencies.length;
    this.steps = spec.frequencies.map((f) => (2 * Math.PI * f) / this.sampleRate);
    this.on = spec.cadence ? Math.round((spec.cadence.onMs * this.sampleRate) / 1000) : Infinity;
    this.period = spec.cadence
      ? this.on + Math.round((spec.cadence.offMs * this.sampleRate) / 1000)
      : Infinity;
  }

  read(count: number): Int16Array {
    const n = Math.max(0, Math.min(count, this.total - this.pos));
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++, this.pos++) {
      if (this.pos % this.period >= this.on) continue;
      let v = 0;
      for (const s of this.steps) v += Math.sin(s * this.pos);
      out[i] = Math.round(v * this.amplitude);
    }
    return out;
  }
}
