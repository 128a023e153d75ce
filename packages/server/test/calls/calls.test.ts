/**
 * Calls between users over real realtime sockets (raw frames): ringing every device, the first answer
 * winning, decline, cancel, no answer, offline and Do not disturb callees, relay of SDP and ICE, hang up,
 * and what the call records are told. After each scenario the call table must be empty.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { CallView, IceServersResponse } from '@parley/protocol';
import { makeTenant, makeUser, startServer, type TenantFixture, type TestServer } from '../helpers/server.ts';
import {
  answerSdp,
  candidate,
  clean,
  device,
  offer,
  recordingSink,
  sdp,
  type Device,
} from './call-devices.ts';
import { eventsOf, historyOf } from './call-helpers.ts';

describe('calls between users', () => {
  let s: TestServer;
  let a: TenantFixture;
  let bob: { id: string; address: string; token: string };
  const sink = recordingSink();
  const open: Device[] = [];
  const dev = async (token: string, id?: string) => {
    const d = await device(s, token, id);
    open.push(d);
    return d;
  };

  before(async () => {
    s = await startServer(
      'sqlite',
      { callRingTimeout: 0.5, callLostGrace: 0.4, callMaxPerUser: 2 },
      { callRecords: sink },
    );
    a = await makeTenant(s, 'calls');
    bob = await makeUser(s, a.id, `bob@${a.domain}`, 'user', 'Bob Jones');
  });
  afterEach(async () => {
    await clean(s);
    await Promise.all(open.splice(0).map((d) => d.close()));
  });
  after(() => s.close());

  const place = (d: Device, to: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    d.ok<CallView>({ t: 'call.place', to, offer: offer(), ...extra });

  test('rings every device of the callee; the first answer wins, the other stops ringing; relay; hang up', async () => {
    const alice = await dev(a.user.token, 'alice-laptop');
    const bob1 = await dev(bob.token, 'bob-laptop');
    const bob2 = await dev(bob.token, 'bob-phone');

    const placed = await place(alice, { userId: bob.id }, { video: true });
    assert.equal(placed.state, 'ringing');
    assert.equal(placed.direction, 'outgoing');
    assert.equal(placed.video, true);
    assert.deepEqual(placed.peer, {
      userId: bob.id,
      displayName: 'Bob Jones',
      address: bob.address,
      number: null,
    });
    const [in1, in2] = await Promise.all([bob1.incoming(placed.id), bob2.incoming(placed.id)]);
    assert.equal(in1.call.direction, 'incoming');
    assert.equal(in1.call.state, 'ringing');
    assert.equal(in1.call.peer.userId, a.user.id);
    assert.equal(in1.offer.sdp, sdp());
    assert.deepEqual(in2.candidates, []);

    // Before the answer, the caller's candidates reach every ringing device.
    await alice.ok({ t: 'call.ice', callId: placed.id, candidate: candidate(1) });
    await Promise.all([
      bob1.waitFrame((f) => f.t === 'call.ice' && f.callId === placed.id),
      bob2.waitFrame((f) => f.t === 'call.ice' && f.callId === placed.id),
    ]);

    const answered = await bob2.ok<CallView>({
      t: 'call.answer',
      callId: placed.id,
      answer: answerSdp({ ufrag: 'bobp' }),
    });
    assert.equal(answered.state, 'connected');
    assert.ok(answered.answeredAt);
    const elsewhere = await bob1.update(placed.id, 'ended', 'answered_elsewhere');
    assert.equal(elsewhere.endedBy, null);
    const connected = await alice.update(placed.id, 'connected');
    assert.equal(connected.answeredAt, answered.answeredAt);
    const relayedAnswer = await alice.waitFrame((f) => f.t === 'call.sdp' && f.callId === placed.id);
    assert.deepEqual(relayedAnswer.description, answerSdp({ ufrag: 'bobp' }));

    // A late answer on the other device is refused; the call is untouched.
    assert.equal(
      await bob1.refused({ t: 'call.answer', callId: placed.id, answer: answerSdp() }),
      'call_state',
    );

    // After the answer: ICE and SDP flow only between alice and the answered phone.
    await bob2.ok({ t: 'call.ice', callId: placed.id, candidate: candidate(7) });
    const ice = await alice.waitFrame((f) => f.t === 'call.ice' && f.callId === placed.id);
    assert.deepEqual(ice.candidate, candidate(7));
    await alice.ok({ t: 'call.ice', callId: placed.id, candidate: candidate(2) });
    await alice.ok({ t: 'call.sdp', callId: placed.id, description: offer({ ufrag: 'rene' }) });
    await bob2.waitFrame(
      (f) => f.t === 'call.sdp' && (f.description as { sdp: string }).sdp === sdp({ ufrag: 'rene' }),
    );
    await bob1.sync();
    assert.equal(bob1.of('call.ice', placed.id).length, 1, 'the laptop got only the pre-answer candidate');
    assert.equal(bob1.of('call.sdp', placed.id).length, 0);
    assert.equal(
      await bob1.refused({ t: 'call.ice', callId: placed.id, candidate: candidate(3) }),
      'call_state',
    );

    await bob2.ok({ t: 'call.hangup', callId: placed.id });
    const ended = await alice.update(placed.id, 'ended', 'hangup');
    assert.equal(ended.endedBy, bob.id);
    const endedHere = await bob2.update(placed.id, 'ended', 'hangup');
    assert.equal(endedHere.endedBy, bob.id);
    // Ended calls are gone: a second hang up finds nothing.
    assert.equal(await alice.refused({ t: 'call.hangup', callId: placed.id }), 'not_found');

    await clean(s);
    const steps = sink.log.filter((e) => e.callId === placed.id);
    assert.deepEqual(
      steps.map((e) => e.step),
      ['opened', 'ringing', 'answered', 'ended'],
    );
    const opened = steps[0]!.data as {
      caller: unknown;
      callee: unknown;
      video: boolean;
      callerDevice: string;
    };
    assert.deepEqual(opened.caller, { tenantId: a.id, userId: a.user.id, number: null });
    assert.deepEqual(opened.callee, { tenantId: a.id, userId: bob.id, number: null });
    assert.equal(opened.video, true);
    assert.match(opened.callerDevice, /\/alice-laptop$/);
    assert.equal((steps[1]!.data as { devices: string[] }).devices.length, 2);
    assert.match((steps[2]!.data as { device: string }).device, /\/bob-phone$/);
    assert.deepEqual(
      {
        reason: (steps[3]!.data as { reason: string }).reason,
        by: (steps[3]!.data as { endedBy: string }).endedBy,
      },
      { reason: 'hangup', by: bob.id },
    );
  });

  test('by address; decline stops every device and the caller hears declined', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    const bob2 = await dev(bob.token);
    const placed = await place(alice, { address: bob.address.toUpperCase() });
    await bob2.incoming(placed.id);
    await bob1.incoming(placed.id);
    await bob1.ok({ t: 'call.decline', callId: placed.id });
    const seen = await alice.update(placed.id, 'ended', 'declined');
    assert.equal(seen.endedBy, bob.id);
    await bob2.update(placed.id, 'ended', 'declined');
    assert.equal(
      await bob2.refused({ t: 'call.answer', callId: placed.id, answer: answerSdp() }),
      'not_found',
    );
  });

  test('the caller hangs up while it rings: cancelled', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    const placed = await place(alice, { userId: bob.id });
    await bob1.incoming(placed.id);
    await alice.ok({ t: 'call.hangup', callId: placed.id });
    const seen = await bob1.update(placed.id, 'ended', 'cancelled');
    assert.equal(seen.endedBy, a.user.id);
    await alice.update(placed.id, 'ended', 'cancelled');
  });

  test('nobody answers within PARLEY_CALL_RING_TIMEOUT: no_answer on both sides', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    const placed = await place(alice, { userId: bob.id });
    await bob1.incoming(placed.id);
    const [mine, theirs] = await Promise.all([
      alice.update(placed.id, 'ended', 'no_answer'),
      bob1.update(placed.id, 'ended', 'no_answer'),
    ]);
    const rang = Date.parse(mine.endedAt!) - Date.parse(mine.createdAt);
    assert.ok(rang >= 450 && rang < 2000, `rang ${rang} ms`);
    assert.equal(theirs.endReason, 'no_answer');
  });

  test('an offline callee: unavailable at once, recorded, nothing rings', async () => {
    const alice = await dev(a.user.token);
    const placed = await place(alice, { userId: bob.id });
    assert.equal(placed.state, 'ended');
    assert.equal(placed.endReason, 'unavailable');
    await clean(s);
    assert.deepEqual(
      sink.log.filter((e) => e.callId === placed.id).map((e) => e.step),
      ['opened', 'ended'],
    );
  });

  test('Do not disturb: nothing rings, the call ends do_not_disturb', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    await bob1.ok({ t: 'presence.set', settings: { manual: { availability: 'do_not_disturb' } } });
    try {
      const placed = await place(alice, { userId: bob.id });
      assert.equal(placed.state, 'ended');
      assert.equal(placed.endReason, 'do_not_disturb');
      await bob1.sync();
      assert.equal(bob1.of('call.incoming').length, 0);
    } finally {
      await bob1.ok({ t: 'presence.set', settings: { manual: null } });
    }
  });

  test('a device that connects while the call rings rings too, with the candidates so far', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    const placed = await place(alice, { userId: bob.id });
    await bob1.incoming(placed.id);
    await alice.ok({ t: 'call.ice', callId: placed.id, candidate: candidate(1) });
    await alice.ok({ t: 'call.ice', callId: placed.id, candidate: candidate(2) });
    const late = await dev(bob.token, 'bob-late');
    const rung = await late.incoming(placed.id);
    assert.deepEqual(rung.candidates, [candidate(1), candidate(2)]);
    await late.ok({ t: 'call.answer', callId: placed.id, answer: answerSdp() });
    await bob1.update(placed.id, 'ended', 'answered_elsewhere');
    await alice.update(placed.id, 'connected');
    await alice.ok({ t: 'call.hangup', callId: placed.id });
    await late.update(placed.id, 'ended', 'hangup');
  });

  test('two devices answering at the same instant: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const alice = await dev(a.user.token);
      const bob1 = await dev(bob.token);
      const bob2 = await dev(bob.token);
      const placed = await place(alice, { userId: bob.id });
      await Promise.all([bob1.incoming(placed.id), bob2.incoming(placed.id)]);
      const frame = { t: 'call.answer', callId: placed.id, answer: answerSdp() };
      const answers = await Promise.all([bob1.request(frame), bob2.request(frame)]);
      assert.equal(answers.filter((x) => x.ok).length, 1, JSON.stringify(answers));
      const lost = answers.find((x) => !x.ok) as { code: string };
      assert.equal(lost.code, 'call_state');
      await alice.update(placed.id, 'connected');
      await alice.sync();
      assert.equal(alice.of('call.sdp', placed.id).length, 1, 'one answer reached the caller');
      await alice.ok({ t: 'call.hangup', callId: placed.id });
      await clean(s);
      await Promise.all(open.splice(0).map((d) => d.close()));
    }
  });
});

describe('calls write their records (the call records store, as app.ts wires it)', () => {
  let s: TestServer;
  let a: TenantFixture;
  let bob: { id: string; address: string; token: string };
  before(async () => {
    s = await startServer('sqlite', { callRingTimeout: 0.5 });
    a = await makeTenant(s, 'callrec');
    bob = await makeUser(s, a.id, `bob@${a.domain}`);
  });
  after(() => s.close());

  test('an answered call and a cancelled one show in both histories; the cancelled one is missed', async () => {
    const alice = await device(s, a.user.token);
    const bob1 = await device(s, bob.token);
    const first = await alice.ok<CallView>({ t: 'call.place', to: { userId: bob.id }, offer: offer() });
    await bob1.incoming(first.id);
    await bob1.ok({ t: 'call.answer', callId: first.id, answer: answerSdp() });
    await alice.ok({ t: 'call.hangup', callId: first.id });
    await bob1.update(first.id, 'ended', 'hangup');
    const second = await alice.ok<CallView>({ t: 'call.place', to: { userId: bob.id }, offer: offer() });
    await bob1.incoming(second.id);
    await alice.ok({ t: 'call.hangup', callId: second.id });
    await bob1.update(second.id, 'ended', 'cancelled');
    await clean(s);
    await s.app.calls.close(); // waits for the record writes (and would end any call left)

    const mine = await historyOf(s, a.user);
    assert.deepEqual(
      mine.calls.map((c) => [c.callId, c.direction, c.disposition]),
      [
        [second.id, 'outgoing', 'cancelled'],
        [first.id, 'outgoing', 'answered'],
      ],
    );
    const theirs = await historyOf(s, bob);
    assert.deepEqual(
      theirs.calls.map((c) => [c.callId, c.direction, c.disposition]),
      [
        [second.id, 'incoming', 'missed'],
        [first.id, 'incoming', 'answered'],
      ],
    );
    assert.equal(theirs.unseenMissed, 1);
    assert.equal((await eventsOf(s, bob, 'call.missed')).length, 1);
    await Promise.all([alice.close(), bob1.close()]);
  });
});

describe('GET /api/calls/ice-servers', () => {
  test('signed-in users get coturn REST credentials; without a secret, no TURN and no expiry', async () => {
    const s = await startServer('sqlite', {
      turnSecret: 'k3y',
      turnUrls: 'turn:127.0.0.1:3478?transport=udp, turns:turn.example:5349',
      stunUrls: 'stun:127.0.0.1:3478',
      turnTtl: 300,
    });
    const plain = await startServer('sqlite');
    try {
      const a = await makeTenant(s, 'ice');
      assert.equal((await s.http.get('/api/calls/ice-servers')).status, 401);
      const before = Math.floor(Date.now() / 1000);
      const r = await s.http.get('/api/calls/ice-servers', { token: a.user.token });
      assert.equal(r.status, 200, r.text);
      const body = r.json as IceServersResponse;
      assert.deepEqual(body.iceServers[0], { urls: ['stun:127.0.0.1:3478'] });
      const turn = body.iceServers[1]!;
      assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example:5349']);
      const [expiry, user] = turn.username!.split(':');
      assert.equal(user, a.user.id);
      assert.ok(Number(expiry) >= before + 300 && Number(expiry) <= before + 302);
      assert.equal(Date.parse(body.expiresAt!) / 1000, Number(expiry));
      assert.equal(turn.credential, createHmac('sha1', 'k3y').update(turn.username!).digest('base64'));

      const p = await makeTenant(plain, 'noice');
      const none = await plain.http.get('/api/calls/ice-servers', { token: p.user.token });
      assert.deepEqual(none.json, { iceServers: [], expiresAt: null });
    } finally {
      await Promise.all([s.close(), plain.close()]);
    }
  });
});
