/**
 * A call forced through TURN from Node: Debian's coturn on a free loopback port (the web tests'
 * starter, coturn's REST credentials from `PARLEY_TURN_SECRET`), both SDK clients with
 * `iceTransportPolicy: 'relay'`. The clients take their TURN credentials from `GET
 * /api/calls/ice-servers`, gather relay candidates only, and audio arrives both ways through the relay.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeTenant, makeUser, startServer, type TestServer } from '../../server/test/helpers/server.ts';
import { startTurnServer, type TurnServer } from '../../../tests/web/turn-server.ts';
import { callClient, closeCallClients, reach } from './helpers/call-clients.ts';
import { closeWerift, countReceived } from './helpers/werift.ts';
import { waitUntil } from './helpers/wait.ts';

describe('SDK call through TURN (werift, coturn)', () => {
  let turn: TurnServer;
  let s: TestServer;
  before(async () => {
    turn = await startTurnServer();
    s = await startServer('sqlite', {
      turnSecret: turn.secret,
      turnUrls: turn.urls[0], // UDP
    });
  });
  after(async () => {
    closeCallClients();
    await closeWerift();
    await s?.close();
    await turn?.stop();
  });

  test('relay only: TURN credentials from the server, relay candidates only, audio both ways', async () => {
    const t = await makeTenant(s, 'sdkturn');
    const bob = await makeUser(s, t.id, `bob@${t.domain}`, 'user', 'Bob');
    const relay = { iceTransportPolicy: 'relay' as const };
    const a = await callClient(s, t.user, 'alice-laptop', relay);
    const b = await callClient(s, bob, 'bob-laptop', relay);
    const ice = await a.client.calls.iceServers();
    assert.ok(ice.expiresAt, 'TURN credentials expire');
    assert.match(ice.iceServers.at(-1)!.username!, /^\d+:/);
    const call = await a.client.calls.place({ userId: bob.id });
    const incoming = await b.nextIncoming();
    await incoming.answer();
    await reach(call, 'connected');
    const rx = { a: countReceived(call.peerConnection), b: countReceived(incoming.peerConnection) };
    await waitUntil(() => rx.a.audio > 10 && rx.b.audio > 10, 15_000, `audio through TURN\n${turn.log()}`);
    for (const pc of [call.peerConnection, incoming.peerConnection]) {
      const types: string[] = [];
      (await pc!.getStats()).forEach((st) => {
        const c = st as { type: string; candidateType?: string };
        if (c.type === 'local-candidate') types.push(c.candidateType ?? '?');
      });
      assert.ok(types.length > 0 && types.every((x) => x === 'relay'), `local candidates: ${types}`);
    }
    await call.hangup();
  });
});
