/**
 * The endpoint pipeline over the in-memory network with a fake clock: stateless error responses,
 * received/rport, per-source limits, and whole calls between two endpoints, with and without loss.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AckWait,
  createResponse,
  Dialog,
  FakeClock,
  InviteServerTransaction,
  MemoryNetwork,
  newTag,
  type Peer,
  SipEndpoint,
  type SipResponse,
  type EndpointLimits,
  UserAgentCore,
} from '../src/index.ts';

const A: Peer = { protocol: 'UDP', address: '10.0.0.1', port: 5060 };
const B: Peer = { protocol: 'UDP', address: '10.0.0.2', port: 5060 };

/** A UAS endpoint on B answering INVITE with 200 (with 2xx retransmission) and BYE/OPTIONS with 200. */
function uas(net: MemoryNetwork, clock: FakeClock, limits?: EndpointLimits) {
  const dialogs = new Map<string, AckWait>();
  const ep: SipEndpoint = new SipEndpoint({
    advertisedAddress: B.address,
    clock,
    limits,
    user: {
      onRequest(tx) {
        const req = tx.request;
        if (tx instanceof InviteServerTransaction) {
          const tag = newTag();
          const d = Dialog.fromRequest(req, tag);
          const ok = createResponse(req, 200, {
            toTag: tag,
            headers: [['Contact', `<sip:b@${B.address}:${B.port}>`]],
          });
          dialogs.set(d.key, new AckWait(clock, tx, ok, ep.layer.timers, () => {}));
        } else if (req.method !== 'ACK') tx.respond(createResponse(req, 200));
      },
      onAck(ack) {
        dialogs.get(`${ack.callId}|${ack.to.tag}|${ack.from.tag}`)?.ackReceived();
      },
    },
  });
  ep.addTransport(net.bind(B.address, B.port, ep));
  return ep;
}

/** A user-agent core on A placing calls. */
function uac(net: MemoryNetwork, clock: FakeClock) {
  const ua = new UserAgentCore({
    advertisedAddress: A.address,
    clock,
    policy: {
      allow: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'],
      supported: [],
      accept: ['application/sdp'],
      isLocalTarget: () => true,
    },
  });
  ua.endpoint.addTransport(net.bind(A.address, A.port, ua.endpoint));
  const call = () => ua.invite({ target: 'sip:b@10.0.0.2', from: 'sip:a@10.0.0.1', dest: B }).answered;
  return { ua, call };
}

/** Runs microtasks and fake time until `p` settles. */
async function settle<T>(clock: FakeClock, p: Promise<T>, maxMs = 120_000): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => ((done = true), (value = v)),
    (e) => ((done = true), (error = e)),
  );
  for (let t = 0; t < maxMs && !done; t += 10) {
    for (let i = 0; i < 20; i++) await Promise.resolve();
    clock.advance(10);
  }
  if (!done) throw new Error('did not settle');
  if (error) throw error;
  return value as T;
}

