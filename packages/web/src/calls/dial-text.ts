/**
 * Phone numbers as people type, paste and link them, made into what the dial pad shows and sends. The
 * server's dial plan does the real reading (national formats in the tenant's country, validity, E.164);
 * here the text is only cleaned, so a pasted `Call +44 (0)20 7946-0018!` or a `tel:+44-20-7946-0018`
 * link shows as `+442079460018` on the pad.
 */

/** What the pad keeps of pasted or linked text: a leading +, then digits, * and #. */
export function cleanDialled(text: string): string {
  let t = text.trim();
  if (/^tel:/i.test(t)) {
    t = t.slice(4);
    const semi = t.indexOf(';');
    if (semi >= 0) t = t.slice(0, semi);
    try {
      t = decodeURIComponent(t);
    } catch {
      // Kept as written: the server refuses what is not a number.
    }
  }
  // "+44 (0)20 ...": the national trunk 0 written beside the country code is not dialled.
  t = t.replace(/(\+\d{1,3})\s*\(0\)/, '$1');
  const plus = /^[^0-9]*\+/.test(t);
  const rest = t.replace(/[^0-9*#]/g, '');
  return (plus ? '+' : '') + rest;
}

/** `+44 20 7946 0018` as `+442079460018`, or null when it is not international (+ and 2 to 15 digits). */
export function toE164(text: string): string | null {
  const t = text.replace(/[\s\u00a0().\-/]/g, '');
  return /^\+[1-9]\d{1,14}$/.test(t) ? t : null;
}
