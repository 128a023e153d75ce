#!/usr/bin/env node
// `npm test`: every package's tests and the end-to-end/interop tests, never the benchmarks.
// Starts the real servers the tests need unless their URLs are given (PARLEY_TEST_PG_URL).
// Usage: npm test [-- path-filter ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startPostgres } from './services.mjs';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function collect(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = [
  ...readdirSync(join(root, 'packages')).flatMap((p) => collect(join(root, 'packages', p, 'test'))),
  ...collect(join(root, 'tests')),
]
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const services = [];
const env = { ...process.env };
if (!env.PARLEY_TEST_PG_URL) {
  const pg = await startPostgres();
  services.push(pg);
  env.PARLEY_TEST_PG_URL = pg.url;
}
const stopAll = () => services.forEach((s) => s.stop());
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

const started = Date.now();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, env, stdio: 'inherit' },
);
// A file that hangs (a handle left open after a failed start) must fail the run, not eat CI's time limit.
const limitMin = Number(process.env.PARLEY_TEST_MAX_MINUTES ?? 45);
const watchdog = setTimeout(() => {
  console.error(`\nthe test run passed ${limitMin} minutes (PARLEY_TEST_MAX_MINUTES): stopping it as failed`);
  child.kill('SIGKILL');
}, limitMin * 60_000);
watchdog.unref();
child.on('exit', (code, signal) => {
  clearTimeout(watchdog);
  stopAll();
  console.log(`\n${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(code ?? (signal ? 1 : 0));
});
