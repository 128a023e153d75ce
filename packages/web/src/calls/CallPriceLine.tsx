/**
 * A rated phone call's price in the call history, and why: what credit paid, the pool minutes it
 * drew, and the rate that priced it (the deck's prefix and version, the billing increments), so a user
 * can check a charge without asking anyone.
 */
import type { CallPrice } from '@parley/protocol';
import { formatAmount } from '../console/format.ts';

const FREE_REASONS: Record<string, string> = {
  unanswered: 'Not answered: free',
  zero_duration: 'Free',
  emergency: 'Emergency call: free',
  free_rate: 'Free number',
  inbound: 'Free',
};

/** "per second", "per minute", "first 60 s, then per 6 s". */
export function incrementsText(first: number, next: number): string {
  const each = (s: number) => (s === 1 ? 'per second' : s === 60 ? 'per minute' : `per ${s} s`);
  return first === next ? `billed ${each(next)}` : `first ${first} s, then billed ${each(next)}`;
}

/** Why the call cost what it did, in words. */
export function priceWhy(p: CallPrice): string {
  const free = FREE_REASONS[p.reason];
  if (free) return free;
  const parts: string[] = [];
  if (p.poolMinutes > 0) parts.push(`${p.poolMinutes} included minute${p.poolMinutes === 1 ? '' : 's'}`);
  if (p.creditSeconds > 0 || p.reason === 'credits')
    parts.push(`${p.creditSeconds} s from credit at ${p.ratePerMinute}/min`);
  if (Number(p.connectionFee) > 0) parts.push(`connection fee ${p.connectionFee}`);
  const rate = [
    p.destinationName,
    p.matchedPrefix !== null ? `prefix ${p.matchedPrefix}` : null,
    incrementsText(p.firstIncrement, p.nextIncrement),
    p.deck ? `rate deck version ${p.deck.version}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  return `${parts.join(' + ') || `${p.billableSeconds} s`} (${rate})`;
}

export function CallPriceLine({ price }: { price: CallPrice }) {
  return (
    <span className="history-price muted" title={priceWhy(price)}>
      <span className="history-price-amount">Price {formatAmount(price.amount)}</span>
      <span className="history-price-why"> · {priceWhy(price)}</span>
    </span>
  );
}
