/**
 * Rating without storage: decks, tenants and pool balances held in memory. Used by the rating benchmark
 * and by previews ("what would this call cost"); credit control rates inside its own transactions.
 */
import type { CallRecord } from './call-record.ts';
import { PeriodClock } from './billing-period.ts';
import type { DestinationClass } from './destination-class.ts';
import type { RateDeck } from './rate-deck.ts';
import { rateCall, type PoolKey, type PoolSource, type RatedCall } from './rating.ts';

export interface MemoryTenant {
  country: string;
  timeZone: string;
  sellDeck: RateDeck;
}

/** Rates records against in-memory decks and draws in-memory pools. */
export class MemoryRater implements PoolSource {
  private readonly clock = new PeriodClock();
  /** Remaining minutes by "tenant|country|class|period". */
  private readonly pools = new Map<string, number>();
  /** Included minutes per month by "tenant|country|class". */
  private readonly included = new Map<string, number>();

  constructor(private readonly tenants: ReadonlyMap<string, MemoryTenant>) {}

  /** Sets a tenant's included minutes per month for one country and class. */
  include(tenantId: string, country: string, cls: DestinationClass, minutes: number): void {
    this.included.set(`${tenantId}|${country}|${cls}`, minutes);
  }

  poolFor(record: CallRecord, cls: DestinationClass): { key: PoolKey; minutesAvailable: number } | null {
    const tenant = this.tenants.get(record.tenantId);
    if (!tenant) return null;
    const country = record.callerCountry ?? tenant.country;
    const base = `${record.tenantId}|${country}|${cls}`;
    const monthly = this.included.get(base);
    if (monthly === undefined) return null;
    const period = this.clock.at(record.startedAt, tenant.timeZone).key;
    const id = `${base}|${period}`;
    const left = this.pools.get(id) ?? monthly;
    return { key: { country, cls, period }, minutesAvailable: left };
  }

  /** Rates a record and draws its pool minutes. */
  rate(record: CallRecord): RatedCall {
    const tenant = this.tenants.get(record.tenantId);
    const version = tenant ? tenant.sellDeck.versionAt(record.startedAt) : null;
    const rated = rateCall(record, { version, pools: this });
    if (rated.pool) {
      const id = `${record.tenantId}|${rated.pool.country}|${rated.pool.cls}|${rated.pool.period}`;
      const monthly = this.included.get(`${record.tenantId}|${rated.pool.country}|${rated.pool.cls}`) ?? 0;
      this.pools.set(id, (this.pools.get(id) ?? monthly) - rated.pool.minutes);
    }
    return rated;
  }
}
