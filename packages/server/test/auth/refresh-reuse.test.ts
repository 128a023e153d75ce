/**
 * Refresh-token reuse after rotation ends the whole session (OAuth 2.0 Security BCP, RFC 9700 4.14.2):
 * whoever rotated last, thief or owner, loses the session as soon as the other presents the old token.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  engines,
  makeTenant,
  startServer,
  PASSWORD,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

for (const engine of engines) {
  describe(`refresh-token reuse revokes the session family (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    before(async () => {
      s = await startServer(engine);
      t = await makeTenant(s, 'reuse');
    });
    after(() => s.close());

    const signIn = async () =>
      (await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD })).json as Tokens;
    const refresh = (refreshToken: string) => s.http.post('/api/auth/refresh', { refreshToken });

    test("the owner rotates, the thief replays the stolen token: the thief is refused and the owner's newest tokens die too", async () => {
      const stolen = await signIn();
      const owner = (await refresh(stolen.refreshToken)).json as Tokens;
      assert.equal((await s.http.get('/api/me', { token: owner.accessToken })).status, 200);
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/realtime`, {
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      await new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('error', rej);
      });
      const closed = new Promise<number>((res) => ws.once('close', (c) => res(c)));

      const replay = await refresh(stolen.refreshToken);
      assert.equal(replay.status, 401);
      assert.equal(code(replay), 'session_revoked');

      const newest = await refresh(owner.refreshToken);
      assert.equal(newest.status, 401, 'the newest refresh token of the session is revoked');
      assert.equal(code(newest), 'session_revoked');
      const me = await s.http.get('/api/me', { token: owner.accessToken });
      assert.equal(code(me), 'session_revoked');
      assert.ok((await closed) >= 4000, 'the session’s open connection is closed');
      // The user's other sessions are untouched.
      assert.equal((await s.http.get('/api/me', { token: t.user.token })).status, 200);
    });

    test("the thief rotates first: the owner's replay ends the thief's session", async () => {
      const stolen = await signIn();
      const thief = (await refresh(stolen.refreshToken)).json as Tokens;
      assert.equal((await s.http.get('/api/me', { token: thief.accessToken })).status, 200);
      assert.equal((await refresh(stolen.refreshToken)).status, 401);
      assert.equal(code(await s.http.get('/api/me', { token: thief.accessToken })), 'session_revoked');
      assert.equal(code(await refresh(thief.refreshToken)), 'session_revoked');
    });

    test('a token several rotations old is still recognised', async () => {
      const first = await signIn();
      let current = first;
      for (let i = 0; i < 3; i++) current = (await refresh(current.refreshToken)).json as Tokens;
      assert.equal((await refresh(first.refreshToken)).status, 401);
      assert.equal(code(await refresh(current.refreshToken)), 'session_revoked');
    });

    test('an unknown refresh token is refused and harms no session', async () => {
      const live = await signIn();
      assert.equal(code(await refresh('not-a-token-this-server-issued')), 'session_revoked');
      assert.equal((await refresh(live.refreshToken)).status, 200);
    });
  });
}
