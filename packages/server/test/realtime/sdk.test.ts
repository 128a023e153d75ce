/**
 * The SDK's own duties: sign-in with coded errors, refreshing short-lived access tokens before it
 * (re)connects, signing out (which ends its connection), typed state changes.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyClient, type ConnectionState } from '@parley/sdk';
import {
  makeTenant,
  makeUser,
  PASSWORD,
  startServer,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { sleep, waitFor } from './clients.ts';

describe('SDK', () => {
  let s: TestServer;
  let t: TenantFixture;
  before(async () => {
    // Access tokens live one second: every (re)connection needs a refresh first.
    s = await startServer('sqlite', { accessTokenTtl: 1 });
    t = await makeTenant(s, 'sdk');
  });
  after(() => s.close());

  const client = () =>
    new ParleyClient({ baseUrl: s.url, backoff: { baseMs: 20, maxMs: 100 }, device: { kind: 'bot' } });

  test('sign-in failures and use before sign-in are coded errors', async () => {
    const c = client();
    await assert.rejects(c.signIn(t.user.address, 'wrong password'), { code: 'invalid_credentials' });
    await assert.rejects(c.connect(), { code: 'unauthorized' });
  });

  test('signs in, connects, and keeps reconnecting across expired access tokens by refreshing them', async () => {
    const u = await makeUser(s, t.id, `refresher@${t.domain}`);
    const c = client();
    const states: ConnectionState[] = [];
    c.on('state', (x) => states.push(x));
    const me = await c.signIn(u.address, PASSWORD);
    assert.equal(me.id, u.id);
    const w = await c.connect();
    assert.equal(w.userId, u.id);
    await sleep(1200); // the access token has expired
    c.simulateNetworkDrop();
    await waitFor(
      () => (states.filter((x) => x === 'open').length === 2 ? true : undefined),
      3000,
      'second open',
    );
    assert.deepEqual(states, ['connecting', 'open', 'resuming', 'open']);
    // REST calls refresh an expired token too.
    await sleep(1200);
    assert.equal((await c.contacts.list()).contacts.length, 0);
    await c.signOut();
    assert.equal(c.state, 'closed');
  });
});
