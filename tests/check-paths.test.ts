/**
 * The lint step that keeps the repository self-contained: a clone must run its tests, benchmarks and
 * scripts with nothing beside it (the RFC 4475 corpus once came from a directory next to the clone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPaths, escapesIn } from '../scripts/check-paths.ts';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const script = fileURLToPath(new URL('../scripts/check-paths.ts', import.meta.url));
/** How many escapes the line `text` has in `file` (counted: this file is linted too, so it names no escaping path outside a line of code under test). */
const at = (file: string, text: string) => escapesIn(root, join(root, file), text).length;

test('the repository refers to no path outside itself', () => {
  assert.deepEqual(checkPaths(root), []);
});

test('a relative path is judged from the file that names it', () => {
  const line = "const dir = new URL('../../../../reference/interop/rfc4475/', import.meta.url);";
  assert.equal(at('packages/sip/test/torture.ts', line), 1);
  // Three levels up from packages/sip/test is still the repository root.
  assert.equal(at('packages/sip/test/torture.ts', "new URL('../../../README.md', import.meta.url)"), 0);
  assert.equal(
    at('packages/server/test/x.test.ts', "import { loadTorture } from '../../sip/test/torture.ts';"),
    0,
  );
  assert.equal(at('bench/x.ts', "readFileSync('../../reference/deck.csv')"), 1);
});

test('absolute paths of this machine are refused, system paths are not', () => {
  assert.equal(at('bench/x.ts', "const corpus = '/work/shared/interop/rfc4475';"), 1);
  assert.equal(at('tests/x.test.ts', 'const u = `file:///work/main/${name}`;'), 1);
  assert.equal(at('tests/x.test.ts', "const home = '/home/dev/corpus';"), 1);
  assert.equal(at('tests/x.test.ts', "launch({ executablePath: '/usr/bin/chromium' })"), 0);
  assert.equal(at('tests/x.test.ts', "app.get('/api/billing/wallet', handler)"), 0);
});

test('shell scripts: unquoted paths, resolved from the repository root they cd to', () => {
  assert.equal(at('scripts/x.sh', 'cp -r ../reference/interop fixtures'), 1);
  assert.equal(at('scripts/x.sh', 'node --import tsx bench/rating.ts --data=/work/shared/deck'), 1);
  assert.equal(at('scripts/x.sh', 'cd "$(dirname "$0")/.."'), 0);
  assert.equal(at('.ci/run', 'exec bash ./scripts/test-all.sh'), 0);
  // npm scripts: shell commands inside JSON strings.
  assert.equal(at('packages/sip/package.json', '"bench": "node ../../../reference/bench.mjs"'), 1);
  assert.equal(at('package.json', '"lint": "node --import tsx scripts/check-paths.ts"'), 0);
});

test('the command names each escape with file and line, and fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-paths-'));
  try {
    mkdirSync(join(dir, 'bench'));
    writeFileSync(join(dir, 'bench', 'ok.ts'), "import { x } from './y.ts';\n");
    writeFileSync(
      join(dir, 'bench', 'bad.ts'),
      "// corpus\nconst d = new URL('../../reference/x/', import.meta.url);\n",
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, dir], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /^bench\/bad\.ts:2: '\.\.\/\.\.\/reference\/x\/' resolves to .*outside the repository$/m,
    );
    assert.doesNotMatch(run.stderr, /ok\.ts/);
    rmSync(join(dir, 'bench', 'bad.ts'));
    const clean = spawnSync(process.execPath, ['--import', 'tsx', script, dir], { encoding: 'utf8' });
    assert.equal(clean.status, 0, clean.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
