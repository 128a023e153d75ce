/** Shutdown finishes in-flight requests, refuses new connections, closes realtime sockets and the database. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { makeTenant, startServer, PASSWORD } from '../helpers/server.ts';

test('close(): in-flight sign-ins complete, open sockets get 1001, then nothing is served', async () => {
  const s = await startServer('sqlite');
  const t = await makeTenant(s, 'shut');
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/realtime`, {
    headers: { authorization: `Bearer ${t.user.token}` },
  });
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  const wsClosed = new Promise<number>((res) => ws.once('close', (c) => res(c)));
  // argon2 makes each sign-in take tens of milliseconds: close() starts once all four are being handled.
  let started = 0;
  let allStarted!: () => void;
  const handling = new Promise<void>((r) => (allStarted = r));
  const login = s.app.auth.login.bind(s.app.auth);
  s.app.auth.login = (...args) => {
    if (++started === 4) allStarted();
    return login(...args);
  };
  const inFlight = Array.from({ length: 4 }, () =>
    s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD }),
  );
  await handling;
  const closing = s.close();
  const results = await Promise.all(inFlight);
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200, 200],
  );
  assert.equal(await wsClosed, 1001);
  await closing;
  await assert.rejects(s.http.get('/api/health'), /ECONNREFUSED/);
  assert.equal(await s.app.storage.ping(), false, 'the database is closed');
});
