/**
 * Password strength: zxcvbn's estimate (pattern matching against common passwords, names, words,
 * keyboard walks, dates, repeats and the account's own details) must reach score 3 ("safely
 * unguessable: moderate protection from offline slow-hash scenario", about 10^8 guesses), the level
 * OWASP's ASVS 2.1.7/2.1.8 guidance points to rather than composition rules.
 *
 * The dictionaries (about 1.5 MB) load on the first check, not at start. Only the first
 * STRENGTH_PREFIX characters are scored: zxcvbn's repeat matcher is super-linear (a 256-character
 * repeated pattern took over a minute here), and a password whose first 32 characters are guessable is
 * refused however it continues.
 */
import { ParleyError } from '@parley/protocol';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

export const MIN_SCORE = 3;
const STRENGTH_PREFIX = 32;

let factory: Promise<ZxcvbnFactory> | undefined;

function load(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      maxLength: STRENGTH_PREFIX,
    });
  })();
  return factory;
}

/** Words a password must not lean on: the product and the account's own address and name. */
export function passwordContext(...details: Array<string | null | undefined>): string[] {
  const words = new Set(['parley']);
  for (const d of details)
    for (const w of (d ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (w.length >= 3) words.add(w);
  return [...words];
}

/**
 * Refuses a guessable password with `weak_password` and zxcvbn's advice. `context`: see
 * passwordContext; `field`: the input named in the error (`password`, `--password`).
 */
export async function assertStrongPassword(
  password: string,
  context: string[] = passwordContext(),
  field = 'password',
): Promise<void> {
  const zxcvbn = await load();
  const r = zxcvbn.check(password.slice(0, STRENGTH_PREFIX), context);
  if (r.score >= MIN_SCORE) return;
  const advice = [r.feedback.warning, ...r.feedback.suggestions].filter(Boolean).join(' ');
  throw new ParleyError(
    'weak_password',
    `password is too easy to guess${advice ? `: ${advice}` : ''} (use a few unrelated words, or a password manager)`,
    { field },
  );
}
