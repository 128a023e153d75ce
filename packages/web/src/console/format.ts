/** Dates and amounts as the admin screens show them (the reader's locale and time zone). */
const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatTime = (iso: string): string => time.format(new Date(iso));

/** A decimal amount string from the server ("12.5") with two decimals at least ("12.50"). */
export function formatAmount(amount: string): string {
  const [whole, frac = ''] = amount.replace(/^-/, '').split('.');
  const sign = amount.startsWith('-') ? '−' : '';
  return `${sign}${whole}.${frac.padEnd(2, '0')}`;
}
