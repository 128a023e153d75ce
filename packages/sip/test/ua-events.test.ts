/**
 * The event framework over the in-memory network with a fake clock: SUBSCRIBE/NOTIFY (RFC 6665)
 * with refresh and expiry, unsubscribe, a NOTIFY that beats the 2xx, unsolicited NOTIFY; REFER
 * (RFC 3515) with sipfrag NOTIFYs and Replaces in Refer-To (RFC 3891).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createResponse,
  type IncomingRefer,
  type InviteSession,
  type Notifier,
  type ReferNotifier,
  parseReplaces,
  type SipRequest,
  type SubscriptionStateHeader,
} from '../src/index.ts';
import { isReq, makeUa, peer, run, sent, settle, world } from './ua-helpers.ts';

const A = peer('10.0.0.1');
const B = peer('10.0.0.2');

function watcher(maxExpires = 120) {
  const { net, clock } = world();
  const notifiers: Notifier[] = [];
  const b = makeUa(net, clock, B.address, {
    handlers: {
      onSubscribe: (sub) => {
        notifiers.push(sub.accept({ maxExpires, state: 'active', body: 'open', contentType: 'text/plain' }));
      },
    },
  });
  const a = makeUa(net, clock, A.address);
  return { net, clock, a, b, notifiers };
}

describe('SUBSCRIBE / NOTIFY (RFC 6665)', () => {
  test('subscribe, NOTIFY at once, refreshed before expiry for 10 minutes, then unsubscribed', async () => {
    const { net, clock, a, b, notifiers } = watcher(120);
    const sub = a.subscribe({
      target: 'sip:b@10.0.0.2',
      from: 'sip:a@10.0.0.1',
      event: 'presence',
      expires: 3600,
      dest: B,
    });
    const notes: SubscriptionStateHeader[] = [];
    sub.on('notify', (req, st) => notes.push({ ...st, reason: req.body.toString() }));
    const ok = await settle(clock, sub.subscribed);
    assert.equal(ok.status, 200);
    assert.equal(ok.get('expires'), '120', 'the notifier grants at most its maximum');
    await run(clock, 100);
    assert.equal(sub.state, 'active');
    assert.equal(notes[0]?.state, 'active');
    assert.equal(notes[0]?.reason, 'open');
    let refreshed = 0;
    notifiers[0]!.on('refreshed', () => refreshed++);
    await run(clock, 600_000, 200);
    assert.ok(refreshed >= 6, `${refreshed} refreshes in 10 minutes of 120 s grants`);
    assert.equal(notifiers[0]!.state, 'active');
    assert.equal(a.dialogCount, 1);
    await settle(clock, sub.unsubscribe());
    assert.equal(sub.state, 'terminated');
    assert.equal(notes.at(-1)?.state, 'terminated');
    assert.equal(a.dialogCount, 0);
    assert.equal(b.dialogCount, 0);
    assert.ok(sent(net, (m) => isReq(m, 'SUBSCRIBE')).every((e) => e.to.address === B.address));
  });

  test('no refresh reaches the notifier: it ends the subscription with terminated;reason=timeout', async () => {
    const { net, clock, a, notifiers } = watcher(60);
    const sub = a.subscribe({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', event: 'presence', dest: B });
    await settle(clock, sub.subscribed);
    await run(clock, 100);
    net.drop = (data) => data.toString().startsWith('SUBSCRIBE');
    let reason: string | undefined;
    sub.on('terminated', (r) => (reason = r));
    const ended: string[] = [];
    notifiers[0]!.on('terminated', (r) => ended.push(r));
    await run(clock, 61_000, 100);
    assert.deepEqual(ended, ['timeout']);
    assert.equal(reason, 'timeout');
  });

  test('a NOTIFY that arrives before the 2xx creates the dialog (4.1.2.4)', async () => {
    const { net, clock } = world();
    const a = makeUa(net, clock, A.address);
    makeUa(net, clock, B.address, {
      handlers: {
        onSubscribe: (sub) => {
          // Send the NOTIFY first by holding the 200 back: accept answers and notifies, so
          // drop the first 200 and let the retransmitted SUBSCRIBE get it again.
          sub.accept({ state: 'active' });
        },
      },
    });
    let dropped = 0;
    net.drop = (data) =>
      data.toString().startsWith('SIP/2.0 200') && data.toString().includes('SUBSCRIBE') && dropped++ === 0;
    const sub = a.subscribe({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', event: 'dialog', dest: B });
    await run(clock, 100);
    assert.equal(sub.state, 'active', 'active from the NOTIFY alone');
    assert.ok(sub.dialog);
    assert.equal((await settle(clock, sub.subscribed)).status, 200);
    assert.equal(a.dialogCount, 1);
  });

  test('NOTIFY outside any subscription: 481 by default, or the unsolicited handler', async () => {
    const { net, clock } = world();
    const got: string[] = [];
    const b = makeUa(net, clock, B.address, {
      handlers: {
        onUnsolicitedNotify: (tx) => {
          got.push(tx.request.get('event') ?? '');
          tx.respond(createResponse(tx.request, 200));
        },
      },
    });
    const a = makeUa(net, clock, A.address);
    const mwi = await settle(
      clock,
      a.request({
        method: 'NOTIFY',
        target: 'sip:b@10.0.0.2',
        from: 'sip:vm@10.0.0.1',
        dest: B,
        headers: [
          ['Event', 'message-summary'],
          ['Subscription-State', 'active'],
        ],
        body: Buffer.from('Messages-Waiting: yes\r\n'),
        contentType: 'application/simple-message-summary',
      }),
    );
    assert.equal(mwi.response.status, 200);
    assert.deepEqual(got, ['message-summary']);
    const bare = await settle(
      clock,
      a.request({
        method: 'NOTIFY',
        target: 'sip:a@10.0.0.1',
        from: 'sip:b@10.0.0.2',
        dest: A,
        headers: [
          ['Event', 'presence'],
          ['Subscription-State', 'active'],
        ],
      }),
    );
    void b;
    assert.equal(bare.response.status, 481);
  });
});

describe('REFER (RFC 3515)', () => {
  async function call() {
    const { net, clock } = world();
    let callee: InviteSession | undefined;
    const b = makeUa(net, clock, B.address, {
      handlers: { onInvite: (inv) => void (callee = inv.accept()) },
    });
    const a = makeUa(net, clock, A.address);
    const caller = await settle(
      clock,
      a.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered,
    );
    await run(clock, 50);
    return { net, clock, a, b, caller, callee: callee! };
  }

  test('REFER in a call: 202, then sipfrag NOTIFYs 100, 180, 200; the subscription ends with the final one', async () => {
    const { net, clock, caller, callee } = await call();
    const refers: IncomingRefer[] = [];
    let n: ReferNotifier | undefined;
    callee.on('refer', (r) => {
      refers.push(r);
      n = r.accept();
    });
    const sender = caller.refer({ referTo: 'sip:carol@10.0.0.3' });
    const progress: number[] = [];
    sender.on('progress', (s) => progress.push(s));
    let ended: number | undefined | null = null;
    sender.on('terminated', (s) => (ended = s));
    assert.equal((await settle(clock, sender.accepted)).status, 202);
    assert.equal(refers[0]!.referTo?.uri.toString(), 'sip:carol@10.0.0.3');
    assert.equal(refers[0]!.replaces, undefined);
    await run(clock, 50);
    await settle(clock, n!.progress(180));
    await settle(clock, n!.progress(200));
    await run(clock, 50);
    assert.deepEqual(progress, [100, 180, 200]);
    assert.equal(ended, 200);
    const notifies = sent(net, (m) => isReq(m, 'NOTIFY')).map((e) => e.msg as SipRequest);
    assert.equal(notifies.length, 3);
    assert.match(notifies[0]!.get('event') ?? '', /^refer;id=\d+$/);
    assert.equal(notifies[2]!.get('subscription-state'), 'terminated;reason=noresource');
    assert.equal(notifies[2]!.contentType, 'message/sipfrag');
    assert.equal(caller.state, 'confirmed', 'the call itself goes on');
  });

  test('attended transfer: Replaces escaped in Refer-To is parsed back; a refused REFER gets 603', async () => {
    const { clock, caller, callee } = await call();
    const refers: IncomingRefer[] = [];
    callee.on('refer', (r) => (refers.push(r), r.reject()));
    const replaces = { callId: 'abc@10.0.0.9', toTag: 't1', fromTag: 'f1', earlyOnly: false };
    const sender = caller.refer({ referTo: 'sip:carol@10.0.0.3', replaces });
    assert.equal((await settle(clock, sender.accepted)).status, 603);
    assert.deepEqual(refers[0]!.replaces, replaces);
    assert.deepEqual(parseReplaces('x@y;from-tag=2;to-tag=1;early-only'), {
      callId: 'x@y',
      toTag: '1',
      fromTag: '2',
      earlyOnly: true,
    });
    assert.equal(parseReplaces('x@y;to-tag=1'), undefined);
  });
});
