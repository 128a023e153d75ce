/**
 * `parley number import FILE.csv` and `parley carrier status` on a data folder: a file with a bad row
 * exits 1, imports nothing and lists the row by number (text and --json); the fixed file imports every
 * row; `carrier status` prints each trunk's stored registration and health-check settings and says
 * that the live state is the running server's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
const DOMAIN = 'contoso-import.example';

describe('parley number import and carrier status', () => {
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
      json: () => JSON.parse(r.stdout) as unknown,
    };
  };

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-number-import-'));
    assert.equal(parley('tenant', 'create', '--name', 'Contoso', '--domain', DOMAIN).status, 0);
    const c = parley('carrier', 'add', '--name', 'Csv Carrier', '--address', '127.0.0.2:5070');
    assert.equal(c.status, 0, c.stderr);
    const reg = parley(
      'carrier',
      'add',
      '--name',
      'Reg Carrier',
      '--address',
      '127.0.0.3:5080',
      '--auth',
      'register',
      '--username',
      'acct42',
      '--password',
      'secret-word-here',
    );
    assert.equal(reg.status, 0, reg.stderr);
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a bad row: exit 1, nothing imported, the row listed; the fixed file imports', () => {
    const file = join(dataDir, 'numbers.csv');
    writeFileSync(
      file,
      `number,carrier,tenant\n+44 20 7946 0301,Csv Carrier,${DOMAIN}\n+44 20 7946,Csv Carrier,\n+442079460303,Csv Carrier,\n`,
    );
    const bad = parley('number', 'import', file);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /numbers_invalid/);
    assert.match(bad.stderr, /row 3 \(number\)/);
    const badJson = parley('number', 'import', file, '--json');
    assert.equal(badJson.status, 1);
    const body = badJson.json() as { error: { code: string; rows: Array<{ row: number }> } };
    assert.equal(body.error.code, 'numbers_invalid');
    assert.deepEqual(
      body.error.rows.map((r) => r.row),
      [3],
    );
    assert.deepEqual((parley('number', 'list', '--json').json() as { items: unknown[] }).items, []);

    writeFileSync(
      file,
      `number,carrier,tenant\n+44 20 7946 0301,Csv Carrier,${DOMAIN}\n+44 20 7946 0302,Csv Carrier,\n+442079460303,Csv Carrier,\n`,
    );
    const ok = parley('number', 'import', file);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^3 numbers imported/);
    assert.match(ok.stdout, new RegExp(`\\+442079460301 {2}carrier Csv Carrier {2}tenant ${DOMAIN}`));
    const list = parley('number', 'list', '--tenant', DOMAIN, '--json').json() as {
      items: Array<{ number: string }>;
    };
    assert.deepEqual(
      list.items.map((n) => n.number),
      ['+442079460301'],
    );
    // The same file again: every row is now a duplicate.
    const again = parley('number', 'import', file);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /row 2 \(number\): \+442079460301 is already in the inventory/);

    assert.equal(parley('number', 'import').status, 2);
    assert.equal(parley('number', 'import', join(dataDir, 'missing.csv')).status, 1);
  });

  test('carrier status: stored settings, and where the live state is', () => {
    const r = parley('carrier', 'status');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Csv Carrier {2}127\.0\.0\.2:5070 {2}known by source address.*health check on/);
    assert.match(r.stdout, /Reg Carrier {2}127\.0\.0\.3:5080 {2}registers as acct42 to 127\.0\.0\.3:5080/);
    assert.match(r.stdout, /GET \/api\/operator\/telephony\/carriers\/status/);
    assert.doesNotMatch(r.stdout, /secret-word-here/);
    const js = parley('carrier', 'status', '--json');
    assert.doesNotMatch(js.stdout, /secret-word-here/);
    const j = js.json() as { items: unknown[]; status: null };
    assert.equal(j.items.length, 2);
    assert.equal(j.status, null);
  });
});
