/** Digest authentication (RFC 2617, RFC 7616, RFC 8760): vectors, challenge, verify, stale, replay. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerChallenge,
  digestResponse,
  DigestServer,
  FakeClock,
  parseDigestParams,
  type SipRequest,
} from '../src/index.ts';
import { request } from './helpers.ts';

describe('digest computation', () => {
  test('RFC 2617 section 3.5 example (MD5, qop=auth)', () => {
    assert.equal(
      digestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
      '6629fae49393a05397450978507c4ef1',
    );
  });

  test('RFC 7616 section 3.9.1 examples (SHA-256 and MD5)', () => {
    const base = {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    assert.equal(
      digestResponse({ ...base, algorithm: 'SHA-256' }),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
    assert.equal(digestResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  });

  test('challenge parameters with quoted commas and escapes', () => {
    assert.deepEqual(
      parseDigestParams('Digest realm="a, b", nonce="x\\"y", qop="auth,auth-int", algorithm=MD5'),
      {
        realm: 'a, b',
        nonce: 'x"y',
        qop: 'auth,auth-int',
        algorithm: 'MD5',
      },
    );
    assert.equal(parseDigestParams('Basic realm="x"'), undefined);
    assert.equal(parseDigestParams('Digest realm="unterminated'), undefined);
  });
});

function authorized(req: SipRequest, value: string): SipRequest {
  req.append('Authorization', value);
  return req;
}

describe('DigestServer', () => {
  const users = async (u: string) => (u === 'alice' ? { password: 'wonderland' } : undefined);

  for (const alg of ['SHA-256', 'MD5'] as const) {
    test(`${alg}: a client answer to our challenge verifies; a wrong password does not`, async () => {
      const server = new DigestServer({ realm: 'parley.test', algorithms: [alg] });
      const [challenge] = server.challenge();
      assert.match(challenge!, new RegExp(`algorithm=${alg}, qop="auth"`));
      const req = request('INVITE');
      const answer = answerChallenge(
        challenge!,
        { username: 'alice', password: 'wonderland' },
        'INVITE',
        req.uriText,
      )!;
      assert.deepEqual(await server.verify(authorized(req, answer), users), { ok: true, username: 'alice' });
      const bad = answerChallenge(
        challenge!,
        { username: 'alice', password: 'nope' },
        'INVITE',
        req.uriText,
      )!;
      assert.deepEqual(await server.verify(authorized(request('INVITE'), bad), users), {
        ok: false,
        reason: 'wrong',
      });
    });
  }

  test('replay: the same nonce-count twice is refused; a higher count is accepted', async () => {
    const server = new DigestServer({ realm: 'parley.test' });
    const [challenge] = server.challenge();
    const uri = 'sip:bob@127.0.0.1';
    const first = answerChallenge(challenge!, { username: 'alice', password: 'wonderland' }, 'INVITE', uri)!;
    assert.equal((await server.verify(authorized(request('INVITE'), first), users)).ok, true);
    assert.deepEqual(await server.verify(authorized(request('INVITE'), first), users), {
      ok: false,
      reason: 'replay',
    });
    const second = answerChallenge(challenge!, { username: 'alice', password: 'wonderland' }, 'INVITE', uri)!;
    assert.match(second, /nc=00000002/);
    assert.equal((await server.verify(authorized(request('INVITE'), second), users)).ok, true);
  });

  test('an expired nonce with the right password is stale; a forged nonce is stale too', async () => {
    const clock = new FakeClock();
    clock.advance(1_000_000);
    const server = new DigestServer({ realm: 'parley.test', clock, nonceLifetimeMs: 60_000 });
    const [challenge] = server.challenge();
    const answer = answerChallenge(
      challenge!,
      { username: 'alice', password: 'wonderland' },
      'INVITE',
      'sip:bob@127.0.0.1',
    )!;
    clock.advance(60_001);
    assert.deepEqual(await server.verify(authorized(request('INVITE'), answer), users), {
      ok: false,
      reason: 'stale',
    });
    assert.match(server.challenge(true)[0]!, /stale=true/);
    const forged = answer.replace(/nonce="[^"]*"/, 'nonce="abc.def.ghi"');
    assert.deepEqual(await server.verify(authorized(request('INVITE'), forged), users), {
      ok: false,
      reason: 'stale',
    });
  });

  test('missing, other realm, unknown user, other scheme, auth-int only', async () => {
    const server = new DigestServer({ realm: 'parley.test' });
    assert.deepEqual(await server.verify(request('INVITE'), users), { ok: false, reason: 'missing' });
    const [challenge] = server.challenge();
    const other = answerChallenge(
      challenge!.replace('parley.test', 'elsewhere'),
      { username: 'alice', password: 'x' },
      'INVITE',
      'sip:b@c',
    )!;
    assert.deepEqual(await server.verify(authorized(request('INVITE'), other), users), {
      ok: false,
      reason: 'realm',
    });
    const ghost = answerChallenge(challenge!, { username: 'ghost', password: 'x' }, 'INVITE', 'sip:b@c')!;
    assert.deepEqual(await server.verify(authorized(request('INVITE'), ghost), users), {
      ok: false,
      reason: 'unknown-user',
    });
    assert.deepEqual(
      await server.verify(authorized(request('INVITE'), 'NoOneKnowsThisScheme opaque-data=here'), users),
      {
        ok: false,
        reason: 'missing',
      },
    );
    assert.equal(
      answerChallenge(
        'Digest realm="r", nonce="n", qop="auth-int"',
        { username: 'a', password: 'b' },
        'INVITE',
        'sip:x',
      ),
      undefined,
    );
  });

  test('the table of used nonces is bounded: past it, fresh nonces get stale instead of growing memory', async () => {
    const server = new DigestServer({ realm: 'parley.test', maxTrackedNonces: 5 });
    let stale = 0;
    for (let i = 0; i < 8; i++) {
      const [challenge] = server.challenge();
      const answer = answerChallenge(
        challenge!,
        { username: 'alice', password: 'wonderland' },
        'INVITE',
        'sip:b@c',
      )!;
      const v = await server.verify(authorized(request('INVITE'), answer), users);
      if (!v.ok && v.reason === 'stale') stale++;
    }
    assert.equal(server.trackedNonces, 5);
    assert.equal(stale, 3);
  });
});
