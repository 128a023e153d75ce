/**
 * bench/rating: 1,000,000 synthetic call records rated against a 50,000-prefix sell deck, in memory, on
 * one core. Rating includes: destination normalisation, the deck version in force at the call's start,
 * longest-prefix match, billable seconds by increments, the pool of the caller's country, class and
 * month in the tenant's time zone (drawn in whole minutes), and the credit charge with its connection
 * fee, producing a full explained RatedCall per record. Building the deck and the records is outside the
 * timed loop. Target: >= 500,000 records per second.
 * Run: node --import tsx bench/rating.ts [records] [prefixes] [rounds]
 */
import { cpus } from 'node:os';
import type { CallRecord } from '../packages/server/src/billing/call-record.ts';
import {
  DESTINATION_CLASSES,
  type DestinationClass,
} from '../packages/server/src/billing/destination-class.ts';
import { MemoryRater, type MemoryTenant } from '../packages/server/src/billing/memory-rater.ts';
import { DeckVersion, RateDeck, type RateRow } from '../packages/server/src/billing/rate-deck.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const PREFIXES = Number(process.argv[3] ?? 50_000);

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
  const [first, next] = INCREMENTS[rand(3)];
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
const deck = new RateDeck('bench', 'bench', 'sell');
const t0 = Date.UTC(2026, 0, 1);
const buildStart = process.hrtime.bigint();
deck.addVersion(new DeckVersion('bench', 1, 0, rows));
deck.addVersion(
  new DeckVersion(
    'bench',
    2,
    t0 + 20 * 86_400_000,
    rows.map((r) => ({ ...r, ratePerMinute: r.ratePerMinute + 1 })),
  ),
);
const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;

const tenants = new Map<string, MemoryTenant>();
const zones = ['Europe/London', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];
for (let i = 0; i < 100; i++)
  tenants.set(`t${i}`, { country: 'GB', timeZone: zones[i % zones.length], sellDeck: deck });

// Records: destinations extend a random deck prefix to a full number; two months of start instants.
const records: CallRecord[] = new Array(RECORDS);
for (let i = 0; i < RECORDS; i++) {
  const p = rows[rand(rows.length)].prefix;
  let d = p;
  while (d.length < 11) d += String(rand(10));
  const startedAt = t0 + rand(60 * 86_400) * 1000;
  const answered = rand(10) !== 0;
  records[i] = {
    id: `c${i}`,
    tenantId: `t${rand(100)}`,
    userId: 'u',
    direction: rand(5) === 0 ? 'inbound' : 'outbound',
    destination: `+${d}`,
    startedAt,
    answeredAt: answered ? startedAt + 5000 : null,
    endedAt: startedAt + 5000 + rand(900) * 1000,
  };
}

// Warm-up (JIT) on a throwaway rater.
const warm = new MemoryRater(tenants);
for (let i = 0; i < 200_000; i++) warm.rate(records[i]);

const ROUNDS = Number(process.argv[4] ?? 5);
const rates: number[] = [];
let amount = 0;
let poolMinutes = 0;
for (let round = 0; round < ROUNDS; round++) {
  // A fresh rater per round: every round starts with full pools.
  const rater = new MemoryRater(tenants);
  for (let i = 0; i < 100; i++) {
    rater.include(`t${i}`, 'GB', 'domestic', 3000 * 20);
    rater.include(`t${i}`, 'GB', 'mobile', 3000 * 20);
    rater.include(`t${i}`, 'GB', 'international', 600 * 5);
  }
  amount = 0;
  poolMinutes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < RECORDS; i++) {
    const r = rater.rate(records[i]);
    amount += r.amount;
    if (r.pool) poolMinutes += r.pool.minutes;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  rates.push(RECORDS / seconds);
}
const sorted = [...rates].sort((a, b) => a - b);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`bench/rating on ${cpus()[0]?.model ?? 'unknown CPU'} (one core), Node ${process.version}`);
console.log(`deck: ${PREFIXES} prefixes x 2 versions, index built in ${buildMs.toFixed(0)} ms`);
console.log(
  `records: ${RECORDS} (20% inbound, 10% unanswered), 100 tenants in 4 time zones, pool minutes drawn per round: ${poolMinutes}`,
);
console.log(`rounds (records/s): ${rates.map(fmt).join(', ')}`);
console.log(
  `records rated per second: best ${fmt(sorted[sorted.length - 1])}, median ${fmt(sorted[Math.floor(sorted.length / 2)])} (target >= 500,000)`,
);
console.log(`total charged per round: ${amount} micro-units`);
