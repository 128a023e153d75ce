/**
 * `parley emergency ...` run as the binary: a site added (text and --json), a bad country refused naming
 * its flag, a user put at the site (and a user of another tenant cannot be put at it), the callback
 * number set (a national number refused), and `carrier update --emergency yes` shown by `carrier list`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
let dataDir: string;
const parley = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout) as Record<string, unknown>,
  };
};

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-emergency-cli-'));
  for (const domain of ['fabrikam.example', 'tailspin.example']) {
    assert.equal(parley('tenant', 'create', '--name', domain, '--domain', domain).status, 0);
    const u = parley(
      'user',
      'add',
      '--tenant',
      domain,
      '--address',
      `bob@${domain}`,
      '--name',
      'Bob',
      '--password',
      'copper-kettle-morning',
    );
    assert.equal(u.status, 0, u.stderr);
  }
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('emergency site, location and callback commands; carrier update --emergency', () => {
  const bad = parley(
    'emergency',
    'site',
    'add',
    '--tenant',
    'fabrikam.example',
    '--name',
    'HQ',
    '--city',
    'London',
    '--country',
    'Britain',
    '--json',
  );
  assert.equal(bad.status, 1);
  assert.deepEqual(
    [(bad.json().error as { code: string }).code, (bad.json().error as { field: string }).field],
    ['validation_failed', '--country'],
  );
  const add = parley(
    'emergency',
    'site',
    'add',
    '--tenant',
    'fabrikam.example',
    '--name',
    'Head office',
    '--city',
    'London',
    '--country',
    'gb',
    '--street',
    'Example Street',
    '--number',
    '1',
    '--floor',
    '3',
  );
  assert.equal(add.status, 0, add.stderr);
  assert.match(add.stdout, /^site Head office added: site_\S+\nFloor 3, 1 Example Street, London, GB\n$/);
  const at = parley(
    'emergency',
    'location',
    'set',
    '--user',
    'bob@fabrikam.example',
    '--site',
    'head office',
  );
  assert.equal(at.status, 0, at.stderr);
  assert.equal(at.stdout, 'bob@fabrikam.example is at Head office\n');
  const wall = parley(
    'emergency',
    'location',
    'set',
    '--user',
    'bob@tailspin.example',
    '--site',
    'Head office',
    '--json',
  );
  assert.equal(wall.status, 1);
  assert.equal((wall.json().error as { code: string }).code, 'not_found', "another tenant's site is unknown");
  const list = parley('emergency', 'site', 'list', '--tenant', 'fabrikam.example', '--json');
  assert.equal((list.json().items as Array<{ users: number }>)[0]!.users, 1);
  const national = parley(
    'emergency',
    'callback',
    'set',
    '--tenant',
    'fabrikam.example',
    '--number',
    '020 7946 0000',
  );
  assert.equal(national.status, 1);
  assert.match(national.stderr, /validation_failed: --number/);
  const cb = parley(
    'emergency',
    'callback',
    'set',
    '--tenant',
    'fabrikam.example',
    '--number',
    '+44 20 7946 0000',
  );
  assert.equal(cb.stdout, 'emergency callback number +442079460000\n');

  assert.equal(parley('carrier', 'add', '--name', 'SOS Telecom', '--address', '127.0.0.2:5060').status, 0);
  const upd = parley('carrier', 'update', '--name', 'SOS Telecom', '--emergency', 'yes', '--pidf-lo', 'yes');
  assert.equal(upd.status, 0, upd.stderr);
  assert.match(parley('carrier', 'list').stdout, /emergency calls with PIDF-LO/);
});
