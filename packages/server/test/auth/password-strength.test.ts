/** Every path that sets a password refuses a guessable one with `weak_password`, and changes nothing. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  engines,
  makeOperator,
  makeTenant,
  startServer,
  PASSWORD,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { code, type HttpResult } from '../helpers/http.ts';
import { assertStrongPassword, passwordContext } from '../../src/credentials/password-strength.ts';

const field = (r: HttpResult) => (r.json as { error?: { field?: string } }).error?.field;

function assertWeak(r: HttpResult) {
  assert.equal(r.status, 400, r.text);
  assert.equal(code(r), 'weak_password');
  assert.equal(field(r), 'password');
}

for (const engine of engines) {
  describe(`password strength on every path that sets one (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let operator: string;
    before(async () => {
      s = await startServer(engine);
      t = await makeTenant(s, 'pw');
      operator = await makeOperator(s);
    });
    after(() => s.close());

    test('a tenant admin adding a user with "aaaaaaaa" is refused and no user is made', async () => {
      const r = await s.http.post(
        '/api/users',
        { address: `weak@${t.domain}`, displayName: 'Weak', password: 'aaaaaaaa' },
        { token: t.admin.token },
      );
      assertWeak(r);
      assert.match((r.json as { error: { message: string } }).error.message, /repeated/i);
      const found = await s.http.get(`/api/users?query=weak`, { token: t.admin.token });
      assert.deepEqual((found.json as { items: unknown[] }).items, []);
    });

    test("a password built on the product's or the user's own name is refused", async () => {
      for (const password of ['parley-demo', 'DorothyGale1', 'dorothy2026']) {
        const r = await s.http.post(
          '/api/users',
          { address: `dorothy@${t.domain}`, displayName: 'Dorothy Gale', password },
          { token: t.admin.token },
        );
        assertWeak(r);
      }
    });

    test('an admin reset to a weak password is refused; the old password still works', async () => {
      const r = await s.http.patch(
        `/api/users/${t.user.id}`,
        { password: 'password123' },
        { token: t.admin.token },
      );
      assertWeak(r);
      const login = await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD });
      assert.equal(login.status, 200);
      // The session was not revoked either.
      assert.equal((await s.http.get('/api/me', { token: t.user.token })).status, 200);
    });

    test('the operator adding a user to a tenant with a weak password is refused', async () => {
      const r = await s.http.post(
        `/api/operator/tenants/${t.id}/users`,
        { address: `first@${t.domain}`, displayName: 'First', password: 'qwertyuiop', role: 'admin' },
        { token: operator },
      );
      assertWeak(r);
    });

    test('a strong password is accepted', async () => {
      const r = await s.http.post(
        '/api/users',
        { address: `strong@${t.domain}`, displayName: 'Strong', password: 'velvet-otter-harbour' },
        { token: t.admin.token },
      );
      assert.equal(r.status, 201, r.text);
    });
  });
}

describe('password strength in the CLI', () => {
  const bin = new URL('../../bin/parley.js', import.meta.url).pathname;
  let dataDir: string;
  const parley = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], {
      env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-pw-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('user add and operator add refuse a weak password with exit 1; demo passwords pass', async () => {
    assert.equal(parley('tenant', 'create', '--name', 'W', '--domain', 'w.example').status, 0);
    const user = parley(
      'user',
      'add',
      '--tenant',
      'w.example',
      '--address',
      'u@w.example',
      '--name',
      'U',
      '--password',
      'aaaaaaaa',
    );
    assert.equal(user.status, 1);
    assert.match(user.stderr, /weak_password/);
    const op = parley('operator', 'add', '--address', 'root@ops.example', '--password', '12345678');
    assert.equal(op.status, 1);
    assert.match(op.stderr, /weak_password/);

    const demo = parley('demo', '--json');
    assert.equal(demo.status, 0, demo.stderr);
    const d = JSON.parse(demo.stdout) as {
      users: Array<{ address: string; password: string }>;
      operator: { address: string; password: string };
    };
    for (const u of [...d.users, d.operator])
      await assertStrongPassword(u.password, passwordContext(u.address, 'Contoso'));
  });
});
