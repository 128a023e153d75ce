/**
 * Dial plans: what a user typed (or pasted, or a `tel:` link held) turned into either one of the
 * tenant's extensions or an E.164 number, using the tenant's country for national formats
 * (libphonenumber-js with its full metadata, so a number must be valid, not only the right length).
 *
 *   typed ──strip `tel:`, params, separators──▶ text
 *     text all digits, 2..8 long, no `+` ──────▶ { extension }
 *     otherwise parse(text, country) valid ────▶ { number: E.164 }
 *     otherwise ───────────────────────────────▶ ParleyError('invalid_number')
 *
 * National (`020 7946 0018` in GB), international with `+` or the country's exit code (`00 33 1 …`
 * in GB, `011 33 1 …` in the US) all work. Callers keep what was typed beside the result, for the call
 * record. Emergency short codes are not handled here: like any 2..8 digit string they read as extensions.
 */
import { ParleyError } from '@parley/protocol';
import { isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';

export type Dialled = { kind: 'extension'; extension: string } | { kind: 'number'; e164: string };

/** Extensions are 2 to 8 digits (as the devices' extensions are). */
const EXTENSION = /^[0-9]{2,8}$/;
/** Visual separators people type or paste: spaces (also no-break), dashes, dots, slashes, brackets. */
const SEPARATORS = /[\s\u00a0\u2010-\u2015().\-/]/g;
const MAX_TYPED = 64;

export function isDialPlanCountry(country: string): boolean {
  return /^[A-Z]{2}$/.test(country) && isSupportedCountry(country);
}

export function dial(typed: string, plan: { country: string }): Dialled {
  if (typed.length > MAX_TYPED) throw invalid('That is too long to be a phone number.');
  let text = typed.trim();
  if (/^tel:/i.test(text)) {
    text = text.slice(4);
    const semi = text.indexOf(';');
    if (semi >= 0) text = text.slice(0, semi);
    try {
      text = decodeURIComponent(text);
    } catch {
      throw invalid('That link does not hold a phone number.');
    }
  }
  text = text.replace(SEPARATORS, '');
  if (text === '') throw invalid('Type a number to call.');
  if (!/^\+?[0-9]+$/.test(text)) throw invalid('A phone number has only digits, and may start with +.');
  if (EXTENSION.test(text)) return { kind: 'extension', extension: text };
  const country = plan.country.toUpperCase();
  if (!text.startsWith('+') && !isDialPlanCountry(country)) {
    throw invalid('Add the country code (start with +): no dial plan country is set.');
  }
  try {
    const parsed = parsePhoneNumberWithError(
      text,
      isDialPlanCountry(country) ? (country as CountryCode) : undefined,
    );
    if (!parsed.isValid()) throw invalid('That is not a valid phone number.');
    return { kind: 'number', e164: parsed.number };
  } catch (err) {
    if (err instanceof ParleyError) throw err;
    throw invalid('That is not a valid phone number.', err);
  }
}

function invalid(message: string, cause?: unknown): ParleyError {
  return new ParleyError('invalid_number', message, { field: 'to', cause });
}
