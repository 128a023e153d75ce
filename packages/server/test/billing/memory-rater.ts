/**
 * A test model of rating many calls in a row: decks, tenants and pool balances held in memory, so a
 * test can follow pool minutes across calls and months without a store. No production path uses it
 * (credit control rates inside its store's transactions, previews included; bench/rating measures
 * that path), which is why it lives with the tests.
 */
import type { CallRecord } from '../../src/billing/call-record.ts';
import { PeriodClock } from '../../src/billing/billing-period.ts';
import { CLASS_CODE, type DestinationClass } from '../../src/billing/destination-class.ts';
import type { RateDeck } from '../../src/billing/rate-deck.ts';
import { rateCall, type PoolKey, type PoolSource, type RatedCall } from '../../src/billing/rating.ts';

export interface MemoryTenant {
  country: string;
  timeZone: string;
  sellDeck: RateDeck;
}

const CLASSES = Object.keys(CLASS_CODE).length;

/** Per tenant: included minutes per country (by class code, -1 = none) and what is left per month. */
interface TenantPools {
  tenant: MemoryTenant;
  included: Map<string, Int32Array>;
  /** country -> period -> minutes left by class code */
  left: Map<string, Map<string, Int32Array>>;
}

/** Rates records against in-memory decks and draws in-memory pools. */
export class MemoryRater implements PoolSource {
  private readonly clock = new PeriodClock();
  private readonly state = new Map<string, TenantPools>();
  /** Reused answer of `poolFor` (see PoolSource). */
  private readonly scratch: { key: PoolKey; minutesAvailable: number } = {
    key: { country: '', cls: 'domestic', period: '' },
    minutesAvailable: 0,
  };
  private lastLeft: Int32Array | null = null;

  constructor(tenants: ReadonlyMap<string, MemoryTenant>) {
    for (const [id, tenant] of tenants) this.state.set(id, { tenant, included: new Map(), left: new Map() });
  }

  /** Sets a tenant's included minutes per month for one country and class. */
  include(tenantId: string, country: string, cls: DestinationClass, minutes: number): void {
    const s = this.state.get(tenantId);
    if (!s) throw new Error(`unknown tenant ${tenantId}`);
    let inc = s.included.get(country);
    if (!inc) {
      inc = new Int32Array(CLASSES).fill(-1);
      s.included.set(country, inc);
    }
    inc[CLASS_CODE[cls]] = minutes;
  }

  poolFor(record: CallRecord, cls: DestinationClass): { key: PoolKey; minutesAvailable: number } | null {
    this.lastLeft = null;
    const s = this.state.get(record.tenantId);
    if (!s) return null;
    const country = record.callerCountry ?? s.tenant.country;
    const inc = s.included.get(country);
    const code = CLASS_CODE[cls];
    if (!inc || inc[code] < 0) return null;
    const period = this.clock.at(record.startedAt, s.tenant.timeZone).key;
    let byPeriod = s.left.get(country);
    if (!byPeriod) {
      byPeriod = new Map();
      s.left.set(country, byPeriod);
    }
    let left = byPeriod.get(period);
    if (!left) {
      left = Int32Array.from(inc, (m) => Math.max(0, m));
      byPeriod.set(period, left);
    }
    this.lastLeft = left;
    const out = this.scratch;
    out.key.country = country;
    out.key.cls = cls;
    out.key.period = period;
    out.minutesAvailable = left[code];
    return out;
  }

  /** Rates a record and draws its pool minutes. */
  rate(record: CallRecord): RatedCall {
    const s = this.state.get(record.tenantId);
    const version = s ? s.tenant.sellDeck.versionAt(record.startedAt) : null;
    this.lastLeft = null;
    const rated = rateCall(record, { version, pools: this });
    const left = this.lastLeft as Int32Array | null;
    if (rated.pool && left) left[CLASS_CODE[rated.pool.cls]] -= rated.pool.minutes;
    return rated;
  }
}
