/** Secrets never reach the logs, even at trace level: passwords, tokens, API keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { hashPassword } from '../../src/credentials/passwords.ts';
import { Http } from '../helpers/http.ts';

test('a full sign-in, refresh, API-key and failed-request cycle logs no secret', async () => {
  let logged = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logged += chunk.toString();
      cb();
    },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-logs-'));
  const app = await createApp(
    loadConfig({}, { port: 0, sipPort: 0, sipTlsPort: 0, dataDir, logLevel: 'trace' }),
    {
      logger: createLogger('trace', sink),
    },
  );
  try {
    await app.listen();
    const http = new Http(`http://127.0.0.1:${app.config.port}`);
    const t = await app.directory.createTenant({
      name: 'Logs',
      domains: ['logs.example'],
      country: 'GB',
      timeZone: 'UTC',
    });
    const password = 'SuperSecretPassword-12345';
    await app.directory.createUser(trustedScope(t.id), {
      address: 'a@logs.example',
      displayName: 'A',
      passwordHash: await hashPassword(password),
      role: 'admin',
    });
    const login = (await http.post('/api/auth/login', { address: 'a@logs.example', password })).json as {
      accessToken: string;
      refreshToken: string;
    };
    const refreshed = (await http.post('/api/auth/refresh', { refreshToken: login.refreshToken })).json as {
      accessToken: string;
      refreshToken: string;
    };
    const key = (await http.post('/api/api-keys', { name: 'k' }, { token: refreshed.accessToken })).json as {
      secret: string;
    };
    await http.get('/api/users', { token: key.secret });
    await http.get(`/api/me?access_token=${refreshed.accessToken}`, { token: 'garbage-token' });
    await http.post('/api/auth/login', { address: 'a@logs.example', password: `${password}-wrong` });
    assert.ok(logged.length > 500, 'the server did log the requests');
    for (const secret of [
      password,
      login.accessToken,
      login.refreshToken,
      refreshed.accessToken,
      refreshed.refreshToken,
      key.secret,
    ]) {
      assert.ok(!logged.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 12)}…`);
    }
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
