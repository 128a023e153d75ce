/**
 * Audio sources: what a player hands to a session's output. A source yields 16-bit mono PCM at its
 * own rate on demand (pull, not push), so the pacer decides when samples leave and a source never
 * needs a timer of its own.
 */
import { Resampler } from './resample.ts';
import type { Pcm } from './wav.ts';

export interface AudioSource {
  readonly sampleRate: number;
  /** Up to `count` samples; fewer only at the end; an empty array once the source has ended. */
  read(count: number): Int16Array;
}

/** A PCM buffer (a WAV prompt, a recording played back). */
export class BufferSource implements AudioSource {
  private pos = 0;
  readonly sampleRate: number;
  private readonly samples: Int16Array;
  constructor(pcm: Pcm) {
    this.samples = pcm.samples;
    this.sampleRate = pcm.sampleRate;
  }
  read(count: number): Int16Array {
    const out = this.samples.subarray(this.pos, Math.min(this.samples.length, this.pos + count));
    this.pos += out.length;
    return out;
  }
}

/** Silence of a given length (a pause between prompts). */
export class SilenceSource implements AudioSource {
  private left: number;
  constructor(
    durationMs: number,
    readonly sampleRate = 8000,
  ) {
    this.left = Math.round((durationMs * sampleRate) / 1000);
  }
  read(count: number): Int16Array {
    const n = Math.min(count, this.left);
    this.left -= n;
    return new Int16Array(n);
  }
}

/** Converts another source to `toRate`, streaming (see {@link Resampler}). */
export class ResampledSource implements AudioSource {
  private readonly resampler: Resampler;
  private pending = new Int16Array(0);
  private ended = false;
  constructor(
    private readonly inner: AudioSource,
    readonly sampleRate: number,
  ) {
    this.resampler = new Resampler(inner.sampleRate, sampleRate);
  }
  read(count: number): Int16Array {
    while (this.pending.length < count && !this.ended) {
      const want = Math.ceil(((count - this.pending.length) * this.inner.sampleRate) / this.sampleRate) + 2;
      let chunk = this.inner.read(want);
      if (chunk.length === 0) {
        this.ended = true;
        chunk = new Int16Array(1); // flushes the sample the converter holds back
      }
      const converted = this.resampler.process(chunk);
      const merged = new Int16Array(this.pending.length + converted.length);
      merged.set(this.pending);
      merged.set(converted, this.pending.length);
      this.pending = merged;
    }
    const out = this.pending.subarray(0, Math.min(count, this.pending.length));
    this.pending = this.pending.subarray(out.length);
    return out;
  }
}

/** The source at the wanted rate, converted only when it differs. */
export function atRate(source: AudioSource, sampleRate: number): AudioSource {
  return source.sampleRate === sampleRate ? source : new ResampledSource(source, sampleRate);
}

/** Reads a whole (finite) source into one buffer. */
export function drain(source: AudioSource, chunk = 4096): Pcm {
  const parts: Int16Array[] = [];
  let total = 0;
  for (let c = source.read(chunk); c.length > 0; c = source.read(chunk)) {
    parts.push(c.slice());
    total += c.length;
  }
  const samples = new Int16Array(total);
  let o = 0;
  for (const p of parts) {
    samples.set(p, o);
    o += p.length;
  }
  return { samples, sampleRate: source.sampleRate };
}
