/**
 * Builds the web app when its build is missing or stale, so that `npm ci && npm start` (and
 * `npx parley serve`) serve a working app with no separate build step. Stale means the sources that go
 * into the bundle (the web package, the SDK and the protocol package) hash to something else than the
 * hash the last build recorded beside its output; a content hash rather than mtimes, since a checkout
 * or `git stash` changes mtimes without changing a byte, and a copy can keep old mtimes on new bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The web package of this installation. */
export const webPackageDir = fileURLToPath(new URL('../../../web/', import.meta.url));
/** Where Vite writes the build (and where the server serves it from by default). */
export const defaultWebDist = join(webPackageDir, 'dist');
/** Written into the build folder after a build: the source hash it was built from. */
export const BUILD_STAMP = '.source-hash';

const packagesDir = dirname(webPackageDir.replace(/\/$/, ''));
const sourceRoots = [
  join(webPackageDir, 'src'),
  join(webPackageDir, 'index.html'),
  join(webPackageDir, 'vite.config.ts'),
  join(webPackageDir, 'package.json'),
  join(webPackageDir, 'public'),
  join(packagesDir, 'sdk', 'src'),
  join(packagesDir, 'protocol', 'src'),
];

function files(path: string, out: string[]): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const e of readdirSync(path).sort()) files(join(path, e), out);
  } else out.push(path);
}

/** The hash of every file the bundle is made from, names included. */
export function webSourceHash(): string {
  const h = createHash('sha256');
  const all: string[] = [];
  for (const r of sourceRoots) files(r, all);
  for (const f of all) {
    h.update(relative(packagesDir, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** Why the build in `dist` must be made again, or null when it is current. */
export function webBuildStaleness(dist = defaultWebDist): string | null {
  if (!existsSync(join(dist, 'index.html'))) return 'the web app has not been built';
  let stamp = '';
  try {
    stamp = readFileSync(join(dist, BUILD_STAMP), 'utf8').trim();
  } catch {
    return 'the web build records no source hash';
  }
  return stamp === webSourceHash() ? null : 'the web app sources changed since the last build';
}

/** Runs `vite build` for the web package in a child process and stamps the result. */
export async function buildWebApp(log: (line: string) => void = () => {}): Promise<void> {
  const hash = webSourceHash();
  const require = createRequire(join(webPackageDir, 'package.json'));
  const viteBin = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], {
      cwd: webPackageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const take = (b: Buffer) => {
      for (const line of b.toString('utf8').split('\n')) if (line.trim()) output.push(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  for (const line of output) log(line);
  if (code !== 0) throw new Error(`vite build failed (exit ${code}):\n${output.slice(-20).join('\n')}`);
  writeFileSync(join(defaultWebDist, BUILD_STAMP), `${hash}\n`);
}

/** A build older than this holding the lock has died: take the lock over. */
const LOCK_STALE_MS = 5 * 60_000;

/**
 * Builds the app when stale; returns what was done, for the start-up message, or null when the build
 * was current. Two processes starting at once (two servers, parallel tests) build one at a time: the
 * second waits on a lock folder, then finds the build current.
 */
export async function ensureWebBuild(log: (line: string) => void = () => {}): Promise<string | null> {
  if (!webBuildStaleness()) return null;
  const lock = `${defaultWebDist}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS)
          rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile: try again
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    const why = webBuildStaleness();
    if (!why) return null;
    log(`${why}: building it (vite build)...`);
    const started = Date.now();
    await buildWebApp(log);
    return `built the web app in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
