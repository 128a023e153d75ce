/**
 * Devices that come and go during calls, over real sockets: a connection dropped mid-call and back
 * within PARLEY_CALL_LOST_GRACE (the welcome lists the call, the leg is rebound, ICE restarts through
 * the relay), dropped past the grace (lost), a deliberate close (hang up at once), ringing devices that
 * vanish, a caller that vanishes while it rings, presence "In a call" seen by a watcher and restored, and
 * a server shutdown ending its calls.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { CallView, Presence } from '@parley/protocol';
import { makeTenant, makeUser, startServer, type TenantFixture, type TestServer } from '../helpers/server.ts';
import { answerSdp, candidate, clean, device, offer, sdp, type Device } from './call-devices.ts';
import { waitFor } from '../realtime/clients.ts';

const GRACE_S = 0.4;

describe('devices that come and go during calls', () => {
  let s: TestServer;
  let a: TenantFixture;
  let bob: { id: string; address: string; token: string };
  let carol: { id: string; address: string; token: string };
  const open: Device[] = [];
  const dev = async (token: string, id?: string) => {
    const d = await device(s, token, id);
    open.push(d);
    return d;
  };

  before(async () => {
    s = await startServer('sqlite', { callRingTimeout: 5, callLostGrace: GRACE_S, presenceGraceMs: 0 });
    a = await makeTenant(s, 'lost');
    bob = await makeUser(s, a.id, `bob@${a.domain}`);
    carol = await makeUser(s, a.id, `carol@${a.domain}`);
  });
  afterEach(async () => {
    await clean(s);
    await Promise.all(open.splice(0).map((d) => d.close()));
  });
  after(() => s.close());

  /** Alice calls bob's device `bob-1`, which answers. */
  async function connected(extraBobDevices = 0) {
    const alice = await dev(a.user.token, 'alice-1');
    const bob1 = await dev(bob.token, 'bob-1');
    const others = await Promise.all(
      Array.from({ length: extraBobDevices }, (_, i) => dev(bob.token, `bob-x${i}`)),
    );
    const call = await alice.ok<CallView>({ t: 'call.place', to: { userId: bob.id }, offer: offer() });
    await bob1.incoming(call.id);
    await bob1.ok({ t: 'call.answer', callId: call.id, answer: answerSdp() });
    await alice.update(call.id, 'connected');
    return { alice, bob1, others, call };
  }

  test('dropped mid-call and back within the grace: welcome lists the call, ICE restarts, the call goes on', async () => {
    const { alice, bob1, call } = await connected();
    await bob1.drop();
    const held = s.app.calls.get(call.id)!;
    await waitFor(() => (held.answered?.state === 'lost' ? true : undefined), 1000, 'the leg lost');
    assert.equal(held.timing, true, 'the grace runs');
    const back = await dev(bob.token, 'bob-1');
    const listed = back.welcome.calls ?? [];
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.id, call.id);
    assert.equal(listed[0]!.state, 'connected');
    assert.equal(listed[0]!.direction, 'incoming');
    assert.equal(s.app.calls.get(call.id), held);
    assert.equal(held.timing, false, 'the grace timer was cleared by the rebind');
    assert.ok(held.legs().every((l) => l.state === 'up'));
    // ICE restart: a new offer from the returning device reaches alice; her answer and ICE reach it.
    await back.ok({ t: 'call.sdp', callId: call.id, description: offer({ ufrag: 'rest' }) });
    await alice.waitFrame(
      (f) => f.t === 'call.sdp' && (f.description as { sdp: string }).sdp === sdp({ ufrag: 'rest' }),
    );
    await alice.ok({ t: 'call.sdp', callId: call.id, description: answerSdp({ ufrag: 'ali2' }) });
    await alice.ok({ t: 'call.ice', callId: call.id, candidate: candidate(9) });
    await back.waitFrame((f) => f.t === 'call.sdp' && f.callId === call.id);
    await back.waitFrame((f) => f.t === 'call.ice' && f.callId === call.id);
    await alice.sync();
    assert.equal(
      alice.of('call.update', call.id).filter((f) => (f.call as CallView).state === 'ended').length,
      0,
    );
    await back.ok({ t: 'call.hangup', callId: call.id });
    const ended = await alice.update(call.id, 'ended', 'hangup');
    assert.equal(ended.endedBy, bob.id);
  });

  test('dropped mid-call and not back within the grace: the call ends lost', async () => {
    const { alice, bob1, call } = await connected();
    const dropped = Date.now();
    await bob1.drop();
    const held = s.app.calls.get(call.id)!;
    await waitFor(() => (held.answered?.state === 'lost' ? true : undefined), 1000, 'the leg lost');
    // While lost, relaying to the missing device is refused (it sends a new offer when back).
    assert.equal(await alice.refused({ t: 'call.sdp', callId: call.id, description: offer() }), 'call_state');
    const ended = await alice.update(call.id, 'ended', 'lost');
    assert.equal(ended.endedBy, null);
    const waited = Date.now() - dropped;
    assert.ok(waited >= GRACE_S * 1000 - 50, `ended after ${waited} ms`);
    // Back too late: nothing to resume.
    const back = await dev(bob.token, 'bob-1');
    assert.deepEqual(back.welcome.calls, []);
  });

  test('a deliberate close (sign-out) ends the call at once as hung up by that user', async () => {
    const { alice, bob1, call } = await connected();
    await bob1.close(1000);
    const ended = await alice.update(call.id, 'ended', 'hangup');
    assert.equal(ended.endedBy, bob.id);
  });

  test('a ringing device that drops stops ringing; the others ring on; none left: unavailable', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token, 'bob-1');
    const bob2 = await dev(bob.token, 'bob-2');
    const call = await alice.ok<CallView>({ t: 'call.place', to: { userId: bob.id }, offer: offer() });
    await Promise.all([bob1.incoming(call.id), bob2.incoming(call.id)]);
    await bob1.drop();
    const held = s.app.calls.get(call.id)!;
    await waitFor(() => (held.ringingLegs().length === 1 ? true : undefined), 1000, 'one device ringing');
    await alice.sync();
    assert.equal(held.state, 'ringing');
    assert.equal(alice.of('call.update', call.id).length, 0);
    // The same device back while the others still ring: it rings again.
    const back = await dev(bob.token, 'bob-1');
    await back.incoming(call.id);
    await back.drop();
    await waitFor(() => (held.ringingLegs().length === 1 ? true : undefined), 1000, 'one device ringing');
    await bob2.drop();
    const ended = await alice.update(call.id, 'ended', 'unavailable');
    assert.equal(ended.endedBy, null);
  });

  test('a caller that drops while it rings ends the call lost for the callee', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    const call = await alice.ok<CallView>({ t: 'call.place', to: { userId: bob.id }, offer: offer() });
    await bob1.incoming(call.id);
    await alice.drop();
    await bob1.update(call.id, 'ended', 'lost');
  });

  test('In a call: a watcher sees it while the call is connected (Busy), then it is restored', async () => {
    const carol1 = await dev(carol.token);
    const watched = await carol1.ok<{ presences: Presence[] }>({
      t: 'presence.subscribe',
      userIds: [a.user.id, bob.id],
    });
    assert.equal(watched.presences.length, 2);
    const seen = (userId: string, pred: (p: Presence) => boolean) =>
      carol1.waitFrame(
        (f) =>
          f.t === 'presence' && (f.presence as Presence).userId === userId && pred(f.presence as Presence),
      );
    const { alice, bob1, others, call } = await connected(1);
    const inCall = (p: Presence) => p.activity === 'in_a_call' && p.availability === 'busy';
    await seen(a.user.id, inCall);
    await seen(bob.id, inCall);
    // Every device of the user shows it: bob's device that is not in the call sees his own presence.
    await others[0]!.waitFrame(
      (f) =>
        f.t === 'presence' && (f.presence as Presence).userId === bob.id && inCall(f.presence as Presence),
    );
    const before = carol1.frames.length;
    await alice.ok({ t: 'call.hangup', callId: call.id });
    await bob1.update(call.id, 'ended', 'hangup');
    const restored = (p: Presence) => p.activity === 'none' && p.availability === 'available';
    await carol1.waitFrame(
      (f) =>
        carol1.frames.indexOf(f) >= before &&
        f.t === 'presence' &&
        (f.presence as Presence).userId === a.user.id &&
        restored(f.presence as Presence),
    );
    assert.equal(s.app.presence.get(bob.id).activity, 'none');
    assert.equal(s.app.presence.get(a.user.id).availability, 'available');
  });
});

describe('a server shutting down', () => {
  test('ends its calls as failed for their devices before the sockets close', async () => {
    const s = await startServer('sqlite');
    try {
      const a = await makeTenant(s, 'shut');
      const bob = await makeUser(s, a.id, `bob@${a.domain}`);
      const alice = await device(s, a.user.token);
      const bob1 = await device(s, bob.token);
      const call = await alice.ok<CallView>({ t: 'call.place', to: { userId: bob.id }, offer: offer() });
      await bob1.incoming(call.id);
      await bob1.ok({ t: 'call.answer', callId: call.id, answer: answerSdp() });
      await s.app.calls.close();
      await Promise.all([alice.update(call.id, 'ended', 'failed'), bob1.update(call.id, 'ended', 'failed')]);
      assert.ok(s.app.calls.idle);
      assert.equal(
        await alice.refused({ t: 'call.place', to: { userId: bob.id }, offer: offer() }),
        'unavailable',
      );
    } finally {
      await s.close();
    }
  });
});
