/**
 * What the phones say and how a test hears them: speech made here by espeak-ng (through the media
 * package's prompt cache, so each text is spoken once per folder), turned into the 16-bit mono 8 kHz WAV
 * baresip's `aufile` needs and repeated to a length (the call ends when the file does); a steady tone
 * as the other voice, so a test can tell which side it hears; and levels read back from recordings.
 */
import { join } from 'node:path';
import {
  PromptCache,
  readWav,
  resample,
  rmsDbfs,
  toneAmplitude,
  writeWav,
  type Pcm,
} from '../../packages/media/src/index.ts';

export const PHONE_RATE = 8000;

function repeatTo(samples: Int16Array, seconds: number): Int16Array {
  const out = new Int16Array(PHONE_RATE * seconds);
  for (let i = 0; i < out.length; i++) out[i] = samples[i % samples.length]!;
  return out;
}

/** `text` spoken by espeak-ng, at 8 kHz, repeated over `seconds`, written into `folder`. */
export async function speechWav(folder: string, text: string, seconds = 120): Promise<string> {
  const spoken = await new PromptCache({ folder: join(folder, 'prompts') }).load(text);
  const path = join(folder, `speech-${seconds}s.wav`);
  await writeWav(path, {
    samples: repeatTo(resample(spoken.samples, spoken.sampleRate, PHONE_RATE), seconds),
    sampleRate: PHONE_RATE,
  });
  return path;
}

/** A steady sine of `frequency` Hz at half scale for `seconds`, written into `folder`. */
export async function toneWav(folder: string, frequency: number, seconds = 120): Promise<string> {
  const samples = new Int16Array(PHONE_RATE * seconds);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(16000 * Math.sin((2 * Math.PI * frequency * i) / PHONE_RATE));
  const path = join(folder, `tone-${frequency}hz-${seconds}s.wav`);
  await writeWav(path, { samples, sampleRate: PHONE_RATE });
  return path;
}

/**
 * The loudest quarter second of a recording, in dBFS (-Infinity for digital silence): speech has pauses,
 * so the level of the whole file would say less about whether it arrived.
 */
export function loudestQuarter(pcm: Pcm): number {
  const n = Math.floor(pcm.sampleRate / 4);
  let best = -Infinity;
  for (let at = 0; at + n <= pcm.samples.length; at += n)
    best = Math.max(best, rmsDbfs(pcm.samples.subarray(at, at + n)));
  return best;
}

export interface Heard {
  /** Seconds of audio in the file. */
  seconds: number;
  /** The loudest quarter second's level (dBFS). */
  loudestDbfs: number;
  /** The amplitude of `frequency` over the whole file (0..1 of full scale), when asked. */
  toneAmplitude?: number;
}

/** Reads a recording and measures it. */
export async function hear(path: string, frequency?: number): Promise<Heard> {
  const pcm = await readWav(path);
  return {
    seconds: pcm.samples.length / pcm.sampleRate,
    loudestDbfs: loudestQuarter(pcm),
    ...(frequency === undefined
      ? {}
      : { toneAmplitude: toneAmplitude(pcm.samples, pcm.sampleRate, frequency) }),
  };
}

/** Below this a recording is silence (G.711's quietest codes are about -78 dBFS; speech sits near -20). */
export const SILENCE_DBFS = -50;

/**
 * The amplitude of `frequency` (0..1 of full scale) in each consecutive `windowSeconds` of a
 * recording, in order: when in a call a tone was heard (the whole file's amplitude says only whether).
 */
export async function toneOverTime(path: string, frequency: number, windowSeconds = 0.2): Promise<number[]> {
  const pcm = await readWav(path);
  const n = Math.round(pcm.sampleRate * windowSeconds);
  const out: number[] = [];
  for (let at = 0; at + n <= pcm.samples.length; at += n)
    out.push(toneAmplitude(pcm.samples.subarray(at, at + n), pcm.sampleRate, frequency));
  return out;
}
