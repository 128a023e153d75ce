/**
 * The SDK's calls against a real server, werift peers on loopback: a full call (both reach connected,
 * audio packets arrive both ways, the callee's camera on through the server's relay, hang up, both
 * histories), cancel while ringing (the callee's missed call), decline, no answer, an offline callee,
 * Do not disturb, two devices answering at the same instant (exactly one wins), and the per-user limit.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyError } from '@parley/sdk';
import { makeTenant, makeUser, startServer, type TestServer } from '../../server/test/helpers/server.ts';
import { callClient, closeCallClients, reach } from './helpers/call-clients.ts';
import { closeWerift, countReceived } from './helpers/werift.ts';
import { waitFor, waitUntil } from './helpers/wait.ts';

type User = { id: string; address: string; token: string };

describe('SDK calls against a real server', () => {
  let s: TestServer;
  let alice: User;
  let bob: User;
  let carol: User;
  let domain: string;
  let n = 0;
  const user = (name: string) => makeUser(s, tenantId, `${name.toLowerCase()}${++n}@${domain}`, 'user', name);
  let tenantId: string;

  before(async () => {
    // Ringing long enough for a werift answer on a loaded machine, short enough for the no-answer test.
    s = await startServer('sqlite', { callRingTimeout: 1.5, callMaxPerUser: 2 });
    const t = await makeTenant(s, 'sdkcalls');
    tenantId = t.id;
    domain = t.domain;
    alice = t.user;
    bob = await user('Bob');
    carol = await user('Carol');
  });
  afterEach(async () => {
    closeCallClients();
    await waitUntil(() => s.app.calls.idle, 3000, 'an empty call table');
    await closeWerift();
  });
  after(() => s.close());

  test('a full call: connected both sides, audio both ways, camera on through the relay, hang up, history', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const call = await a.client.calls.place({ address: bob.address });
    assert.equal(call.direction, 'outgoing');
    assert.equal(call.peer.userId, bob.id);
    const incoming = await b.nextIncoming();
    assert.equal(incoming.id, call.id);
    assert.equal(incoming.state, 'ringing');
    await reach(call, 'ringing');
    await incoming.answer();
    await reach(call, 'connected');
    assert.equal(incoming.state, 'connected');
    assert.ok(call.answeredAt);
    const rxA = countReceived(call.peerConnection);
    const rxB = countReceived(incoming.peerConnection);
    await waitUntil(() => rxA.audio > 10 && rxB.audio > 10, 10_000, 'audio packets both ways');
    assert.ok((await incoming.quality()).packetsReceived > 0);

    // Bob turns his camera on: a new offer relayed by the server, video packets reach Alice.
    await incoming.setCamera(true);
    await waitUntil(() => rxA.video > 5, 10_000, 'video at Alice');
    assert.equal(incoming.cameraOn, true);

    const ended = new Promise((r) => incoming.once('ended', r));
    await call.hangup();
    assert.equal(call.state, 'ended');
    assert.deepEqual(await ended, { reason: 'hangup', endedBy: alice.id });
    assert.equal(a.client.calls.current.length + b.client.calls.current.length, 0);

    const [ha, hb] = await Promise.all([a.client.calls.history(), b.client.calls.history()]);
    const ea = ha.calls.find((c) => c.callId === call.id)!;
    const eb = hb.calls.find((c) => c.callId === call.id)!;
    assert.equal(ea.direction, 'outgoing');
    assert.equal(eb.direction, 'incoming');
    assert.equal(ea.disposition, 'answered');
    assert.equal(eb.disposition, 'answered');
    assert.ok(Math.abs(ea.durationSeconds - eb.durationSeconds) <= 1);
  });

  test('cancel while ringing: the callee stops ringing and has a missed call, in its history', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const call = await a.client.calls.place({ userId: bob.id });
    const incoming = await b.nextIncoming();
    await call.hangup();
    assert.equal(call.endReason, 'cancelled');
    await reach(incoming, 'ended');
    assert.equal(incoming.endReason, 'cancelled');
    const missed = await waitFor(() => b.missed.find((m) => m.callId === call.id), 3000, 'call.missed');
    assert.equal(missed.from.userId, alice.id);
    const page = await b.client.calls.history({ filter: 'missed' });
    const entry = page.calls.find((c) => c.callId === call.id);
    assert.equal(entry?.disposition, 'missed');
    assert.ok(page.unseenMissed >= 1);
    assert.equal(await b.client.calls.markSeen(), 0);
  });

  test('decline: the caller hears declined, nothing connected', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const call = await a.client.calls.place({ userId: bob.id });
    const incoming = await b.nextIncoming();
    await incoming.decline();
    assert.equal(incoming.state, 'ended');
    await reach(call, 'ended');
    assert.equal(call.endReason, 'declined');
    assert.equal(call.endedBy, bob.id);
    assert.equal(incoming.peerConnection, null, 'a declined call never opened media');
  });

  test('no answer: both ends see no_answer after the ring timeout, a missed call for the callee', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const call = await a.client.calls.place({ userId: bob.id });
    const incoming = await b.nextIncoming();
    await Promise.all([reach(call, 'ended'), reach(incoming, 'ended')]);
    assert.equal(call.endReason, 'no_answer');
    assert.equal(incoming.endReason, 'no_answer');
    await waitFor(
      () => b.missed.find((m) => m.callId === call.id && m.reason === 'no_answer'),
      3000,
      'missed',
    );
  });

  test('an offline callee: the call ends unavailable at once', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const call = await a.client.calls.place({ userId: carol.id });
    assert.equal(call.state, 'ended');
    assert.equal(call.endReason, 'unavailable');
    assert.equal(a.client.calls.current.length, 0);
  });

  test('Do not disturb: nothing rings, the caller sees do_not_disturb, the callee a missed-call notice', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    await b.client.presence.set({ manual: { availability: 'do_not_disturb', until: null } });
    try {
      const call = await a.client.calls.place({ userId: bob.id });
      assert.equal(call.endReason, 'do_not_disturb');
      const missed = await waitFor(() => b.missed.find((m) => m.callId === call.id), 3000, 'missed notice');
      assert.equal(missed.reason, 'do_not_disturb');
      assert.equal(b.incoming.length, 0, 'nothing rang');
    } finally {
      await b.client.presence.set({ manual: null });
    }
  });

  test('two devices answer at the same instant: exactly one wins, the other ends answered_elsewhere', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b1 = await callClient(s, bob, 'bob-laptop');
    const b2 = await callClient(s, bob, 'bob-phone');
    const call = await a.client.calls.place({ userId: bob.id });
    const [i1, i2] = await Promise.all([b1.nextIncoming(), b2.nextIncoming()]);
    const results = await Promise.allSettled([i1.answer(), i2.answer()]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1, 'exactly one answer wins');
    assert.equal((lost[0]!.reason as ParleyError).code, 'call_state');
    const [winner, loser] = results[0]!.status === 'fulfilled' ? [i1, i2] : [i2, i1];
    await reach(loser, 'ended');
    assert.equal(loser.endReason, 'answered_elsewhere');
    assert.equal(loser.peerConnection, null, 'the loser keeps no media');
    await reach(call, 'connected');
    const rx = countReceived(call.peerConnection);
    await waitUntil(() => rx.audio > 10, 10_000, 'audio from the winner');
    assert.equal(winner.state, 'connected');
    await winner.hangup();
    await reach(call, 'ended');
  });

  test('the per-user limit: a third call is refused limit_exceeded; a callee at the limit is busy', async () => {
    const a = await callClient(s, alice, 'alice-laptop');
    const b = await callClient(s, bob, 'bob-laptop');
    const c = await callClient(s, carol, 'carol-laptop');
    const dave = await user('Dave');
    const d = await callClient(s, dave, 'dave-laptop');
    const first = await a.client.calls.place({ userId: bob.id });
    const second = await a.client.calls.place({ userId: carol.id });
    await Promise.all([b.nextIncoming(), c.nextIncoming()]);
    await assert.rejects(
      a.client.calls.place({ userId: dave.id }),
      (e: ParleyError) => e.code === 'limit_exceeded',
    );
    assert.equal(a.client.calls.current.length, 2, 'the refused call left nothing behind');
    // Alice holds two calls: Dave calling her finds her busy.
    const busy = await d.client.calls.place({ userId: alice.id });
    assert.equal(busy.endReason, 'busy');
    await Promise.all([first.hangup(), second.hangup()]);
  });
});