/** Sends raw bytes from a bare transport and collects what comes back. */
function probe(net: MemoryNetwork, from: Peer) {
  const got: SipResponse[] = [];
  const t = net.bind(from.address, from.port, {
    onMessage: (m) => got.push(m as SipResponse),
    onParseError: () => {},
  });
  return { got, send: (text: string) => t.send(Buffer.from(text), B) };
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const OPTIONS = (branch: string, via = `SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}`) =>
  `OPTIONS sip:b@10.0.0.2 SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\n` +
  `Call-ID: ${branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

describe('receive pipeline', () => {
  test('stateless 400 for a malformed request, 505 for SIP/3.0, nothing for a malformed response', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const ep = uas(net, clock);
    const p = probe(net, A);
    p.send(OPTIONS('z9hG4bK1').replace('From: <sip:a@x>;tag=1', 'From: "unterminated <sip:a@x>'));
    p.send(OPTIONS('z9hG4bK2').replace('SIP/2.0\r\nVia', 'SIP/3.0\r\nVia'));
    p.send('SIP/2.0 999 Nope\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n\r\n');
    await flush();
    assert.deepEqual(
      p.got.map((r) => r.status),
      [400, 505],
    );
    assert.equal(ep.stats.invalid + ep.stats.parseErrors, 3);
  });

  test('received and rport are added to the top Via (RFC 3581)', async () => {
    const net = new MemoryNetwork();
    uas(net, new FakeClock());
    const p = probe(net, A);
    p.send(OPTIONS('z9hG4bK3', 'SIP/2.0/UDP phone.invalid:5999;rport;branch=z9hG4bK3'));
    await flush();
    assert.equal(p.got[0]!.topVia.received, '10.0.0.1');
    assert.equal(p.got[0]!.topVia.rport, 5060);
  });

  test('per-source rate limit drops the excess; other sources are unaffected', async () => {
    const net = new MemoryNetwork();
    const ep = uas(net, new FakeClock(), { messagesPerSecondPerSource: 5, messageBurstPerSource: 5 });
    const p = probe(net, A);
    const q = probe(net, { protocol: 'UDP', address: '10.0.0.3', port: 5060 });
    for (let i = 0; i < 20; i++) p.send(OPTIONS(`z9hG4bKr${i}`));
    q.send(OPTIONS('z9hG4bKq'));
    await flush();
    assert.equal(p.got.length, 5);
    assert.equal(q.got.length, 1);
    assert.equal(ep.stats.rateLimited, 15);
  });

  test('per-source transaction limit answers 503 with Retry-After', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const ep = new SipEndpoint({
      advertisedAddress: B.address,
      clock,
      limits: { serverTransactionsPerSource: 3 },
      user: { onRequest() {} }, // never answers: transactions stay open
    });
    ep.addTransport(net.bind(B.address, B.port, ep));
    const p = probe(net, A);
    for (let i = 0; i < 5; i++) p.send(OPTIONS(`z9hG4bKt${i}`));
    await flush();
    assert.deepEqual(
      p.got.map((r) => r.status),
      [503, 503],
    );
    assert.equal(p.got[0]!.get('retry-after'), '5');
    clock.advance(32_000); // the silent TU's transactions end
    p.send(OPTIONS('z9hG4bKt9'));
    await flush();
    assert.equal(ep.layer.serverCountFor(A.address), 1);
  });
});

describe('memory bound on held transactions', () => {
  test('completed transactions are not live, but past serverTransactionsHeld new requests get 503', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const ep = new SipEndpoint({
      advertisedAddress: B.address,
      clock,
      limits: { serverTransactionsPerSource: 1, serverTransactionsHeld: 3 },
      user: { onRequest: (tx) => tx.respond(createResponse(tx.request, 200)) },
    });
    ep.addTransport(net.bind(B.address, B.port, ep));
    const p = probe(net, A);
    for (let i = 0; i < 5; i++) {
      p.send(OPTIONS(`z9hG4bKh${i}`));
      await flush();
    }
    assert.deepEqual(
      p.got.map((r) => r.status),
      [200, 200, 200, 503, 503],
    );
    clock.advance(32_000); // Timer J ends the completed ones
    p.send(OPTIONS('z9hG4bKh9'));
    await flush();
    assert.equal(p.got.at(-1)!.status, 200);
  });
});

describe('calls between two endpoints', () => {
  test('INVITE / 200 / ACK / BYE', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const server = uas(net, clock);
    const client = uac(net, clock);
    const call = await settle(clock, client.call());
    assert.equal(call.state, 'confirmed');
    const bye = await settle(clock, call.bye());
    assert.equal(bye?.status, 200);
    assert.equal(client.ua.dialogCount, 0);
    assert.equal(server.stats.invalid, 0);
  });

  test('with 30% loss both ways, 20 calls still complete through retransmissions', async () => {
    const net = new MemoryNetwork();
    let seed = 7;
    net.drop = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff < 0.3;
    };
    const clock = new FakeClock();
    uas(net, clock);
    const client = uac(net, clock);
    let ok = 0;
    for (let i = 0; i < 20; i++) {
      const call = await settle(clock, client.call());
      if ((await settle(clock, call.bye()))?.status === 200) ok++;
    }
    assert.equal(ok, 20);
    const resent = net.log.length;
    assert.ok(resent > 20 * 5, 'retransmissions happened');
  });

  test('a lost ACK: the UAS retransmits the 2xx and the UAC answers each copy with the ACK again', async () => {
    const net = new MemoryNetwork();
    let dropAcks = 2;
    net.drop = (data) => data.toString().startsWith('ACK') && dropAcks-- > 0;
    const clock = new FakeClock();
    uas(net, clock);
    const client = uac(net, clock);
    const call = await settle(clock, client.call());
    for (let t = 0; t < 4000; t += 10) {
      clock.advance(10);
      await flush();
    }
    const oks = net.log.filter((e) => e.data.toString().startsWith('SIP/2.0 200')).length;
    const acks = net.log.filter((e) => e.data.toString().startsWith('ACK')).length;
    assert.ok(oks >= 3, `2xx sent ${oks} times`);
    assert.equal(acks, 3);
    assert.equal(call.dialog.state, 'confirmed');
  });
});
