import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeTenant, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every other spelling of the signature's last character that decodes to the same bytes. */
function sameBytesLastChar(sig: string): string[] {
  const last = sig.at(-1)!;
  const want = Buffer.from(sig, 'base64url');
  return [...B64URL]
    .filter((c) => c !== last)
    .map((c) => sig.slice(0, -1) + c)
    .filter((s) => Buffer.from(s, 'base64url').equals(want));
}

for (const engine of engines) {
  describe(`access token signatures are compared exactly (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    before(async () => {
      s = await startServer(engine);
      t = await makeTenant(s, 'tok');
    });
    after(() => s.close());

    test('the token as issued works', async () => {
      assert.equal((await s.http.get('/api/me', { token: t.user.token })).status, 200);
    });

    test('a trailing "=" on the signature is refused', async () => {
      const r = await s.http.get('/api/me', { token: `${t.user.token}=` });
      assert.equal(r.status, 401);
      assert.equal(code(r), 'unauthorized');
    });

    test('a changed last character that decodes to the same bytes is refused', async () => {
      const [body, sig] = t.user.token.split('.') as [string, string];
      const variants = sameBytesLastChar(sig);
      // A 32-byte HMAC is 43 characters: the last one carries 4 bits and 2 spare ones.
      assert.equal(variants.length, 3);
      for (const v of variants) {
        const r = await s.http.get('/api/me', { token: `${body}.${v}` });
        assert.equal(r.status, 401, `signature spelled ${v}`);
        assert.equal(code(r), 'unauthorized');
      }
    });
  });
}
