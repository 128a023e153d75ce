/**
 * Emergency numbers per country (issue 20 item 4): what a caller in a tenant whose dial plan country is
 * `country` may dial to reach the emergency services. libphonenumber-js carries no short-number data, so
 * this is our own table, kept small and conservative: 112 in every EU/EEA country, the UK and
 * Switzerland (the single European emergency number, also answered by every GSM handset), beside each
 * country's own (999 in GB and IE, 110 police in DE, 15/17/18 in FR, ...); 911 in North America; 000 in
 * Australia; 111 in New Zealand; and the usual numbers of other large countries. A country not listed
 * gets 112 and 911 (the numbers GSM handsets treat as emergency everywhere).
 *
 * These numbers are recognised before extensions (a dialled 999 is never a colleague's extension) and
 * before the dial plan, and are sent to the carrier as dialled (`sip:999@carrier`).
 */

/** The single European emergency number: every EU/EEA country, the UK and Switzerland answer it. */
const EU_112 = [
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
  'IS',
  'LI',
  'NO',
  'CH',
  'GB',
];

/** Each country's own numbers (112 is added for the European ones above). */
const NATIONAL: Record<string, readonly string[]> = {
  GB: ['999'],
  IE: ['999'],
  FR: ['15', '17', '18', '114'],
  DE: ['110'],
  AT: ['122', '133', '144'],
  BE: ['100', '101'],
  CH: ['117', '118', '144'],
  IT: ['113', '115', '118'],
  ES: ['091', '092', '061', '080'],
  PT: ['115'],
  NL: [],
  PL: ['997', '998', '999'],
  CZ: ['150', '155', '158'],
  SK: ['150', '155', '158'],
  HU: ['104', '105', '107'],
  GR: ['100', '166', '199'],
  NO: ['110', '113'],
  DK: [],
  SE: [],
  FI: [],
  US: ['911'],
  CA: ['911'],
  MX: ['911'],
  AU: ['000', '112', '106'],
  NZ: ['111'],
  JP: ['110', '119', '118'],
  KR: ['112', '119'],
  CN: ['110', '119', '120', '122'],
  HK: ['999', '112'],
  SG: ['999', '995'],
  IN: ['112', '100', '101', '102', '108'],
  BR: ['190', '192', '193'],
  AR: ['911', '107', '100', '101'],
  ZA: ['10111', '10177', '112'],
  IL: ['100', '101', '102'],
  RU: ['112', '101', '102', '103'],
  TR: ['112'],
  AE: ['999', '998', '997'],
};

/** For a country not in the table: the numbers GSM handsets treat as emergency everywhere. */
const FALLBACK: readonly string[] = ['112', '911'];

const TABLE = new Map<string, readonly string[]>();
for (const [country, own] of Object.entries(NATIONAL)) TABLE.set(country, own);
for (const country of EU_112) TABLE.set(country, ['112', ...(TABLE.get(country) ?? [])]);
for (const [country, numbers] of TABLE) TABLE.set(country, [...new Set(numbers)]);

/** The emergency numbers of `country` (ISO 3166-1 alpha-2; '' or unknown: 112 and 911). */
export function emergencyNumbers(country: string): readonly string[] {
  return TABLE.get(country.toUpperCase()) ?? FALLBACK;
}

/** Every emergency number of every country in the table (billing never charges a call to one). */
export const ALL_EMERGENCY_NUMBERS: ReadonlySet<string> = new Set([
  ...FALLBACK,
  ...[...TABLE.values()].flat(),
]);

/** Separators people type between digits (as the dial plan strips them). */
const SEPARATORS = /[\s\u00a0\u2010-\u2015().\-/]/g;

/**
 * The emergency number `typed` is for a caller in `country`, or null. What is typed may be a `tel:`
 * link and have separators (`9 9 9`); a withholding prefix before it is ignored by the caller (an
 * emergency call is never withheld), so `*67 999` is 999 too when `prefixes` lists `*67`.
 */
export function emergencyNumberOf(
  typed: string,
  country: string,
  prefixes: readonly string[] = [],
): string | null {
  let text = typed.trim();
  if (text.length > 64) return null;
  if (/^tel:/i.test(text)) {
    text = text.slice(4);
    const semi = text.indexOf(';');
    if (semi >= 0) text = text.slice(0, semi);
  }
  text = text.replace(SEPARATORS, '');
  for (const p of prefixes)
    if (p && text.startsWith(p) && text.length > p.length) text = text.slice(p.length);
  if (!/^[0-9]{2,6}$/.test(text)) return null;
  return emergencyNumbers(country).includes(text) ? text : null;
}
