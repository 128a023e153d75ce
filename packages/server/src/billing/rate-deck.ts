/**
 * Rate decks: price lists by destination prefix, imported from CSV and versioned.
 *
 * A deck is either a *sell* deck (what tenants pay; attached to a plan or to one tenant) or a *cost*
 * deck (what a carrier charges us; for least-cost routing and margin later). Each import makes a new
 * immutable version with an effective-from instant; from that instant it replaces the previous version.
 * A call is always rated with the version in force when it started, so a version taking effect during a
 * call does not change that call's price.
 *
 * CSV columns (header row required, any order, extra columns ignored):
 *   prefix, destination, class, rate_per_minute, connection_fee, first_increment, next_increment
 * e.g. `44,United Kingdom fixed,domestic,0.0100,0,60,60`. Prices are decimal text in the deck's currency
 * (at most 6 decimals), increments whole seconds (60/60, 30/6, 1/1 ...). A prefix may start with "+".
 * A file with any problem is refused whole, listing every problem with its row number; nothing of it is
 * stored.
 */
import { parseCsv } from './csv.ts';
import { CLASS_CODE, isDestinationClass, type DestinationClass } from './destination-class.ts';
import { BillingError, type RowProblem } from './errors.ts';
import { parseDecimalMicros, type Micros } from './money.ts';
import { PrefixIndex } from './prefix-index.ts';

/** One priced prefix. */
export interface RateRow {
  /** Digits, without "+". */
  prefix: string;
  destination: string;
  cls: DestinationClass;
  ratePerMinute: Micros;
  connectionFee: Micros;
  /** Seconds billed for the first part of a call (a call shorter than this pays all of it). */
  firstIncrement: number;
  /** Seconds per further step after the first increment. */
  nextIncrement: number;
}

export type DeckKind = 'sell' | 'cost';

export const DECK_COLUMNS = [
  'prefix',
  'destination',
  'class',
  'rate_per_minute',
  'connection_fee',
  'first_increment',
  'next_increment',
] as const;

/** Largest accepted price (per minute or per connection): one million currency units. */
const MAX_PRICE: Micros = 1_000_000 * 1_000_000;
const MAX_INCREMENT = 3600;
const MAX_ROWS = 2_000_000;
const MAX_PROBLEMS = 200;

/**
 * Parses and validates a deck file. Throws `deck_invalid` with every problem (up to 200) and its row
 * number when anything is wrong: bad or duplicate prefix, unknown class, negative or malformed price,
 * bad increments, structural CSV errors, missing columns, an empty file.
 */
