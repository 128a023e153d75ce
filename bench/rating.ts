/**
 * bench/rating: synthetic answered outbound calls rated against a 50,000-prefix sell deck (two versions)
 * on one core, through the functions credit control rates real calls with:
 *   at authorise: `normaliseDestination`, `RateDeck.versionAt`, `DeckVersion.match` (the quoted row) and
 *   the pool key of the caller's month in the tenant's time zone (`PeriodClock`);
 *   at commit: `rateReserved` (billable seconds by increments, capped at the grant, the held pool minutes
 *   first, credits at the quoted rate plus the connection fee), producing the full explained RatedCall.
 * The store's transactions around them are what bench/credit-control measures; here, rating alone.
 *
 * The reference, measured in the same run, needs no Parley code: a bare loop over the same deck (a plain
 * Map per version, longest prefix by slicing, the same arithmetic) that yields only the amount. Both
 * loops must charge the same total, or the run fails. Building the deck and the records is untimed.
 * Target: >= 500,000 records per second.
 * Run: node --import tsx bench/rating.ts [records=1000000] [prefixes=50000] [rounds=5] [--short]
 */
import type { CallRecord } from '../packages/server/src/billing/call-record.ts';
import { PeriodClock } from '../packages/server/src/billing/billing-period.ts';
import {
  DESTINATION_CLASSES,
  normaliseDestination,
  type DestinationClass,
} from '../packages/server/src/billing/destination-class.ts';
import { DeckVersion, RateDeck, type RateRow } from '../packages/server/src/billing/rate-deck.ts';
import { rateReserved } from '../packages/server/src/billing/rating.ts';
import { clocked, compare, machine, median, positional, SHORT } from './report.ts';

const RECORDS = Number(positional[0] ?? (SHORT ? 200_000 : 1_000_000));
const PREFIXES = Number(positional[1] ?? 50_000);
const ROUNDS = Number(positional[2] ?? (SHORT ? 3 : 5));

// A deterministic generator (no Math.random: reproducible runs).
let seed = 0x2545f491;
const rand = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};

const INCREMENTS: Array<[number, number]> = [
  [60, 60],
  [30, 6],
  [1, 1],
];
const billable = DESTINATION_CLASSES.filter((c) => c !== 'emergency');
const rows: RateRow[] = [];
const seen = new Set<string>();
while (rows.length < PREFIXES) {
  const len = 2 + rand(7);
  let p = String(1 + rand(9));
  while (p.length < len) p += String(rand(10));
  if (seen.has(p)) continue;
  seen.add(p);
  const [first, next] = INCREMENTS[rand(3)]!;
  rows.push({
    prefix: p,
    destination: `Destination ${rows.length}`,
    cls: billable[rand(billable.length)] as DestinationClass,
    ratePerMinute: 1_000 + rand(500_000),
    connectionFee: rand(3) === 0 ? 50_000 : 0,
    firstIncrement: first,
    nextIncrement: next,
  });
}
const t0 = Date.UTC(2026, 0, 1);
const SECOND_FROM = t0 + 20 * 86_400_000;
const rows2 = rows.map((r) => ({ ...r, ratePerMinute: r.ratePerMinute + 1 }));
const deck = new RateDeck('bench', 'bench', 'sell');
const buildStart = process.hrtime.bigint();
deck.addVersion(new DeckVersion('bench', 1, 0, rows));
deck.addVersion(new DeckVersion('bench', 2, SECOND_FROM, rows2));
const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;

const ZONES = ['Europe/London', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];
const TENANTS = 100;
const zoneOf = (tenant: number) => ZONES[tenant % ZONES.length]!;

// Records: destinations extend a random deck prefix to a full number; two months of start instants.
// What the reservation holds for each (set at authorisation, read by commit) is drawn here too: half
// hold pool minutes, and one in twenty is granted less than it lasted (charged to the grant).
const records: CallRecord[] = new Array(RECORDS);
const tenantOf = new Uint8Array(RECORDS);
const heldMinutes = new Int32Array(RECORDS);
const granted = new Int32Array(RECORDS);
for (let i = 0; i < RECORDS; i++) {
  const p = rows[rand(rows.length)]!.prefix;
  let d = p;
  while (d.length < 11) d += String(rand(10));
  const startedAt = t0 + rand(60 * 86_400) * 1000;
  const seconds = 1 + rand(900);
  tenantOf[i] = rand(TENANTS);
  heldMinutes[i] = rand(2) === 0 ? 0 : 1 + rand(10);
  granted[i] = rand(20) === 0 ? Math.max(1, seconds - 30) : 300 * Math.ceil(seconds / 300);
  records[i] = {
    id: `c${i}`,
    tenantId: `t${tenantOf[i]}`,
    userId: 'u',
    direction: 'outbound',
    destination: `+${d}`,
    startedAt,
    answeredAt: startedAt + 5000,
    endedAt: startedAt + 5000 + seconds * 1000,
  };
}

