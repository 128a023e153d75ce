/**
 * Least-cost routing (issue 20 item 1): which carriers a call out to a number is offered, in which
 * order, and why, read from billing's cost decks (a trunk's id is billing's carrier id, and a cost deck
 * names its carrier).
 *
 * For each carrier `carriersFor` returns, the rate for the number is the longest prefix of the number
 * in the carrier's cost deck (the version in force now; of several cost decks of one carrier, the
 * longest match wins, then the cheaper). Then:
 * - a carrier whose cost deck does not reach the number is **not a candidate** (skipped `no_rate`);
 * - a carrier with **no cost deck at all** (or none with a version in force yet) stays a candidate,
 *   after every priced one: nothing is known of its price, and refusing it would make a trunk unusable
 *   until billing has its prices (as before this issue, when no call was priced);
 * - priced candidates are ordered by the cost of a call's first minute (the connection fee plus the
 *   first minute in the row's increments, `charge(row, 60)`), then by the rate per minute, then by the
 *   trunk's `preference` (lower first, 0 when unset), then by name; unpriced ones by preference, then
 *   name.
 * A tenant's own carriers (as Teams Direct Routing) stay before the operator's, as `carriersFor` gives
 * them: the tenant brought them for its calls, and each group is ordered as above.
 *
 * Everything here is synchronous over decks already in memory (DeckStore's catalogue, refreshed at most
 * every `PARLEY_BILLING_DECK_REFRESH_MS`): a route adds no database query. What was decided is kept as a
 * `RouteDecision`, which the trunk leg completes (channels full, down, failed over) and stores with the
 * call record (`route_decision`, migration 018).
 */
import { charge } from '../billing/rating.ts';
import type { RateDeck, RateRow } from '../billing/rate-deck.ts';
import { formatMicros, type Micros } from '../billing/money.ts';
import type { TrunkCarrier } from './carriers.ts';

/** Where the cost decks are: billing's DeckStore (`costDecksByCarrier`). */
export interface CostDecks {
  /** Every cost deck, by the carrier it prices. */
  costDecksByCarrier(): Promise<ReadonlyMap<string, readonly RateDeck[]>>;
}

/** A carrier offered the call, with what it costs us to reach the number on it. */
export interface RouteCandidate {
  carrierId: string;
  name: string;
  preference: number;
  /** The deck prefix that matched (longest), or null for a carrier with no cost deck. */
  prefix: string | null;
  /** Decimal text in the deck's currency, per minute; null unpriced. */
  costPerMinute: string | null;
  connectionFee: string | null;
  /** What the first minute of a call costs (fee plus a minute in the row's increments). */
  firstMinute: string | null;
  /** The cost deck and version priced from. */
  deck: { id: string; version: number } | null;
}

export type SkipReason = 'no_rate' | 'channels_full' | 'down' | 'failed';

/** A carrier the call did not go out on, and why. */
export interface SkippedCarrier {
  carrierId: string;
  name: string;
  why: SkipReason;
  /** For `failed`: what the carrier answered (`503 Service Unavailable`, `no answer within 4 s`). */
  detail?: string;
}

/** The routing of one call out, as kept with its record. */
export interface RouteDecision {
  e164: string;
  /** When it was decided (ms since the epoch): the deck versions in force then. */
  at: number;
  /** The candidates in the order they are tried. */
  candidates: RouteCandidate[];
  /** The carrier that carried the call (the last one tried), null while none was. */
  chosen: string | null;
  skipped: SkippedCarrier[];
}

interface Priced {
  carrier: TrunkCarrier;
  row: RateRow | null;
  deck: { id: string; version: number } | null;
  firstMinute: Micros;
}

/** The row of the longest prefix of `digits` among `decks` (versions in force at `at`); ties: the cheaper. */
function bestRow(
  decks: readonly RateDeck[],
  digits: string,
  at: number,
): { priced: boolean; row: RateRow | null; deck: { id: string; version: number } | null } {
  let priced = false;
  let best: { row: RateRow; deck: { id: string; version: number } } | null = null;
  for (const d of decks) {
    const v = d.versionAt(at);
    if (!v) continue;
    priced = true;
    const row = v.match(digits);
    if (!row) continue;
    if (
      !best ||
      row.prefix.length > best.row.prefix.length ||
      (row.prefix.length === best.row.prefix.length && firstMinute(row) < firstMinute(best.row))
    )
      best = { row, deck: { id: d.id, version: v.version } };
  }
  return { priced, row: best?.row ?? null, deck: best?.deck ?? null };
}

const firstMinute = (row: RateRow): Micros => charge(row, 60, 0).amount;

const byName = (a: TrunkCarrier, b: TrunkCarrier) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function compare(a: Priced, b: Priced): number {
  if (a.row && !b.row) return -1;
  if (!a.row && b.row) return 1;
  if (a.row && b.row) {
    if (a.firstMinute !== b.firstMinute) return a.firstMinute - b.firstMinute;
    if (a.row.ratePerMinute !== b.row.ratePerMinute) return a.row.ratePerMinute - b.row.ratePerMinute;
  }
  const p = (a.carrier.preference ?? 0) - (b.carrier.preference ?? 0);
  return p !== 0 ? p : byName(a.carrier, b.carrier);
}

