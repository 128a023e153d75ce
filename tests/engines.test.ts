/**
 * `npm ci` on the Node line the project supports prints no EBADENGINE warning: every locked package
 * accepts that line (light-my-request's cookie@2 asks for Node 22, so the root package.json overrides it
 * with cookie 1.1.1, which has the one function light-my-request calls). A package that cannot be
 * overridden cleanly goes in ACCEPTED with its reason, and the README's install section says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../${name}`, import.meta.url), 'utf8'));
const root = read('package.json') as { engines: { node: string } };
const lock = read('package-lock.json') as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

/**
 * Locked packages allowed to warn, each explained in the README: werift (WebRTC in Node) declares
 * Node >= 22 but runs on Node 20, which the calls and media tests prove on every run.
 */
const ACCEPTED = new Set<string>(['werift']);

test('every locked package accepts the Node line of the root engines field', () => {
  const line = `^${semver.minVersion(root.engines.node)!.major}`;
  const refusing = Object.entries(lock.packages)
    .filter(([path]) => path !== '')
    .flatMap(([path, p]) => {
      const range = !p.engines || Array.isArray(p.engines) ? undefined : p.engines.node;
      if (!range || semver.intersects(range, line)) return [];
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      return ACCEPTED.has(name) ? [] : [`${name}@${p.version} wants node ${range}`];
    });
  assert.deepEqual(refusing, []);
});
