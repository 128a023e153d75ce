/**
 * Destination classes: what kind of number a call goes to, as a rate deck's row says. The class decides
 * which pool a call draws from, whether a plan allows it, and the special rules (emergency is free and
 * never refused; premium needs the tenant's consent; inbound draws nothing).
 *
 * "Domestic" and "mobile" are the deck's word, not computed: a sell deck is written for callers of one
 * country (a GB deck classes +44 2 as domestic and +44 7 as mobile, and +33 as international). Pools are
 * keyed by the caller's country, so a French user on the same deck would be mis-classed; operators give
 * each country's plans their own sell deck.
 */
import { DESTINATION_CLASSES } from '@parley/protocol';
import { ALL_EMERGENCY_NUMBERS } from '../telephony/emergency-numbers.ts';

export { DESTINATION_CLASSES };
export type DestinationClass = (typeof DESTINATION_CLASSES)[number];

export function isDestinationClass(s: string): s is DestinationClass {
  return (DESTINATION_CLASSES as readonly string[]).includes(s);
}

/** Compact numeric codes for the in-memory prefix index (array index = code). */
export const CLASS_CODE: Record<DestinationClass, number> = {
  domestic: 0,
  mobile: 1,
  international: 2,
  'toll-free': 3,
  premium: 4,
  emergency: 5,
};

/**
 * Emergency short codes recognised even when no deck lists them, so an emergency call is never refused
 * for want of a rate or a licence: every country's in telephony's table (emergency-numbers.ts), which
 * is what the dial plan routes as emergency. Decks may add more as rows of class `emergency`.
 */
const EMERGENCY_SHORT_CODES: ReadonlySet<string> = new Set([
  ...ALL_EMERGENCY_NUMBERS,
  ...['112', '911', '999', '000', '110', '119', '100', '15', '17', '18'],
]);

/**
 * True when `dialled` is an emergency short code (112, 911, 999, 000, ...). Short codes are dialled
 * without the country code; the caller's country is implied.
 */
export function isEmergencyShortCode(dialled: string): boolean {
  return EMERGENCY_SHORT_CODES.has(dialled);
}

/**
 * Normalises a destination: an E.164 number ("+442071234567" or "442071234567") becomes its digits;
 * a short code of 2 to 6 digits (emergency, service numbers) is kept as dialled. Anything else is not a
 * destination on the phone network. Returns null for malformed input.
 */
export function normaliseDestination(destination: string): string | null {
  // Fast path: "+" and digits, or digits only, as telephony hands them over.
  const n = destination.length;
  const from = n > 0 && destination.charCodeAt(0) === 43 ? 1 : 0;
  let plain = n - from >= 2;
  for (let i = from; i < n && plain; i++) {
    const c = destination.charCodeAt(i);
    if (c < 48 || c > 57) plain = false;
  }
  if (plain) {
    const digits = n - from;
    const first = destination.charCodeAt(from);
    if (digits >= 7 && digits <= 15 && first !== 48) return from === 1 ? destination.slice(1) : destination;
    if (from === 0 && digits <= 6) return destination;
    return null;
  }
  const s = destination.trim().replace(/[\s().-]/g, '');
  if (/^\+?[1-9]\d{6,14}$/.test(s)) return s.charCodeAt(0) === 43 ? s.slice(1) : s;
  if (/^\d{2,6}$/.test(s)) return s;
  return null;
}
