/**
 * Calls when the network breaks, SDK clients with werift peers against a real server: a client killed
 * mid-call (its socket destroyed, never back) ends the call as `lost` after `PARLEY_CALL_LOST_GRACE`,
 * for the other party; a client whose socket drops and comes back within the grace (same device id)
 * keeps the call: the welcome lists it, the SDK restarts ICE with a new offer through the server, and
 * audio keeps arriving past the grace; a ringing device whose socket drops rings on when it returns
 * (the same call, answerable).
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { makeTenant, makeUser, startServer, type TestServer } from '../../server/test/helpers/server.ts';
import { callClient, closeCallClients, reach, ufrag, type CallClient } from './helpers/call-clients.ts';
import { closeWerift, countReceived } from './helpers/werift.ts';
import { waitUntil } from './helpers/wait.ts';

type User = { id: string; address: string; token: string };
const GRACE_S = 1.5;

describe('SDK calls across network failures', () => {
  let s: TestServer;
  let alice: User;
  let bob: User;

  before(async () => {
    s = await startServer('sqlite', { callRingTimeout: 5, callLostGrace: GRACE_S });
    const t = await makeTenant(s, 'sdknet');
    alice = t.user;
    bob = await makeUser(s, t.id, `bob@${t.domain}`, 'user', 'Bob');
  });
  afterEach(async () => {
    closeCallClients();
    await waitUntil(() => s.app.calls.idle, 3000, 'an empty call table');
    await closeWerift();
  });
  after(() => s.close());

  async function connectedCall(a: CallClient, b: CallClient) {
    const call = await a.client.calls.place({ userId: bob.id });
    const incoming = await b.nextIncoming();
    await incoming.answer();
    await reach(call, 'connected');
    const rx = { a: countReceived(call.peerConnection), b: countReceived(incoming.peerConnection) };
    await waitUntil(() => rx.a.audio > 10 && rx.b.audio > 10, 10_000, 'audio both ways');
    return { call, incoming, rx };
  }

  test('a client killed mid-call: the other party sees the call end lost after the grace', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const { call, incoming } = await connectedCall(a, b);
    const killedAt = Date.now();
    b.kill();
    assert.equal(incoming.state, 'ended', 'the dead app keeps nothing running');
    await reach(call, 'ended', 5000);
    const after = (Date.now() - killedAt) / 1000;
    assert.equal(call.endReason, 'lost');
    assert.ok(after >= GRACE_S * 0.9, `ended after ${after} s, the grace is ${GRACE_S} s`);
    assert.equal(call.peerConnection, null);
  });

  test('a dropped socket back within the grace keeps the call: ICE restarts, audio goes on', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const { call, incoming, rx } = await connectedCall(a, b);
    const before = ufrag(incoming.peerConnection!.localDescription?.sdp);
    const welcomes: number[] = [];
    b.client.on('welcome', (w) => welcomes.push(w.calls?.length ?? 0));
    b.network.up = false;
    const droppedAt = Date.now();
    b.drop();
    await waitUntil(() => b.client.state === 'resuming', 3000, 'the link resuming');
    // Away for a while (the server holds Bob's place), then the network returns.
    await waitUntil(() => Date.now() - droppedAt > (GRACE_S * 1000) / 3, 3000, 'a third of the grace');
    b.network.up = true;
    await waitUntil(() => b.client.state === 'open', 5000, 'reconnected');
    assert.deepEqual(welcomes, [1], 'the welcome lists the call');
    await waitUntil(
      () =>
        ufrag(incoming.peerConnection?.localDescription?.sdp) !== before &&
        incoming.peerConnection?.signalingState === 'stable' &&
        call.peerConnection?.signalingState === 'stable',
      5000,
      'an ICE restart through the server',
    );
    // Past the grace: still connected, and audio still arriving both ways.
    await waitUntil(() => Date.now() - droppedAt > GRACE_S * 1000 + 300, 5000, 'the grace passed');
    assert.equal(call.state, 'connected');
    assert.equal(incoming.state, 'connected');
    const [na, nb] = [rx.a.audio, rx.b.audio];
    await waitUntil(() => rx.a.audio > na + 10 && rx.b.audio > nb + 10, 10_000, 'audio after the restart');
    await call.hangup();
    await reach(incoming, 'ended');
    assert.equal(incoming.endReason, 'hangup');
  });

  test('a ringing device whose socket drops and returns rings on: the same call, and it can answer', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b1 = await callClient(s, bob, 'bob-laptop');
    await callClient(s, bob, 'bob-phone'); // keeps the call ringing while the laptop is away
    const call = await a.client.calls.place({ userId: bob.id });
    const ringing = await b1.nextIncoming();
    const welcomes: number[] = [];
    b1.client.on('welcome', () => welcomes.push(1));
    b1.drop();
    await waitUntil(() => welcomes.length === 1 && b1.client.state === 'open', 5000, 'reconnected');
    await roundTrips(b1, 2);
    assert.equal(
      ringing.state,
      'ringing',
      `still ringing here: ${ringing.endReason} ${JSON.stringify(b1.client.calls.current.map((c) => c.id))}`,
    );
    assert.equal(b1.incoming.length, 1, 'the same call, not a second one');
    await ringing.answer();
    await reach(call, 'connected');
    const rx = countReceived(call.peerConnection);
    await waitUntil(() => rx.audio > 10, 10_000, 'audio from the laptop');
    await call.hangup();
  });
});

/** Ping round trips on a client's link: pushes written before each have arrived. */
async function roundTrips(c: CallClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await (c.client as unknown as { link: { request(f: { t: 'ping' }): Promise<unknown> } }).link.request({
      t: 'ping',
    });
}
