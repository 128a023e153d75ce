import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  PASSWORD,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

for (const engine of engines) {
  describe(`sign-in, sessions and revocation (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    before(async () => {
      s = await startServer(engine, {
        loginFreeFailures: 3,
        loginDelayBaseMs: 30_000,
        loginMaxPerAddress: 5,
        loginWindow: 60,
      });
      t = await makeTenant(s, 'auth');
    });
    after(() => s.close());

    test('sign in answers tokens and the user; /api/me returns them', async () => {
      const r = await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD });
      assert.equal(r.status, 200);
      const body = r.json as {
        accessToken: string;
        refreshToken: string;
        expiresIn: number;
        user: { address: string; tenantId: string };
      };
      assert.equal(body.user.address, t.user.address);
      assert.equal(body.user.tenantId, t.id);
      assert.ok(body.expiresIn > 0);
      const me = await s.http.get('/api/me', { token: body.accessToken });
      assert.equal(me.status, 200);
      assert.equal((me.json as { address: string }).address, t.user.address);
      assert.equal((me.json as Record<string, unknown>).password_hash, undefined);
    });

    test('the address is case-insensitive; a wrong password is 401 invalid_credentials', async () => {
      const ok = await s.http.post('/api/auth/login', {
        address: t.user.address.toUpperCase(),
        password: PASSWORD,
      });
      assert.equal(ok.status, 200);
      const bad = await s.http.post(
        '/api/auth/login',
        { address: t.user.address, password: 'wrong password' },
        { from: '127.0.0.9' },
      );
      assert.equal(bad.status, 401);
      assert.equal(code(bad), 'invalid_credentials');
      const nobody = await s.http.post(
        '/api/auth/login',
        { address: `nobody@${t.domain}`, password: PASSWORD },
        { from: '127.0.0.9' },
      );
      assert.equal(
        code(nobody),
        'invalid_credentials',
        'an unknown account looks the same as a wrong password',
      );
    });

    test('no token, a forged token and an expired token are refused', async () => {
      assert.equal(code(await s.http.get('/api/me')), 'unauthorized');
      assert.equal(
        code(await s.http.get('/api/me', { token: `${t.user.token.split('.')[0]}.AAAA` })),
        'unauthorized',
      );
      const short = await startServer(engine, { accessTokenTtl: 1 });
      try {
        const tt = await makeTenant(short, 'ttl');
        await new Promise((r) => setTimeout(r, 2100));
        const r = await short.http.get('/api/me', { token: tt.user.token });
        assert.equal(r.status, 401);
        assert.equal(code(r), 'token_expired');
      } finally {
        await short.close();
      }
    });

    test('refresh rotates: new tokens work, the old refresh token is refused', async () => {
      const login = (await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD }))
        .json as { refreshToken: string };
      const r1 = await s.http.post('/api/auth/refresh', { refreshToken: login.refreshToken });
      assert.equal(r1.status, 200);
      const fresh = r1.json as { accessToken: string; refreshToken: string };
      assert.notEqual(fresh.refreshToken, login.refreshToken);
      assert.equal((await s.http.get('/api/me', { token: fresh.accessToken })).status, 200);
      const again = await s.http.post('/api/auth/refresh', { refreshToken: login.refreshToken });
      assert.equal(again.status, 401);
      assert.equal(code(again), 'session_revoked');
    });

    test('sign-out revokes the access token and the refresh token at once', async () => {
      const login = (await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD }))
        .json as { accessToken: string; refreshToken: string };
      const out = await s.http.post('/api/auth/logout', undefined, { token: login.accessToken });
      assert.equal(out.status, 204);
      const me = await s.http.get('/api/me', { token: login.accessToken });
      assert.equal(me.status, 401);
      assert.equal(code(me), 'session_revoked');
      assert.equal(
        (await s.http.post('/api/auth/refresh', { refreshToken: login.refreshToken })).status,
        401,
      );
      // Other sessions of the same user are untouched.
      assert.equal((await s.http.get('/api/me', { token: t.user.token })).status, 200);
    });

    test('disabling a user cuts their open connection, access token and refresh session at once', async () => {
      const victim = await makeUser(s, t.id, `victim@${t.domain}`);
      const login = (await s.http.post('/api/auth/login', { address: victim.address, password: PASSWORD }))
        .json as { refreshToken: string };
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/realtime`, {
        headers: { authorization: `Bearer ${victim.token}` },
      });
      await new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('error', rej);
      });
      const closed = new Promise<number>((res) => ws.once('close', (c) => res(c)));
      const r = await s.http.patch(`/api/users/${victim.id}`, { enabled: false }, { token: t.admin.token });
      assert.equal(r.status, 200);
      assert.equal((r.json as { enabled: boolean }).enabled, false);
      assert.equal(await closed, 4003);
      assert.equal((await s.http.get('/api/me', { token: victim.token })).status, 401);
      assert.equal(
        (await s.http.post('/api/auth/refresh', { refreshToken: login.refreshToken })).status,
        401,
      );
      const relogin = await s.http.post(
        '/api/auth/login',
        { address: victim.address, password: PASSWORD },
        { from: '127.0.0.8' },
      );
      assert.equal(relogin.status, 401);
      // A new connection is refused at the upgrade.
      const ws2 = new WebSocket(`${s.url.replace('http', 'ws')}/api/realtime?access_token=${victim.token}`);
      const status = await new Promise<number>((res) =>
        ws2.once('unexpected-response', (_req, resp) => res(resp.statusCode ?? 0)),
      );
      assert.equal(status, 401);
    });

    test('a guesser cannot lock the real user out: wrong passwords from one address never slow another', async () => {
      const target = await makeUser(s, t.id, `throttled@${t.domain}`);
      for (let i = 0; i < 3; i++) {
        const r = await s.http.post(
          '/api/auth/login',
          { address: target.address, password: 'nope nope' },
          { from: '127.0.1.1' },
        );
        assert.equal(r.status, 401);
      }
      // Past its free failures the guessing pair waits, even with the right password...
      const wrong = await s.http.post(
        '/api/auth/login',
        { address: target.address, password: 'nope nope' },
        { from: '127.0.1.1' },
      );
      assert.equal(wrong.status, 401, 'the fourth failure is still answered, and starts the delay');
      const blocked = await s.http.post(
        '/api/auth/login',
        { address: target.address, password: PASSWORD },
        { from: '127.0.1.1' },
      );
      assert.equal(blocked.status, 429);
      assert.equal(code(blocked), 'rate_limited');
      assert.equal(Number(blocked.headers['retry-after']), 30);
      // ...while the real user, from their own address, signs in at once.
      const real = await s.http.post(
        '/api/auth/login',
        { address: target.address, password: PASSWORD },
        { from: '127.0.1.50' },
      );
      assert.equal(real.status, 200, real.text);
      // Another account from the guessing address is not slowed either.
      assert.equal(
        (
          await s.http.post(
            '/api/auth/login',
            { address: t.user.address, password: PASSWORD },
            { from: '127.0.1.1' },
          )
        ).status,
        200,
      );
    });

    test('one office behind one NAT address: colleagues mistyping do not lock each other out', async () => {
      const a = await makeUser(s, t.id, `nat-a@${t.domain}`);
      const b = await makeUser(s, t.id, `nat-b@${t.domain}`);
      for (let i = 0; i < 4; i++)
        await s.http.post(
          '/api/auth/login',
          { address: a.address, password: 'typo typo' },
          { from: '127.0.2.1' },
        );
      const colleague = await s.http.post(
        '/api/auth/login',
        { address: b.address, password: PASSWORD },
        { from: '127.0.2.1' },
      );
      assert.equal(colleague.status, 200);
    });

    test('throttling per source address: one address guessing many accounts is stopped, others are not', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await s.http.post(
          '/api/auth/login',
          { address: `guess${i}@${t.domain}`, password: 'nope nope' },
          { from: '127.0.0.2' },
        );
        assert.equal(r.status, 401);
      }
      const blocked = await s.http.post(
        '/api/auth/login',
        { address: t.admin.address, password: PASSWORD },
        { from: '127.0.0.2' },
      );
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers['retry-after']) >= 1);
      const other = await s.http.post(
        '/api/auth/login',
        { address: t.admin.address, password: PASSWORD },
        { from: '127.0.0.3' },
      );
      assert.equal(other.status, 200);
    });

    test('API keys: an admin creates one, it acts within the tenant with its role, revoking stops it', async () => {
      const created = await s.http.post(
        '/api/api-keys',
        { name: 'crm sync', role: 'user' },
        { token: t.admin.token },
      );
      assert.equal(created.status, 201);
      const key = created.json as { id: string; secret: string };
      const list = await s.http.get('/api/users', { token: key.secret });
      assert.equal(list.status, 200);
      const addresses = (list.json as { items: Array<{ address: string }> }).items.map((u) => u.address);
      assert.ok(addresses.includes(t.user.address));
      assert.equal(
        (
          await s.http.post(
            '/api/users',
            { address: `x@${t.domain}`, displayName: 'X', password: PASSWORD },
            { token: key.secret },
          )
        ).status,
        403,
      );
      assert.equal((await s.http.get('/api/api-keys', { token: t.user.token })).status, 403);
      const listed = (await s.http.get('/api/api-keys', { token: t.admin.token })).json as {
        items: Array<{ id: string; secret?: string }>;
      };
      assert.ok(
        listed.items.some((k) => k.id === key.id && k.secret === undefined),
        'the secret is shown only once',
      );
      assert.equal((await s.http.delete(`/api/api-keys/${key.id}`, { token: t.admin.token })).status, 204);
      assert.equal((await s.http.get('/api/users', { token: key.secret })).status, 401);
    });

    test('roles: a user cannot administer; an admin cannot reach operator routes', async () => {
      assert.equal(
        (
          await s.http.post(
            '/api/users',
            { address: `y@${t.domain}`, displayName: 'Y', password: PASSWORD },
            { token: t.user.token },
          )
        ).status,
        403,
      );
      assert.equal((await s.http.get('/api/operator/tenants', { token: t.admin.token })).status, 403);
      assert.equal((await s.http.get('/api/audit', { token: t.user.token })).status, 403);
    });
  });
}
