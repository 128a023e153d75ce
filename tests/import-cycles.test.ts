/**
 * Dependencies point one way (README, architecture): no domain of a package (a folder under its src,
 * such as server's presence, realtime, bus, auth, directory) may reach itself through other domains'
 * imports, type-only imports included (a type cycle still ties two domains' designs together); and
 * the packages keep their direction (sdk -> protocol; media -> sip; server -> protocol, sip, media).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts') || e.endsWith('.tsx')) out.push(p);
  }
  return out;
}

/** Every module specifier a file names: import and export ... from, side-effect and dynamic imports. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2])!);
  return out;
}

/**
 * The domain graph of the packages' sources: `packages/server/src/presence/x.ts` is the domain
 * `server/presence`, a file directly under src (app.ts, config.ts) its own domain. Relative imports
 * only (packages are checked apart, below).
 */
function graph(): Map<string, string[]> {
  const g = new Map<string, Set<string>>();
  const domainOf = (file: string) => {
    const [pkg, , first, ...rest] = relative(join(root, 'packages'), file).split('/');
    return rest.length ? `${pkg}/${first}` : `${pkg}/${first!.replace(/\.tsx?$/, '')}`;
  };
  for (const pkg of readdirSync(join(root, 'packages'))) {
    for (const file of sources(join(root, 'packages', pkg, 'src'))) {
      const from = domainOf(file);
      const deps = g.get(from) ?? new Set<string>();
      g.set(from, deps);
      for (const s of specifiers(readFileSync(file, 'utf8'))) {
        if (!s.startsWith('.')) continue;
        const to = domainOf(resolve(dirname(file), s));
        if (to !== from) deps.add(to);
      }
    }
  }
  return new Map([...g].map(([k, v]) => [k, [...v]]));
}

/**
 * Domains that must not import each other, each pair one way only: the cycles issue 9 named. (Others
 * remain: storage/schema.ts gathers every domain's table types while the domains import storage; http
 * and auth, audit and directory import each other.)
 */
const oneWay: Array<[from: string, mustNotImport: string, why: string]> = [
  ['server/presence', 'server/realtime', 'realtime delivers presence; presence knows no connections'],
  ['server/directory', 'server/auth', 'auth uses the directory'],
];
/** Domains that import no other domain of their package. */
const leaves = ['server/bus'];

test('presence does not import realtime, directory does not import auth, the bus imports no domain', () => {
  const g = graph();
  assert.ok(g.has('server/presence') && g.has('server/realtime') && g.size > 15, `read ${[...g.keys()]}`);
  const wrong: string[] = [];
  for (const [from, to, why] of oneWay)
    if (g.get(from)?.includes(to)) wrong.push(`${from} imports ${to} (${why})`);
  for (const leaf of leaves)
    for (const to of g.get(leaf) ?? [])
      wrong.push(`${leaf} imports ${to} (its events are declared by their domains)`);
  assert.deepEqual(wrong, []);
});

test('the checker reads type-only imports and re-exports', () => {
  assert.deepEqual(specifiers('import type { X } from \'./x.ts\';\nexport { y } from "../y.ts";'), [
    './x.ts',
    '../y.ts',
  ]);
});

test('packages depend one way: protocol and sip on no other package, media only on sip, sdk only on protocol, web on sdk and protocol', () => {
  const allowed: Record<string, string[]> = {
    protocol: [],
    sip: [],
    media: ['sip'], // its clock and typed emitter; never the server
    sdk: ['protocol'],
    server: ['protocol', 'sip', 'media'],
    web: ['sdk', 'protocol'],
  };
  const wrong: string[] = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    for (const file of sources(join(root, 'packages', pkg, 'src'))) {
      for (const s of specifiers(readFileSync(file, 'utf8'))) {
        const m = /^@parley\/([^/]+)/.exec(s);
        if (m && !(allowed[pkg] ?? []).includes(m[1]!)) wrong.push(`${relative(root, file)} -> ${s}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('the browser packages (web, sdk, protocol) import no Node built-in module', () => {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const wrong: string[] = [];
  for (const pkg of ['web', 'sdk', 'protocol'])
    for (const file of sources(join(root, 'packages', pkg, 'src')))
      for (const s of specifiers(readFileSync(file, 'utf8')))
        if (builtins.has(s) || builtins.has(s.split('/')[0]!) || s === 'ws')
          wrong.push(`${relative(root, file)} -> ${s}`);
  assert.deepEqual(wrong, []);
});