/** Credit control's path over every record; returns the total charged. */
function parley(): number {
  const clock = new PeriodClock();
  let amount = 0;
  for (let i = 0; i < RECORDS; i++) {
    const rec = records[i]!;
    // Authorise: the row quoted, and the pool of the caller's month.
    const digits = normaliseDestination(rec.destination);
    const version = deck.versionAt(rec.startedAt);
    const row = digits !== null && version ? version.match(digits) : null;
    if (!row || !version) continue; // refused no_rate: never committed
    const period = clock.at(rec.startedAt, zoneOf(tenantOf[i]!)).key;
    // Commit: the finished call against its reservation.
    const rated = rateReserved(rec, {
      rate: row,
      deckId: version.deckId,
      deckVersion: version.version,
      deckEffectiveFrom: version.effectiveFrom,
      pool: { country: 'GB', cls: row.cls, period },
      heldPoolMinutes: heldMinutes[i]!,
      grantedSeconds: granted[i]!,
    });
    amount += rated.amount;
  }
  return amount;
}

// The reference's deck: a plain Map per version, prefix -> [rate, fee, first, next].
type Bare = [number, number, number, number];
const bareMap = (rs: RateRow[]) =>
  new Map<string, Bare>(
    rs.map((r) => [r.prefix, [r.ratePerMinute, r.connectionFee, r.firstIncrement, r.nextIncrement]]),
  );
const bare1 = bareMap(rows);
const bare2 = bareMap(rows2);

/** The same records and deck with no Parley code: longest prefix by slicing, then the arithmetic. */
function reference(): number {
  let amount = 0;
  for (let i = 0; i < RECORDS; i++) {
    const rec = records[i]!;
    const d = rec.destination.slice(1);
    const map = rec.startedAt >= SECOND_FROM ? bare2 : bare1;
    let row: Bare | undefined;
    for (let len = Math.min(15, d.length); len > 0 && !row; len--) row = map.get(d.slice(0, len));
    if (!row) continue;
    const [rate, fee, first, next] = row;
    const seconds = Math.min(Math.floor((rec.endedAt - rec.answeredAt!) / 1000), granted[i]!);
    const bill =
      seconds <= 0 ? 0 : seconds <= first ? first : first + Math.ceil((seconds - first) / next) * next;
    const credit = bill - Math.min(bill, heldMinutes[i]! * 60);
    if (credit > 0) amount += fee + Math.floor((rate * credit + 59) / 60);
  }
  return amount;
}

/** Records per second of wall clock and per CPU-second (what one core does when others share it). */
function timed(f: () => number): { rate: number; perCpu: number; amount: number } {
  const t = clocked(f);
  return { rate: RECORDS / t.wall, perCpu: RECORDS / t.cpu, amount: t.value };
}

console.log(`bench/rating${SHORT ? ' --short' : ''}, one core; ${machine()}`);
console.log(
  `deck: ${PREFIXES} prefixes x 2 versions, index built in ${buildMs.toFixed(0)} ms; ` +
    `records: ${RECORDS} answered outbound calls, ${TENANTS} tenants in ${ZONES.length} time zones, ${ROUNDS} rounds`,
);
timed(parley); // warm-up (JIT)
timed(reference);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ours: number[] = [];
const refs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternating, so both loops see the same machine.
  const p = timed(parley);
  const r = timed(reference);
  if (p.amount !== r.amount) {
    console.error(`the two loops disagree: parley charged ${p.amount}, the reference ${r.amount}`);
    process.exit(1);
  }
  ours.push(p.perCpu);
  refs.push(r.perCpu);
  console.log(
    `  round ${round + 1}: parley ${fmt(p.rate)}/s wall, ${fmt(p.perCpu)}/CPU-s; reference ${fmt(r.rate)}/s wall, ${fmt(r.perCpu)}/CPU-s; total charged ${p.amount} micro-units (both)`,
  );
}
compare({
  what: 'rating, credit control path (per CPU-second, median of rounds)',
  figure: median(ours),
  reference: median(refs),
  unit: 'records/s',
  referenceName: 'bare loop over the same deck',
});
console.log(`target >= 500,000 records/s on one core: ${median(ours) >= 500_000 ? 'met' : 'NOT met'}`);
