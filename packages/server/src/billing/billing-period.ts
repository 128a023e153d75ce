/**
 * Billing periods: calendar months in the tenant's time zone. Included minutes renew at local midnight
 * on the first of each month, so a call at 23:30 on 31 January in Los Angeles draws January's pool even
 * though it is already February in UTC. A call belongs to the period in which it started.
 *
 * Computing a zone's month needs Intl, which is slow; `PeriodClock` caches each zone's current month
 * boundaries so that rating a stream of records costs a comparison per record.
 */

/** A month in one time zone: `key` "YYYY-MM", [start, end) as epoch ms. */
export interface BillingPeriod {
  key: string;
  start: number;
  end: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock fields of instant `t` in `timeZone`. */
function localFields(
  t: number,
  timeZone: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const out = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0 };
  for (const p of formatter(timeZone).formatToParts(t)) {
    if (p.type === 'year') out.y = Number(p.value);
    else if (p.type === 'month') out.mo = Number(p.value);
    else if (p.type === 'day') out.d = Number(p.value);
    else if (p.type === 'hour') out.h = Number(p.value);
    else if (p.type === 'minute') out.mi = Number(p.value);
    else if (p.type === 'second') out.s = Number(p.value);
  }
  return out;
}

/** Offset of `timeZone` from UTC at instant `t`, in ms (local = UTC + offset). */
function offsetAt(t: number, timeZone: string): number {
  const f = localFields(t, timeZone);
  const asUtc = Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s);
  return asUtc - (t - (((t % 1000) + 1000) % 1000));
}

/** The instant of local midnight starting day 1 of month `mo` (1-12) of year `y` in `timeZone`. */
export function localMonthStart(y: number, mo: number, timeZone: string): number {
  const local = Date.UTC(y, mo - 1, 1);
  const guess = local - offsetAt(local, timeZone);
  return local - offsetAt(guess, timeZone);
}

/** The billing period containing instant `t` in `timeZone`. */
export function periodAt(t: number, timeZone: string): BillingPeriod {
  const { y, mo } = localFields(t, timeZone);
  const ny = mo === 12 ? y + 1 : y;
  const nmo = mo === 12 ? 1 : mo + 1;
  return {
    key: `${y}-${String(mo).padStart(2, '0')}`,
    start: localMonthStart(y, mo, timeZone),
    end: localMonthStart(ny, nmo, timeZone),
  };
}

/** Caches the periods already computed, per time zone (a record stream spans only a few months). */
export class PeriodClock {
  private readonly cache = new Map<string, BillingPeriod[]>();

  at(t: number, timeZone: string): BillingPeriod {
    let list = this.cache.get(timeZone);
    if (!list) {
      list = [];
      this.cache.set(timeZone, list);
    }
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (t >= p.start && t < p.end) {
        if (i > 0) {
          // Keep the most recently used period first.
          list[i] = list[0];
          list[0] = p;
        }
        return p;
      }
    }
    const fresh = periodAt(t, timeZone);
    list.unshift(fresh);
    if (list.length > 24) list.pop();
    return fresh;
  }
}
