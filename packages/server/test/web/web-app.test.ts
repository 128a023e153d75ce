/**
 * The server serves the built web app: hashed assets cached as immutable, index.html revalidated, app
 * routes falling back to index.html but never the API or a missing file, a strict CSP on the page;
 * and `parley serve` knows when the build is missing or stale.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startServer, type TestServer } from '../helpers/server.ts';
import { Http } from '../helpers/http.ts';
import { BUILD_STAMP, webBuildStaleness, webSourceHash } from '../../src/web/web-build.ts';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-Abc123.js"></script></head></html>';

describe('serving the built app', () => {
  let s: TestServer;
  let dist: string;
  before(async () => {
    dist = mkdtempSync(join(tmpdir(), 'parley-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), INDEX);
    writeFileSync(join(dist, 'assets', 'app-Abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    s = await startServer('sqlite', { webDir: dist });
  });
  after(async () => {
    await s.close();
    rmSync(dist, { recursive: true, force: true });
  });

  test('index.html at / is revalidated every load and carries a strict CSP', async () => {
    const r = await s.http.get('/');
    assert.equal(r.status, 200);
    assert.equal(r.text, INDEX);
    assert.equal(r.headers['cache-control'], 'no-cache');
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  test('app routes get index.html; the API and missing files do not', async () => {
    for (const path of ['/people/u_1', '/chat', '/admin/users?x=1', '/index.html']) {
      const r = await s.http.get(path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, INDEX, path);
      assert.equal(r.headers['cache-control'], 'no-cache', path);
    }
    for (const path of [
      '/api/nothing-here',
      '/api',
      '/assets/app-Old999.js',
      '/robots.txt',
      '/..%2f..%2fetc%2fpasswd',
    ]) {
      const r = await s.http.get(path);
      assert.equal(r.status, 404, path);
      assert.equal((r.json as { error: { code: string } }).error.code, 'not_found', path);
    }
  });

  test('hashed assets are immutable for a year; other files revalidate', async () => {
    const js = await s.http.get('/assets/app-Abc123.js');
    assert.equal(js.status, 200);
    assert.equal(js.text, 'console.log(1)');
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    const icon = await s.http.get('/favicon.svg');
    assert.equal(icon.status, 200);
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
  });

  test('a new build is served without a restart', async () => {
    const next = INDEX.replace('Abc123', 'Def456');
    writeFileSync(join(dist, 'index.html'), next);
    assert.equal((await s.http.get('/people')).text, next);
    writeFileSync(join(dist, 'index.html'), INDEX);
  });
});

describe('no build', () => {
  let s: TestServer;
  let empty: string;
  before(async () => {
    empty = mkdtempSync(join(tmpdir(), 'parley-nodist-'));
    s = await startServer('sqlite', { webDir: empty });
  });
  after(async () => {
    await s.close();
    rmSync(empty, { recursive: true, force: true });
  });

  test('/ says how to build the app and points at the API; app routes are 404', async () => {
    const r = await s.http.get('/');
    assert.equal(r.status, 200);
    assert.match(r.text, /npm run build -w packages\/web/);
    assert.match(r.text, /\/api\/openapi\.json/);
    assert.equal((await s.http.get('/people')).status, 404);
  });
});

test('the build is stale when missing, unstamped, or stamped from other sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-stamp-'));
  try {
    assert.match(String(webBuildStaleness(dir)), /not been built/);
    writeFileSync(join(dir, 'index.html'), INDEX);
    assert.match(String(webBuildStaleness(dir)), /no source hash/);
    writeFileSync(join(dir, BUILD_STAMP), 'f'.repeat(64));
    assert.match(String(webBuildStaleness(dir)), /sources changed/);
    writeFileSync(join(dir, BUILD_STAMP), `${webSourceHash()}\n`);
    assert.equal(webBuildStaleness(dir), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parley serve serves the built app at / (building it first when missing or stale)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-serve-web-'));
  const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: {
      ...process.env,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_PORT: '0',
      PARLEY_SIP_PORT: '0',
      PARLEY_SIP_TLS_PORT: '-1',
      PARLEY_LOG_LEVEL: 'silent',
      PARLEY_WEB_BUILD: 'auto',
    },
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /Open (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    assert.equal(webBuildStaleness(), null, 'the build is current once serve listens');
    const page = await new Http(url).get('/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<div id="root">/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.text);
    assert.ok(script, page.text);
    const js = await new Http(url).get(script[1]!);
    assert.equal(js.status, 200);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