/**
 * `carriers` (as `carriersFor` gives them: the tenant's own, then the operator's) in least-cost order
 * for `e164`, with the decision: the candidates and the carriers without a rate for it.
 */
export function rankCarriers(
  carriers: readonly TrunkCarrier[],
  e164: string,
  decks: ReadonlyMap<string, readonly RateDeck[]>,
  at: number,
): { carriers: TrunkCarrier[]; decision: RouteDecision } {
  const digits = e164.startsWith('+') ? e164.slice(1) : e164;
  const skipped: SkippedCarrier[] = [];
  const groups: Priced[][] = [[], []];
  for (const carrier of carriers) {
    const own = decks.get(carrier.id);
    const { priced, row, deck } = own ? bestRow(own, digits, at) : { priced: false, row: null, deck: null };
    if (priced && !row) {
      skipped.push({ carrierId: carrier.id, name: carrier.name, why: 'no_rate' });
      continue;
    }
    groups[carrier.tenantId === null ? 1 : 0]!.push({
      carrier,
      row,
      deck,
      firstMinute: row ? firstMinute(row) : 0,
    });
  }
  const ordered = groups.flatMap((g) => g.sort(compare));
  return {
    carriers: ordered.map((p) => p.carrier),
    decision: {
      e164,
      at,
      candidates: ordered.map(candidateOf),
      chosen: null,
      skipped,
    },
  };
}

function candidateOf(p: Priced): RouteCandidate {
  return {
    carrierId: p.carrier.id,
    name: p.carrier.name,
    preference: p.carrier.preference ?? 0,
    prefix: p.row?.prefix ?? null,
    costPerMinute: p.row ? formatMicros(p.row.ratePerMinute) : null,
    connectionFee: p.row ? formatMicros(p.row.connectionFee) : null,
    firstMinute: p.row ? formatMicros(p.firstMinute) : null,
    deck: p.deck,
  };
}

/** What a carrier choice reads and changes of the trunk service: its carriers and their channels. */
export interface ChannelBook {
  known(id: string): TrunkCarrier | undefined;
  inUse(id: string): number;
  /** The health check found the carrier down at every address. */
  allDown(c: TrunkCarrier): boolean;
  take(id: string): void;
  release(id: string): void;
}

/**
 * One call's way down its route's carriers: the carrier it is on (holding one of its channels), and
 * the next one when that carrier fails (the channel moves with the call). Passed-over carriers are
 * noted in the call's decision.
 */
export class CarrierChoice {
  private index = -1;
  private held: TrunkCarrier | null = null;

  constructor(
    private readonly ids: readonly string[],
    private readonly book: ChannelBook,
    readonly decision?: RouteDecision,
    /** An emergency call takes a channel over the carrier's limit: it is never refused for want of one. */
    private readonly overLimit = false,
  ) {}

  /** The carrier the call is on (null before `next`, or once none was left). */
  get current(): TrunkCarrier | null {
    return this.held;
  }

  /** Whether any carrier is left after the current one (free or not). */
  get more(): boolean {
    return this.index + 1 < this.ids.length;
  }

  /**
   * Moves to the next carrier with a channel free and not down at every address, giving back the
   * current one's channel (noted `failed` with `detail`). Null when none is left (no channel held).
   */
  next(detail?: string): TrunkCarrier | null {
    const d = this.decision;
    if (this.held) {
      d?.skipped.push({ carrierId: this.held.id, name: this.held.name, why: 'failed', detail });
      this.release();
    }
    for (let i = this.index + 1; i < this.ids.length; i++) {
      const c = this.book.known(this.ids[i]!);
      if (!c) continue;
      const full = !this.overLimit && c.channelLimit !== null && this.book.inUse(c.id) >= c.channelLimit;
      // A carrier the health check found down at every address is not offered the call.
      const why = full ? 'channels_full' : this.book.allDown(c) ? 'down' : null;
      if (why) {
        d?.skipped.push({ carrierId: c.id, name: c.name, why });
        continue;
      }
      this.index = i;
      this.held = c;
      this.book.take(c.id);
      if (d) d.chosen = c.id;
      return c;
    }
    this.index = this.ids.length;
    return null;
  }

  /** Gives the current carrier's channel back (idempotent). */
  release(): void {
    if (this.held) this.book.release(this.held.id);
    this.held = null;
  }
}

/** Whether a carrier's refusal (after its last address) moves the call to the next carrier. */
export function failsOverToNextCarrier(status: number | 'timeout'): boolean {
  // 5xx (a transport error is 503 here) and 408 are the carrier's trouble; 4xx and 6xx answers about
  // the callee (486 busy, 404, 480, 484, 603 ...) would be the same on any carrier: they end the call.
  return status === 'timeout' || status === 408 || (status >= 500 && status < 600);
}
