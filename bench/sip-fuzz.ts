/**
 * bench/sip-fuzz: the long mutation-fuzzing run (the bounded one is part of npm test).
 * Run: node --expose-gc --import tsx bench/sip-fuzz.ts [mutants=1000000] [seed]
 */
import { createFuzzHarness } from '../packages/sip/test/fuzz.ts';
import { loadTorture } from '../packages/sip/test/torture.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const cases = loadTorture();
const h = createFuzzHarness(seed);
const gc = (globalThis as { gc?: () => void }).gc;
const t0 = performance.now();
let baseline = 0;
for (let i = 1; i <= total; i++) {
  h.one(cases[i % cases.length]!.bytes);
  if (i % 100_000 === 0 || i === total) {
    h.drain();
    gc?.();
    const heap = process.memoryUsage().heapUsed / 1048576;
    if (baseline === 0) baseline = heap;
    console.log(
      `${i} mutants, ${((performance.now() - t0) / 1000).toFixed(1)} s, heap ${heap.toFixed(1)} MiB (first ${baseline.toFixed(1)}), ` +
        `slowest ${h.worstMs.toFixed(1)} ms, live transactions ${h.transactions}`,
    );
  }
}
console.log(`seed ${seed}: no crash`);
