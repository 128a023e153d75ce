/**
 * Every benchmark under bench/ prints its figure beside a reference measured in the same run that needs
 * no Parley code, with the ratio (through bench/report.ts), and has a --short mode. The benchmarks
 * themselves never run in `npm test`; this reads them, and checks the ratio line's arithmetic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const dir = new URL('../bench/', import.meta.url);
/** Helpers and child processes of a benchmark, and the fuzz run (robustness, not speed). */
const NOT_ENTRY = /-(client|server)\.ts$|^(report|client-process|sipp-steps)\.ts$|^sip-fuzz\.ts$/;
const entries = [
  ...readdirSync(dir).filter((f) => f.endsWith('.ts') && !NOT_ENTRY.test(f)),
  // A benchmark in a folder of its own: bench/NAME/NAME.ts (its helpers beside it).
  ...readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${d.name}/${d.name}.ts`)
    .filter((f) => existsSync(new URL(f, dir))),
];

test('every benchmark reports a same-run reference and its ratio, and has a short mode', () => {
  assert.ok(entries.length >= 6, `benchmarks found: ${entries.join(', ')}`);
  for (const f of entries) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    assert.match(text, /from '(\.\.?\/)+report\.ts'/, `${f} reports through bench/report.ts`);
    assert.match(text, /\bcompare\(\{/, `${f} prints a figure beside its reference`);
    assert.match(text, /referenceName:/, `${f} names its reference`);
    assert.match(text, /\bSHORT\b/, `${f} has a --short mode`);
  }
});

test('the ratio line: figure, reference, ratio and which side is better', async () => {
  const { compare } = await import('../bench/report.ts');
  const log = console.log;
  console.log = () => {};
  try {
    const up = compare({ what: 'x', figure: 300, reference: 200, unit: 'ops/s', referenceName: 'bare' });
    assert.equal(up, 'RESULT x: 300 ops/s; reference (bare): 200 ops/s; ratio 1.50 (higher is better)');
    const down = compare({
      what: 'mem',
      figure: 8.2,
      reference: 4.1,
      unit: 'kB',
      referenceName: 'ws',
      lowerIsBetter: true,
      digits: 1,
    });
    assert.equal(down, 'RESULT mem: 8.2 kB; reference (ws): 4.1 kB; ratio 2.00 (lower is better)');
  } finally {
    console.log = log;
  }
});

test('bench/bridge starts, bridges one browser<->phone call on each side (embedded, rtpengine driver, bare rtpengine, werift relay), and stops', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', new URL('bridge/bridge.ts', dir).pathname, '1', '--short'],
    { env: { ...process.env, BENCH_CALLS: '1' }, timeout: 60_000 },
  );
  assert.match(stdout, /^embedded +1 calls: .*lost 0 of/m, 'the embedded driver carried the call');
  // A set-up whose DTLS handshake with rtpengine fails is retried as a new call (the werift stand-in's flaw).
  assert.match(
    stdout,
    /^rtpengine +1 calls: .*lost 0 of [1-9]\d* frames/m,
    'the rtpengine driver carried the call',
  );
  assert.match(stdout, /^bare-rtpengine +1 calls: .*lost 0 of [1-9]\d* frames/m, 'bare rtpengine carried it');
  assert.match(stdout, /^werift relay +1 calls: /m, 'the reference ran in the same run');
  assert.match(stdout, /^RESULT embedded: concurrent browser<->phone calls .* ratio /m);
  assert.match(stdout, /^RESULT rtpengine driver: calls per core at p99 <= 10 ms .* ratio /m);
});

test('bench/b2bua starts Parley, Kamailio and the SIPp ends, carries calls through both, and stops', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', new URL('b2bua/b2bua.ts', dir).pathname, '1', '20', '--short'],
    { env: { ...process.env, HOLD: '50' }, timeout: 180_000 },
  );
  // Every call went through (clean or not: retransmissions on a shared machine are the benchmark's
  // figure, not this test's).
  assert.match(stdout, /^Kamailio +20\/s: +20 ok, +0 failed, /m, 'the reference carried its calls');
  assert.match(stdout, /^Parley, carrier in +20\/s: +20 ok, +0 failed, /m, 'calls in through Parley');
  assert.match(stdout, /^Kamailio\+digest +20\/s: +20 ok, +0 failed, /m, 'the calls-out reference');
  assert.match(stdout, /^Parley, phone out +20\/s: +20 ok, +0 failed, /m, 'calls out through Parley');
  assert.match(
    stdout,
    /^Parley, out plain +20\/s: +20 ok, +0 failed, /m,
    'calls out with neither decks nor credit',
  );
  assert.match(stdout, /^SIPp direct +20\/s: +20 ok, /m, 'the harness row ran');
  assert.match(stdout, /^RESULT highest clean calls\/s through Parley, carrier -> DID .* ratio /m);
  assert.match(stdout, /^RESULT highest clean calls\/s through Parley, SIP phone .* ratio /m);
  assert.match(
    stdout,
    /^RESULT highest clean calls\/s, calls out with least-cost routing and credit control: .* ratio /m,
  );
  // Routing ranked the decks (carrier C is the cheaper); without decks the trunks go by name (B first).
  assert.match(
    stdout,
    /^call records by carrier: routed Parley: .*Carrier C \d+.*; plain Parley: .*Carrier B \d+/m,
  );
});
