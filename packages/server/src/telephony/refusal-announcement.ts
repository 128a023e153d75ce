/**
 * What a desk phone hears when credit control refuses its call and early media is possible (issue 20
 * item 3): the special information tone (ITU-T E.180: 950, 1400 and 1800 Hz, 330 ms each, the tone
 * that says "this call cannot be completed" before an intercept announcement), then the refusal's own
 * words spoken ("Not enough credit to call +44..."), then the SIP answer with its Reason. Other
 * refusals (a busy line, an unknown extension) have their usual tones on the phone and are not
 * announced. Without a speech engine the tone alone is played.
 */
import { BufferSource, SilenceSource, ToneSource, type AudioSource, type PromptCache } from '@parley/media';
import { ParleyError } from '@parley/protocol';
import { Q850_CAUSE } from './call-credit.ts';

/** The three rising segments of the special information tone. */
export const SIT_HZ = [950, 1400, 1800] as const;

/** The announcement for `err`, or null when it is not a refusal to announce. */
export function refusalAnnouncement(
  prompts: Pick<PromptCache, 'load'>,
): (err: unknown) => Promise<readonly AudioSource[] | null> {
  return async (err) => {
    if (!(err instanceof ParleyError) || Q850_CAUSE[err.code] === undefined) return null;
    const tone: AudioSource[] = SIT_HZ.map(
      (f) => new ToneSource({ frequencies: [f], durationMs: 330, sampleRate: 8000 }),
    );
    try {
      const words = await prompts.load(err.message);
      return [...tone, new SilenceSource(300, 8000), new BufferSource(words)];
    } catch {
      return tone;
    }
  };
}
