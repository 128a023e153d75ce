/**
 * The player: prompts (WAV files, spoken or recorded) and tones into a session's outgoing audio.
 * It only builds sources and queues them; the session's pacer times every frame, so a player never
 * owns a timer and a closed session ends its playbacks ('closed').
 */
import type { AudioOutput, Playback } from './audio-out.ts';
import { BufferSource, SilenceSource } from './source.ts';
import { ToneSource, type ToneSpec } from './tone.ts';
import { readWav, type Pcm } from './wav.ts';

/** Plays a tone (at the output's rate, so no conversion). */
export function playTone(output: AudioOutput, spec: ToneSpec): Playback {
  return output.play(new ToneSource({ ...spec, sampleRate: spec.sampleRate ?? output.sampleRate }));
}

/** Plays PCM (a recording played back, a prompt already loaded); converted to the output's rate. */
export function playPcm(output: AudioOutput, pcm: Pcm): Playback {
  return output.play(new BufferSource(pcm));
}

/** Plays a WAV file; a file that is not 16-bit PCM rejects with `unsupported_wav` before anything plays. */
export async function playWav(output: AudioOutput, path: string): Promise<Playback> {
  return playPcm(output, await readWav(path));
}

/** Plays a pause. */
export function playSilence(output: AudioOutput, durationMs: number): Playback {
  return output.play(new SilenceSource(durationMs, output.sampleRate));
}
