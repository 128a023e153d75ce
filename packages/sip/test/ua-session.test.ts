/**
 * INVITE sessions after establishment, over the in-memory network with a fake clock: re-INVITE
 * and UPDATE (RFC 3311) with hold answered by direction, glare (491 and the retry timers of RFC
 * 3261 section 14.1), session timers (RFC 4028: refresh, expiry, 422), OPTIONS keep-alive.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { directionOf, type InviteSession, type SipRequest, type UserAgentCore } from '../src/index.ts';
import { isReq, makeUa, peer, run, SDP, sent, settle, world } from './ua-helpers.ts';

const A = peer('10.0.0.1');
const B = peer('10.0.0.2');

async function call(
  opts: { a?: Parameters<typeof makeUa>[3]; b?: Parameters<typeof makeUa>[3] } = {},
): Promise<{
  net: ReturnType<typeof world>['net'];
  clock: ReturnType<typeof world>['clock'];
  a: UserAgentCore;
  b: UserAgentCore;
  caller: InviteSession;
  callee: InviteSession;
}> {
  const { net, clock } = world();
  let callee: InviteSession | undefined;
  const b = makeUa(net, clock, B.address, {
    handlers: { onInvite: (inv) => void (callee = inv.accept({ body: SDP(4000) })) },
    ...opts.b,
  });
  const a = makeUa(net, clock, A.address, opts.a);
  const caller = await settle(
    clock,
    a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B, sdp: SDP(3000) }).answered,
  );
  await run(clock, 50);
  return { net, clock, a, b, caller, callee: callee! };
}

describe('re-INVITE and UPDATE', () => {
  test('hold both ways: the answer mirrors the direction, each side sees the change', async () => {
    const { clock, caller, callee } = await call();
    const seen: string[] = [];
    callee.on('modified', (c) => c.remote && seen.push(`callee ${c.method} ${directionOf(c.answer!)}`));
    const res = await settle(clock, caller.reinvite({ body: SDP(3000, 'sendonly') }));
    assert.equal(res.status, 200);
    assert.equal(directionOf(res.body), 'recvonly');
    await run(clock, 50);
    const back = await settle(clock, callee.reinvite({ body: SDP(4000, 'inactive') }));
    assert.equal(directionOf(back.body), 'inactive');
    const upd = await settle(clock, caller.update({ body: SDP(3000, 'sendrecv') }));
    assert.equal(directionOf(upd.body), 'sendrecv');
    assert.deepEqual(seen, ['callee INVITE recvonly', 'callee UPDATE sendrecv']);
    assert.equal(caller.state, 'confirmed');
    assert.equal(callee.state, 'confirmed');
  });

  test('glare: both re-INVITE at once, both get 491, both succeed after the section 14.1 waits', async () => {
    const { net, clock, caller, callee } = await call();
    const t0 = clock.now();
    const p1 = caller.reinvite({ body: SDP(3000, 'sendonly') });
    const p2 = callee.reinvite({ body: SDP(4000, 'sendonly') });
    const [r1, r2] = await settle(clock, Promise.all([p1, p2]));
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    const glares = sent(net, (m) => !m.isRequest && (m as unknown as { status: number }).status === 491);
    assert.equal(glares.length, 2, 'each side answered the other 491');
    // The callee (not the Call-ID owner) retries within 2 s, the caller after 2.1-4 s.
    assert.ok(clock.now() - t0 >= 2100, `${clock.now() - t0} ms`);
    assert.ok(clock.now() - t0 < 6000, `${clock.now() - t0} ms`);
  });

  test('a second re-INVITE while one waits for its ACK gets 500 with Retry-After (14.2)', async () => {
    const { net, clock, caller, callee } = await call();
    net.drop = (data) => data.toString().startsWith('ACK'); // the callee's 2xx stays un-ACKed
    assert.equal((await settle(clock, caller.reinvite({ body: SDP(3000, 'sendonly') }))).status, 200);
    const second = await settle(clock, caller.reinvite({ body: SDP(3000) }));
    assert.equal(second.status, 500);
    assert.match(second.get('retry-after') ?? '', /^([0-9]|10)$/);
    assert.equal(callee.state, 'confirmed');
  });
});

describe('session timers (RFC 4028)', () => {
  const timer = { sessionTimer: { sessionExpires: 90, minSE: 90 } };

  test('the caller refreshes every half interval with UPDATE; the call outlives many intervals', async () => {
    const { net, clock, caller, callee } = await call({ a: { session: timer }, b: { session: timer } });
    assert.deepEqual(caller.sessionTimer, { interval: 90, weRefresh: true });
    assert.deepEqual(callee.sessionTimer, { interval: 90, weRefresh: false });
    await run(clock, 300_000, 100);
    const updates = sent(net, (m) => isReq(m, 'UPDATE'));
    assert.ok(updates.length >= 6, `${updates.length} refreshes in 300 s`);
    assert.ok(updates.every((e) => e.to.address === B.address));
    assert.equal(caller.state, 'confirmed');
    assert.equal(callee.state, 'confirmed');
  });

  test('refreshes that never arrive: the callee ends the call at interval - min(32, interval/3)', async () => {
    const { net, clock, callee } = await call({ a: { session: timer }, b: { session: timer } });
    net.drop = (data) => data.toString().startsWith('UPDATE');
    let reason: string | undefined;
    let at = 0;
    const t0 = clock.now();
    callee.on('terminated', (r) => ((reason = r), (at = clock.now() - t0)));
    await run(clock, 70_000, 50);
    assert.equal(reason, 'session-expired');
    assert.ok(at >= 59_000 && at <= 61_000, `ended after ${at} ms`);
    assert.ok(sent(net, (m) => isReq(m, 'BYE')).length >= 1);
  });

  test('an interval below our Min-SE gets 422; the caller retries with the Min-SE asked for', async () => {
    const { net, clock, caller } = await call({
      a: { session: { sessionTimer: { sessionExpires: 60, minSE: 60 } } },
      b: { session: { sessionTimer: { sessionExpires: 1800, minSE: 120 } } },
    });
    const invites = sent(net, (m) => isReq(m, 'INVITE')).map((e) =>
      (e.msg as SipRequest).get('session-expires'),
    );
    assert.deepEqual(invites, ['60', '120']);
    assert.equal(caller.sessionTimer?.interval, 120);
  });
});

describe('OPTIONS keep-alive', () => {
  test('a peer that stops answering ends the session after the OPTIONS times out', async () => {
    const { net, clock, caller } = await call({ a: { session: { keepAliveMs: 10_000 } } });
    await run(clock, 25_000, 100);
    assert.ok(sent(net, (m) => isReq(m, 'OPTIONS')).length >= 2);
    assert.equal(caller.state, 'confirmed');
    net.drop = (_d, from) => from.address === B.address;
    let reason: string | undefined;
    caller.on('terminated', (r) => (reason = r));
    await run(clock, 50_000, 100);
    assert.equal(reason, 'keepalive-failed');
  });
});

describe('late offer (RFC 3261 section 13.2.1)', () => {
  test('an INVITE without SDP: our 2xx offers, the ACK’s body becomes the remote description', async () => {
    const { net, clock } = world();
    let callee: InviteSession | undefined;
    let atAnswer: Buffer | undefined | null = null;
    const b = makeUa(net, clock, B.address, {
      handlers: {
        onInvite: (inv) => {
          callee = inv.accept({ body: SDP(4000) });
          atAnswer = callee!.remoteSdp;
        },
      },
    });
    const a = makeUa(net, clock, A.address);
    // The caller answers the 2xx's offer in its ACK (this stack's UAC sends none, so it is added here).
    const sendAck = a.endpoint.sendAck.bind(a.endpoint);
    a.endpoint.sendAck = (ack, dest) => {
      ack.set('Content-Type', 'application/sdp');
      ack.body = Buffer.from(SDP(3000));
      sendAck(ack, dest);
    };
    const caller = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered,
    );
    await run(clock, 50);
    assert.equal(atAnswer, undefined, 'no offer in the INVITE');
    assert.equal(caller.remoteSdp?.toString(), SDP(4000), 'the 2xx carried the offer');
    assert.equal(callee!.remoteSdp?.toString(), SDP(3000), 'the answer read from the ACK');
    assert.equal(callee!.state, 'confirmed');
    await Promise.all([a.close(), b.close()]);
  });
});
