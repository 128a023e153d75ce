import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';

test('defaults: port 8080, SQLite in ./data, public URL from host and port', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.databaseUrl, undefined);
  assert.match(c.dataDir, /\/data$/);
  assert.equal(c.publicUrl, 'http://127.0.0.1:8080');
});

test('bad values stop the start with a message naming each variable', () => {
  assert.throws(
    () => loadConfig({ PARLEY_PORT: '70000', PARLEY_DATABASE_URL: 'mysql://x', PARLEY_LOG_LEVEL: 'loud' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.length === 3 &&
      /PARLEY_PORT/.test(e.message) &&
      /PARLEY_DATABASE_URL/.test(e.message) &&
      /PARLEY_LOG_LEVEL/.test(e.message),
  );
});

test('a config file is read, and the environment wins over it', () => {
  const f = join(mkdtempSync(join(tmpdir(), 'parley-cfg-')), 'parley.json');
  writeFileSync(f, JSON.stringify({ PARLEY_PORT: 9000, PARLEY_LOGIN_WINDOW: 7 }));
  const c = loadConfig({ PARLEY_CONFIG_FILE: f, PARLEY_PORT: '9100' });
  assert.equal(c.port, 9100);
  assert.equal(c.loginWindow, 7);
  assert.throws(() => loadConfig({ PARLEY_CONFIG_FILE: '/nonexistent.json' }), ConfigError);
});