export function parseRateDeckCsv(text: string): RateRow[] {
  const { records, problems: csvProblems } = parseCsv(text);
  const problems: RowProblem[] = csvProblems.map((p) => ({ row: p.line, message: p.message }));
  const add = (p: RowProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  if (records.length === 0)
    throw new BillingError('deck_invalid', 'the file is empty', [{ row: 1, message: 'no header row' }]);
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const col: Record<string, number> = {};
  for (const name of DECK_COLUMNS) {
    const at = header.indexOf(name);
    if (at < 0) add({ row: records[0].line, column: name, message: `missing column "${name}"` });
    col[name] = at;
  }
  if (problems.length) throw invalid(problems);
  if (records.length - 1 > MAX_ROWS)
    throw invalid([{ row: records[0].line, message: `more than ${MAX_ROWS} rows` }]);

  const rows: RateRow[] = [];
  const seen = new Map<string, number>();
  for (let r = 1; r < records.length; r++) {
    const { line, fields } = records[r];
    const get = (name: string) => (fields[col[name]] ?? '').trim();
    let ok = true;
    const fail = (column: string, message: string) => {
      ok = false;
      add({ row: line, column, message });
    };

    let prefix = get('prefix');
    if (prefix.startsWith('+')) prefix = prefix.slice(1);
    if (!/^\d{1,15}$/.test(prefix)) fail('prefix', `prefix "${get('prefix')}" must be 1 to 15 digits`);
    else {
      const first = seen.get(prefix);
      if (first !== undefined) fail('prefix', `prefix ${prefix} is already on row ${first}`);
      else seen.set(prefix, line);
    }
    const destination = get('destination');
    if (destination.length > 200) fail('destination', 'destination name is longer than 200 characters');
    const cls = get('class').toLowerCase();
    if (!isDestinationClass(cls))
      fail(
        'class',
        `unknown class "${get('class')}" (domestic, mobile, international, toll-free, premium, emergency)`,
      );
    const price = (name: string): Micros => {
      const p = parseDecimalMicros(get(name));
      if (!p.ok) {
        fail(name, p.reason);
        return 0;
      }
      if (p.value < 0) fail(name, `${name.replace(/_/g, ' ')} must not be negative`);
      else if (p.value > MAX_PRICE) fail(name, `${name.replace(/_/g, ' ')} is too large`);
      return p.value;
    };
    const ratePerMinute = price('rate_per_minute');
    const connectionFee = price('connection_fee');
    const increment = (name: string): number => {
      const t = get(name);
      if (!/^\d{1,4}$/.test(t) || Number(t) < 1 || Number(t) > MAX_INCREMENT) {
        fail(name, `${name.replace(/_/g, ' ')} "${t}" must be whole seconds from 1 to ${MAX_INCREMENT}`);
        return 1;
      }
      return Number(t);
    };
    const firstIncrement = increment('first_increment');
    const nextIncrement = increment('next_increment');
    if (ok)
      rows.push({
        prefix,
        destination,
        cls: cls as DestinationClass,
        ratePerMinute,
        connectionFee,
        firstIncrement,
        nextIncrement,
      });
  }
  if (problems.length) throw invalid(problems);
  if (rows.length === 0) throw invalid([{ row: records[0].line, message: 'the deck has no rates' }]);
  return rows;
}

function invalid(problems: RowProblem[]): BillingError {
  const first = problems
    .slice(0, 3)
    .map((p) => `row ${p.row}${p.column ? ` (${p.column})` : ''}: ${p.message}`);
  const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
  return new BillingError('deck_invalid', `the deck was not imported: ${first.join('; ')}${more}`, problems);
}

/** The result of a prefix lookup in one deck version. */
export interface RateMatch {
  row: RateRow;
  /** The matched prefix (the row's prefix). */
  prefix: string;
}

/** One immutable version of a deck, indexed for longest-prefix match. */
export class DeckVersion {
  readonly index: PrefixIndex;
  /** Class codes by row, for allocation-free class checks in hot loops. */
  readonly classCodes: Uint8Array;
  /** The version as a rated call names it (one shared object). */
  readonly info: { id: string; version: number; effectiveFrom: number };

  constructor(
    readonly deckId: string,
    readonly version: number,
    /** Epoch ms from which this version is in force. */
    readonly effectiveFrom: number,
    readonly rows: readonly RateRow[],
  ) {
    this.info = Object.freeze({ id: deckId, version, effectiveFrom });
    this.index = new PrefixIndex(rows.length);
    this.classCodes = new Uint8Array(rows.length);
    rows.forEach((row, i) => {
      if (this.index.insert(row.prefix, i) >= 0)
        throw new BillingError('deck_invalid', `duplicate prefix ${row.prefix}`);
      this.classCodes[i] = CLASS_CODE[row.cls];
    });
  }

  /** The row of the longest prefix of `digits`, or null. */
  match(digits: string): RateRow | null {
    const i = this.index.lookup(digits);
    return i < 0 ? null : this.rows[i];
  }
}

/**
 * A deck and its versions. `versionAt(t)` is the version with the latest effective-from at or before
 * `t` (the highest version number when two share an instant).
 */
export class RateDeck {
  private versions: DeckVersion[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly kind: DeckKind,
    /** For cost decks, the carrier whose prices these are. */
    readonly carrierId: string | null = null,
  ) {}

  addVersion(v: DeckVersion): void {
    if (v.deckId !== this.id) throw new Error(`version of deck ${v.deckId} added to deck ${this.id}`);
    if (this.versions.some((x) => x.version === v.version)) return;
    this.versions.push(v);
    this.versions.sort((a, b) => a.effectiveFrom - b.effectiveFrom || a.version - b.version);
  }

  /** Every version, oldest effective first. */
  allVersions(): readonly DeckVersion[] {
    return this.versions;
  }

  latestVersionNumber(): number {
    return this.versions.reduce((m, v) => Math.max(m, v.version), 0);
  }

  versionAt(t: number): DeckVersion | null {
    const vs = this.versions;
    // Few versions per deck: a backwards scan is faster than a binary search here.
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i].effectiveFrom <= t) return vs[i];
    return null;
  }
}
