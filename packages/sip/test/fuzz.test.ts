/**
 * Bounded mutation fuzzing (see fuzz.ts; the long run is bench/sip-fuzz.ts): no crash, no hang,
 * bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createFuzzHarness } from './fuzz.ts';
import { loadTorture } from './torture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('20,000 mutants of the 49 torture messages: only coded errors, no hang, bounded memory', () => {
  const cases = loadTorture();
  const h = createFuzzHarness(20261127);
  // warm up, then measure heap growth across the main run
  for (let i = 0; i < 2000; i++) h.one(cases[i % cases.length]!.bytes);
  h.drain();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++) h.one(cases[i % cases.length]!.bytes);
  h.drain();
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  assert.equal(h.transactions, 0, 'every transaction ends by its timers');
  const worst = h.worstMs < 250 ? h.worstMs : h.retimeWorst();
  assert.ok(worst < 250, `slowest mutant took ${h.worstMs.toFixed(1)} ms, and ${worst.toFixed(1)} ms again`);
  assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`);
});

test('pathological inputs stay linear: 60 KB of commas, quotes and folding', () => {
  const h = createFuzzHarness(1);
  const blobs = [
    'OPTIONS sip:a@b SIP/2.0\r\nVia: ' + ','.repeat(30000) + '\r\n\r\n',
    'OPTIONS sip:a@b SIP/2.0\r\nTo: "' + '\\"'.repeat(15000) + '\r\n\r\n',
    'OPTIONS sip:a@b SIP/2.0\r\nX: a\r\n' + ' b\r\n'.repeat(10000) + '\r\n',
    'OPTIONS sip:a@b SIP/2.0\r\n' + 'Via: SIP/2.0/UDP h;branch=z9hG4bKx\r\n'.repeat(2000) + '\r\n',
  ];
  for (const b of blobs) {
    const t0 = performance.now();
    h.one(Buffer.from(b));
    assert.ok(performance.now() - t0 < 500);
  }
});
