/**
 * Sample-rate conversion for prompts and recordings (espeak-ng speaks at 22,050 Hz, a WAV may be 8,
 * 16 or 48 kHz, Opus runs at 48 kHz and G.711 at 8 kHz).
 *
 * Streaming: the converter keeps its phase and filter history between calls, so feeding 20 ms
 * chunks gives the same samples as feeding the whole signal at once, with no clicks at chunk
 * boundaries. Downsampling first low-passes with a windowed-sinc FIR (cut-off at 0.45 of the
 * output rate) so that content above the new Nyquist frequency does not fold back as aliases;
 * then linear interpolation picks the output samples. That is telephone quality, which is what
 * the media plane needs; it is not a mastering-grade converter.
 */

/**
 * A Blackman-windowed sinc low-pass; `cutoff` as a fraction of the input rate (0..0.5). Its
 * transition band is about 5.5/taps of the input rate, so the tap count grows with the ratio
 * (16 per unit: 97 taps for 48 -> 8 kHz, a stop band from about 5 kHz at better than -70 dB).
 */
function lowPassKernel(cutoff: number, taps: number): Float64Array {
  const k = new Float64Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const w =
      0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    k[i] = sinc * w;
    sum += k[i]!;
  }
  for (let i = 0; i < taps; i++) k[i]! /= sum;
  return k;
}

export class Resampler {
  private readonly step: number;
  private readonly kernel: Float64Array | undefined;
  private readonly history: Float64Array;
  private historyPos = 0;
  /** Position of the next output sample, in input samples, relative to `prev`. */
  private phase = 0;
  private prev = 0;
  private primed = false;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    if (!(fromRate > 0 && toRate > 0)) throw new RangeError('sample rates must be positive');
    this.step = fromRate / toRate;
    const taps = (Math.ceil((16 * fromRate) / toRate) >> 1) * 2 + 1;
    this.kernel = toRate < fromRate ? lowPassKernel((0.45 * toRate) / fromRate, taps) : undefined;
    this.history = new Float64Array(this.kernel?.length ?? 1);
  }

  get passthrough(): boolean {
    return this.fromRate === this.toRate;
  }

  private filter(sample: number): number {
    if (!this.kernel) return sample;
    this.history[this.historyPos] = sample;
    const taps = this.kernel.length;
    this.historyPos = (this.historyPos + 1) % taps;
    let acc = 0;
    let j = this.historyPos;
    for (let i = 0; i < taps; i++) {
      acc += this.kernel[i]! * this.history[j]!;
      j = j + 1 === taps ? 0 : j + 1;
    }
    return acc;
  }

  /** Converts one chunk; the output length varies by one sample with the phase. */
  process(input: Int16Array): Int16Array {
    if (this.passthrough) return input;
    const out: number[] = [];
    for (let i = 0; i < input.length; i++) {
      const cur = this.filter(input[i]!);
      if (!this.primed) {
        this.prev = cur;
        this.primed = true;
        continue;
      }
      // Output samples that fall between prev (position 0) and cur (position 1).
      while (this.phase < 1) {
        out.push(this.prev + (cur - this.prev) * this.phase);
        this.phase += this.step;
      }
      this.phase -= 1;
      this.prev = cur;
    }
    const pcm = new Int16Array(out.length);
    for (let i = 0; i < out.length; i++) pcm[i] = clamp16(out[i]!);
    return pcm;
  }
}

export function clamp16(x: number): number {
  const r = Math.round(x);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Converts a whole signal at once. */
export function resample(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return pcm;
  const r = new Resampler(fromRate, toRate);
  // One input sample is held back as `prev`; flush it with a trailing zero.
  const padded = new Int16Array(pcm.length + 1);
  padded.set(pcm);
  return r.process(padded);
}
