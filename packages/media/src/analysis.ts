/**
 * Measuring audio: the level of one frequency (Goertzel), the overall level (RMS in dBFS). Tests use
 * them to check that a tone arrived at the right pitch; the recorder's silence detection and the
 * echo test's energy checks use the level.
 */

/**
 * The amplitude of `frequency` in `samples`, relative to full scale (a full-scale sine there gives
 * about 1): the Goertzel algorithm, one DFT bin in O(n) without an FFT.
 */
export function toneAmplitude(samples: Int16Array, sampleRate: number, frequency: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const w = (2 * Math.PI * frequency) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! / 32768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}

/** Root-mean-square level in dBFS (a full-scale sine is -3 dBFS; digital silence -Infinity). */
export function rmsDbfs(samples: Int16Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  const rms = Math.sqrt(sum / samples.length) / 32768;
  return rms === 0 ? -Infinity : 20 * Math.log10(rms);
}

/** The frequency with the most energy among `candidates` (the tone a test expects, and its rivals). */
export function strongestOf(samples: Int16Array, sampleRate: number, candidates: readonly number[]): number {
  let best = candidates[0]!;
  let bestAmp = -1;
  for (const f of candidates) {
    const a = toneAmplitude(samples, sampleRate, f);
    if (a > bestAmp) {
      bestAmp = a;
      best = f;
    }
  }
  return best;
}

/** Frequency estimated from zero crossings (rising edges per second): a cross-check on Goertzel. */
export function zeroCrossingFrequency(samples: Int16Array, sampleRate: number): number {
  let rising = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 && samples[i]! >= 0) rising++;
  return samples.length > 1 ? (rising * sampleRate) / (samples.length - 1) : 0;
}
