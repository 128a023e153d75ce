/** The `parley` command: each command, --json, bad arguments, and a change made while the server runs. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http, code } from '../helpers/http.ts';

const bin = new URL('../../bin/parley.js', import.meta.url).pathname;

function parley(dataDir: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: {
      ...process.env,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_LOG_LEVEL: 'silent',
      PARLEY_WEB_BUILD: 'never',
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () => JSON.parse(r.stdout) as Record<string, unknown>,
  };
}

describe('parley CLI', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('migrate applies once, then reports up to date', () => {
    const first = parley(dataDir, ['migrate', '--json']);
    assert.equal(first.status, 0, first.stderr);
    assert.ok((first.json().applied as string[]).includes('001_core'));
    const second = parley(dataDir, ['migrate', '--json']);
    assert.deepEqual(second.json().applied, []);
    assert.match(parley(dataDir, ['migrate']).stdout, /up to date/);
  });

  test('tenant create, user add, operator add: text and --json', () => {
    const t = parley(dataDir, [
      'tenant',
      'create',
      '--name',
      'Northwind',
      '--domain',
      'northwind.example',
      '--country',
      'FR',
      '--json',
    ]);
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(t.json().domains, ['northwind.example']);
    assert.equal(t.json().country, 'FR');
    const u = parley(dataDir, [
      'user',
      'add',
      '--tenant',
      'northwind.example',
      '--address',
      'nina@northwind.example',
      '--name',
      'Nina North',
      '--password',
      'pass-word-1',
      '--role',
      'admin',
      '--json',
    ]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(u.json().role, 'admin');
    assert.equal(u.json().tenantId, t.json().id);
    const text = parley(dataDir, [
      'user',
      'add',
      '--tenant',
      'northwind.example',
      '--address',
      'ned@northwind.example',
      '--name',
      'Ned',
      '--password',
      'pass-word-2',
    ]);
    assert.match(text.stdout, /user ned@northwind\.example \(user\) created/);
    const op = parley(dataDir, [
      'operator',
      'add',
      '--address',
      'root@provider.example',
      '--password',
      'pass-word-3',
      '--json',
    ]);
    assert.equal(op.status, 0, op.stderr);
    assert.equal(op.json().role, 'operator');
  });

  test('refusals: duplicate and invalid values exit 1 with a code', () => {
    const dup = parley(dataDir, [
      'tenant',
      'create',
      '--name',
      'Again',
      '--domain',
      'northwind.example',
      '--json',
    ]);
    assert.equal(dup.status, 1);
    assert.equal((dup.json().error as { code: string }).code, 'duplicate_domain');
    const bad = parley(dataDir, [
      'user',
      'add',
      '--tenant',
      'northwind.example',
      '--address',
      'not-an-address',
      '--name',
      'N',
      '--password',
      'pass-word-1',
    ]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /validation_failed: --address/);
    const country = parley(dataDir, [
      'tenant',
      'create',
      '--name',
      'X',
      '--domain',
      'x.example',
      '--country',
      'france',
    ]);
    assert.equal(country.status, 1);
    assert.match(country.stderr, /--country/);
  });

  test('bad arguments print the usage and exit 2', () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['tenant', 'create', '--name', 'N'],
      ['user', 'add', '--bogus', 'x'],
      ['tenant', 'create', '--name', 'N', '--domain', 'd.example', 'extra'],
    ]) {
      const r = parley(dataDir, args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: parley/);
    }
    const cfg = parley(dataDir, ['migrate'], { PARLEY_PORT: 'eighty' });
    assert.equal(cfg.status, 2);
    assert.match(cfg.stderr, /PARLEY_PORT/);
  });

  test('demo is idempotent and prints its sign-ins', () => {
    const a = parley(dataDir, ['demo', '--json']);
    assert.equal(a.status, 0, a.stderr);
    const b = parley(dataDir, ['demo', '--json']);
    assert.deepEqual(b.json(), a.json());
    const users = a.json().users as Array<{ address: string; password: string }>;
    assert.ok(users.length >= 4);
    assert.match(parley(dataDir, ['demo']).stdout, /sign in as alice@contoso\.example/);
  });

  test('a change made by the CLI while the server runs is seen at once; SIGTERM stops it cleanly', async () => {
    const server = spawn(process.execPath, [bin, 'serve'], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: dataDir,
        PARLEY_PORT: '0',
        PARLEY_SIP_PORT: '0',
        PARLEY_SIP_TLS_PORT: '0',
        PARLEY_LOG_LEVEL: 'silent',
        PARLEY_WEB_BUILD: 'never', // these tests are not about the web app: no build
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /Open (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
      });
      const http = new Http(url);
      assert.equal((await http.get('/api/health')).status, 200);
      const before = await http.post('/api/auth/login', {
        address: 'late@northwind.example',
        password: 'pass-word-9',
      });
      assert.equal(code(before), 'invalid_credentials');
      const add = parley(dataDir, [
        'user',
        'add',
        '--tenant',
        'northwind.example',
        '--address',
        'late@northwind.example',
        '--name',
        'Late Comer',
        '--password',
        'pass-word-9',
      ]);
      assert.equal(add.status, 0, add.stderr);
      const after = await http.post('/api/auth/login', {
        address: 'late@northwind.example',
        password: 'pass-word-9',
      });
      assert.equal(after.status, 200, after.text);
      const exited = new Promise<number | null>((r) => server.once('exit', (c) => r(c)));
      server.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('serve with its SIP port taken exits 1 with a clear message instead of half-starting', async () => {
    const dgram = await import('node:dgram');
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(0, '127.0.0.1', () => r()));
    try {
      const r = parley(dataDir, ['serve'], {
        PARLEY_PORT: '0',
        PARLEY_SIP_PORT: String(squatter.address().port),
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /cannot listen: .*EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });
});
