/**
 * The price of each phone call a user placed, as call history shows it (issue 20 item 6): read from the
 * rated calls credit control and rating wrote (`billing_rated_calls`, whose explanation is the
 * RatedCall as JSON). Scoped by tenant and by the calling user: a user sees only what their own calls
 * cost, never a colleague's.
 */
import type { Kysely } from 'kysely';
import type { CallPrice } from '@parley/protocol';
import type { TenantScope } from '../directory/scope.ts';
import { formatMicros } from './money.ts';
import type { RatedCall } from './rating.ts';
import type { Database } from '../storage/schema.ts';

export class CallPrices {
  constructor(private readonly db: Kysely<Database>) {}

  /** The prices of those of `callIds` that `userId` placed and that were rated, by call id. */
  async of(scope: TenantScope, userId: string, callIds: readonly string[]): Promise<Map<string, CallPrice>> {
    const out = new Map<string, CallPrice>();
    if (callIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('billing_rated_calls')
      .select(['call_id', 'explanation'])
      .where('tenant_id', '=', scope.tenantId)
      .where('user_id', '=', userId)
      .where('call_id', 'in', [...callIds])
      .execute();
    for (const r of rows) {
      const price = priceOf(r.explanation);
      if (price) out.set(r.call_id, price);
    }
    return out;
  }
}

/** A stored explanation as the history's price; null for one that cannot be read (never fatal). */
export function priceOf(explanation: string): CallPrice | null {
  let r: Partial<RatedCall>;
  try {
    r = JSON.parse(explanation) as Partial<RatedCall>;
  } catch {
    return null;
  }
  if (typeof r.amount !== 'number' || typeof r.reason !== 'string') return null;
  return {
    amount: formatMicros(r.amount),
    reason: r.reason,
    billableSeconds: r.billableSeconds ?? 0,
    poolMinutes: r.pool?.minutes ?? 0,
    creditSeconds: r.creditSeconds ?? 0,
    ratePerMinute: formatMicros(r.ratePerMinute ?? 0),
    connectionFee: formatMicros(r.connectionFeeCharged ? (r.connectionFee ?? 0) : 0),
    firstIncrement: r.firstIncrement ?? 0,
    nextIncrement: r.nextIncrement ?? 0,
    matchedPrefix: r.matchedPrefix ?? null,
    destinationName: r.destinationName ?? null,
    deck: r.deck ? { id: r.deck.id, version: r.deck.version } : null,
  };
}
