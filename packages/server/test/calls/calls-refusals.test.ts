/**
 * Bad input into call control over real sockets: other tenants by address and id, unknown users,
 * calling yourself, the per-user limit on both sides, answering or relaying into someone else's call,
 * a device of a party that holds no leg, and malformed SDP at every entry. After each refusal the call
 * it aimed at still works (its state was not corrupted) and the call table ends empty.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { CallView } from '@parley/protocol';
import { makeTenant, makeUser, startServer, type TenantFixture, type TestServer } from '../helpers/server.ts';
import { answerSdp, candidate, clean, device, offer, sdp, type Device } from './call-devices.ts';

describe('call refusals', () => {
  let s: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  let bob: { id: string; address: string; token: string };
  let carol: { id: string; address: string; token: string };
  const open: Device[] = [];
  const dev = async (token: string, id?: string) => {
    const d = await device(s, token, id);
    open.push(d);
    return d;
  };

  before(async () => {
    s = await startServer('sqlite', { callRingTimeout: 5, callMaxPerUser: 2, realtimeBurst: 200 });
    a = await makeTenant(s, 'refa');
    b = await makeTenant(s, 'refb');
    bob = await makeUser(s, a.id, `bob@${a.domain}`);
    carol = await makeUser(s, a.id, `carol@${a.domain}`);
  });
  afterEach(async () => {
    await clean(s);
    await Promise.all(open.splice(0).map((d) => d.close()));
  });
  after(() => s.close());

  const place = (d: Device, to: Record<string, unknown>, o = offer()) =>
    d.request<CallView>({ t: 'call.place', to, offer: o });

  /** A call from alice to bob, ringing on bob's one device. */
  async function ringing() {
    const alice = await dev(a.user.token, 'alice-1');
    const bob1 = await dev(bob.token, 'bob-1');
    const r = await place(alice, { userId: bob.id });
    assert.ok(r.ok);
    await bob1.incoming(r.data.id);
    return { alice, bob1, call: r.data };
  }

  /** Answers and hangs up: proves the call still behaves after whatever was refused. */
  async function stillWorks(alice: Device, bob1: Device, callId: string) {
    await bob1.ok({ t: 'call.answer', callId, answer: answerSdp() });
    await alice.update(callId, 'connected');
    await alice.ok({ t: 'call.hangup', callId });
    await bob1.update(callId, 'ended', 'hangup');
  }

  test('another tenant by address: not_in_tenant; by id: not_found; unknown: not_found; yourself: refused', async () => {
    const alice = await dev(a.user.token);
    const other = await dev(b.user.token); // online, so a leak would ring
    let r = await place(alice, { address: b.user.address });
    assert.deepEqual(r.ok ? r : { code: r.code, field: r.field }, {
      code: 'not_in_tenant',
      field: 'to.address',
    });
    r = await place(alice, { userId: b.user.id });
    assert.equal(!r.ok && r.code, 'not_found');
    r = await place(alice, { address: `nobody@${a.domain}` });
    assert.equal(!r.ok && r.code, 'not_found');
    r = await place(alice, { userId: 'usr_doesnotexist' });
    assert.equal(!r.ok && r.code, 'not_found');
    r = await place(alice, { userId: a.user.id });
    assert.equal(!r.ok && r.code, 'validation_failed');
    await other.sync();
    assert.equal(other.of('call.incoming').length, 0);
    assert.equal(s.app.calls.size, 0);
  });

  test('the per-user limit: the caller past it is refused limit_exceeded, a callee at it is busy', async () => {
    const alice = await dev(a.user.token);
    const bob1 = await dev(bob.token);
    const carol1 = await dev(carol.token);
    const one = await place(alice, { userId: bob.id });
    const two = await place(alice, { userId: carol.id });
    assert.ok(one.ok && two.ok);
    const three = await place(alice, { userId: carol.id });
    assert.equal(!three.ok && three.code, 'limit_exceeded');
    // Alice is at the limit (2): carol calling her gets busy, and alice's devices do not ring.
    const toAlice = await place(carol1, { userId: a.user.id });
    assert.ok(toAlice.ok);
    assert.equal(toAlice.data.state, 'ended');
    assert.equal(toAlice.data.endReason, 'busy');
    await alice.sync();
    assert.equal(alice.of('call.incoming').length, 0);
    // Ending one frees a place.
    await alice.ok({ t: 'call.hangup', callId: one.data.id });
    await bob1.update(one.data.id, 'ended', 'cancelled');
    const again = await place(alice, { userId: bob.id });
    assert.ok(again.ok && again.data.state === 'ringing');
    await alice.ok({ t: 'call.hangup', callId: again.data.id });
    await alice.ok({ t: 'call.hangup', callId: two.data.id });
  });

  test("someone else's call: answer, decline, hang up, ICE and SDP are not_found; an unknown id too", async () => {
    const { alice, bob1, call } = await ringing();
    const carol1 = await dev(carol.token);
    const stranger = await dev(b.user.token);
    for (const d of [carol1, stranger]) {
      assert.equal(await d.refused({ t: 'call.answer', callId: call.id, answer: answerSdp() }), 'not_found');
      assert.equal(await d.refused({ t: 'call.decline', callId: call.id }), 'not_found');
      assert.equal(await d.refused({ t: 'call.hangup', callId: call.id }), 'not_found');
      assert.equal(await d.refused({ t: 'call.ice', callId: call.id, candidate: candidate(1) }), 'not_found');
      assert.equal(await d.refused({ t: 'call.sdp', callId: call.id, description: offer() }), 'not_found');
    }
    assert.equal(await bob1.refused({ t: 'call.hangup', callId: 'call_unknown' }), 'not_found');
    await stillWorks(alice, bob1, call.id);
    await alice.sync();
    assert.equal(alice.of('call.ice', call.id).length, 0, 'nothing foreign was relayed');
  });

  test('a device of a party that holds no leg, and frames the state does not allow: call_state', async () => {
    const { alice, bob1, call } = await ringing();
    const alice2 = await dev(a.user.token, 'alice-2');
    // Alice's other device holds no leg.
    assert.equal(await alice2.refused({ t: 'call.hangup', callId: call.id }), 'call_state');
    assert.equal(
      await alice2.refused({ t: 'call.ice', callId: call.id, candidate: candidate(1) }),
      'call_state',
    );
    // The caller cannot answer or decline its own call; before the answer there is no renegotiation.
    assert.equal(
      await alice.refused({ t: 'call.answer', callId: call.id, answer: answerSdp() }),
      'call_state',
    );
    assert.equal(await alice.refused({ t: 'call.decline', callId: call.id }), 'call_state');
    assert.equal(await alice.refused({ t: 'call.sdp', callId: call.id, description: offer() }), 'call_state');
    // A ringing device sends its candidates after answering.
    assert.equal(
      await bob1.refused({ t: 'call.ice', callId: call.id, candidate: candidate(2) }),
      'call_state',
    );
    await stillWorks(alice, bob1, call.id);
  });

  test('malformed SDP is invalid_sdp at every entry, and the call goes on', async () => {
    const alice = await dev(a.user.token);
    await dev(bob.token);
    const bad: Array<[string, { type: string; sdp: string }, string]> = [
      [
        'no media line',
        { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' },
        'media line',
      ],
      ['no ICE ufrag', offer({ ufrag: null }), 'ICE'],
      ['no fingerprint', offer({ fingerprint: false }), 'fingerprint'],
      ['no origin', { type: 'offer', sdp: 'v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n' }, 'o='],
      ['garbage after v=0', { type: 'offer', sdp: 'v=0\r\nthis is not sdp\r\n' }, ''],
      ['an answer where an offer belongs', answerSdp(), 'offer'],
    ];
    for (const [what, o, mention] of bad) {
      const r = await place(alice, { userId: bob.id }, o as ReturnType<typeof offer>);
      assert.ok(!r.ok, what);
      assert.equal(r.code, 'invalid_sdp', `${what}: ${r.code}`);
      assert.equal(r.field, 'offer');
      assert.ok(r.message.includes(mention), `${what}: ${r.message}`);
    }
    // Not even v=0: the protocol schema refuses it first.
    const r = await place(alice, { userId: bob.id }, { type: 'offer', sdp: 'hello' } as ReturnType<
      typeof offer
    >);
    assert.equal(!r.ok && r.code, 'validation_failed');
    assert.equal(s.app.calls.size, 0, 'no call was made');

    await Promise.all(open.splice(0).map((d) => d.close()));
    const { alice: a1, bob1, call } = await ringing();
    for (const answer of [offer(), answerSdp({ fingerprint: false }), answerSdp({ ufrag: null })])
      assert.equal(await bob1.refused({ t: 'call.answer', callId: call.id, answer }), 'invalid_sdp');
    assert.equal(s.app.calls.get(call.id)?.state, 'ringing', 'a bad answer did not answer');
    await bob1.ok({ t: 'call.answer', callId: call.id, answer: answerSdp() });
    await a1.update(call.id, 'connected');
    assert.equal(
      await a1.refused({ t: 'call.sdp', callId: call.id, description: offer({ fingerprint: false }) }),
      'invalid_sdp',
    );
    await bob1.sync();
    assert.equal(bob1.of('call.sdp', call.id).length, 0, 'nothing bad was relayed');
    await a1.ok({ t: 'call.sdp', callId: call.id, description: offer({ ufrag: 'good' }) });
    await bob1.waitFrame(
      (f) => f.t === 'call.sdp' && (f.description as { sdp: string }).sdp === sdp({ ufrag: 'good' }),
    );
    await a1.ok({ t: 'call.hangup', callId: call.id });
  });

  test('the caller may keep only so many candidates before the answer', async () => {
    const { alice, bob1, call } = await ringing();
    let refused = 0;
    for (let i = 0; i < 70; i++) {
      const r = await alice.request({ t: 'call.ice', callId: call.id, candidate: candidate(i) });
      if (!r.ok) {
        assert.equal(r.code, 'limit_exceeded');
        refused++;
      }
    }
    assert.equal(refused, 70 - 64);
    await stillWorks(alice, bob1, call.id);
  });
});
