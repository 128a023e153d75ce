/**
 * Peer classes over the in-memory network with a fake clock: unknown sources are rate-limited
 * before parsing and answered statelessly; carriers get 503 with Retry-After, never a drop;
 * repeated failed authentications block a source; completed transactions are not live.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createResponse,
  FakeClock,
  MemoryNetwork,
  type Peer,
  PeerPolicy,
  type PeerPolicyOptions,
  SipEndpoint,
  type SipResponse,
} from '../src/index.ts';

const SERVER: Peer = { protocol: 'UDP', address: '10.0.0.2', port: 5060 };
const UNKNOWN: Peer = { protocol: 'UDP', address: '10.0.0.7', port: 5060 };
const CARRIER: Peer = { protocol: 'UDP', address: '192.0.2.1', port: 5060 };
const OTHER: Peer = { protocol: 'UDP', address: '10.0.0.8', port: 5060 };

function policy(clock: FakeClock, over: Partial<PeerPolicyOptions> = {}) {
  return new PeerPolicy({
    clock,
    carriers: { isCarrier: (a) => a === CARRIER.address },
    unknown: { rate: 5, burst: 5, transactions: 10 },
    device: { rate: 50, burst: 50, transactions: 10, trustMs: 60_000 },
    carrier: { rate: 1000, burst: 1000, transactions: 2, retryAfterS: 7 },
    block: { failures: 3, windowMs: 60_000, durationMs: 30_000 },
    ...over,
  });
}

/** A server answering every INVITE with `inviteStatus` and everything else with 200. */
function server(net: MemoryNetwork, clock: FakeClock, peers: PeerPolicy, inviteStatus = 480) {
  const ep = new SipEndpoint({
    advertisedAddress: SERVER.address,
    clock,
    peers,
    user: {
      onRequest(tx) {
        const req = tx.request;
        tx.respond(createResponse(req, req.method === 'INVITE' ? inviteStatus : 200));
      },
    },
  });
  ep.addTransport(net.bind(SERVER.address, SERVER.port, ep));
  return ep;
}

function probe(net: MemoryNetwork, from: Peer) {
  const got: SipResponse[] = [];
  const t = net.bind(from.address, from.port, {
    onMessage: (m) => got.push(m as SipResponse),
    onParseError: () => {},
  });
  return { got, send: (text: string) => t.send(Buffer.from(text), SERVER) };
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const request = (method: string, from: Peer, branch: string) =>
  `${method} sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP ${from.address}:${from.port};branch=z9hG4bK${branch}\r\n` +
  `Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: ${branch}\r\nCSeq: 1 ${method}\r\n` +
  `Contact: <sip:a@${from.address}>\r\nContent-Length: 0\r\n\r\n`;

describe('peer classes', () => {
  test('an unknown source over its rate is dropped before parsing; another source is still answered', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const peers = policy(clock);
    const ep = server(net, clock, peers);
    const flood = probe(net, UNKNOWN);
    const other = probe(net, OTHER);
    for (let i = 0; i < 200; i++) flood.send(request('OPTIONS', UNKNOWN, `f${i}`));
    other.send(request('OPTIONS', OTHER, 'o1'));
    await flush();
    assert.equal(flood.got.length, 5);
    assert.deepEqual(
      other.got.map((r) => r.status),
      [200],
    );
    assert.equal(ep.stats.notAdmitted, 195);
    assert.equal(ep.stats.received, 6, 'the dropped ones were never parsed');
    assert.equal(peers.stats.unknownDropped, 195);
  });

  test('an INVITE from an unknown source that is never ACKed draws one response, not 11', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const ep = server(net, clock, policy(clock));
    const p = probe(net, UNKNOWN);
    p.send(request('INVITE', UNKNOWN, 'i1'));
    await flush();
    for (let t = 0; t < 40_000; t += 100) {
      clock.advance(100);
      await flush();
    }
    assert.deepEqual(
      p.got.map((r) => r.status),
      [480],
    );
    assert.equal(ep.layer.serverCount, 0, 'nothing kept for it');
    // A retransmission is a new request with one new answer (as Kamailio's sl): no amplification.
    p.send(request('INVITE', UNKNOWN, 'i1'));
    await flush();
    assert.equal(p.got.length, 2);
  });

  test('a carrier is stateful: its un-ACKed 480 is retransmitted (Timer G) as RFC 3261 says', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    server(net, clock, policy(clock));
    const p = probe(net, CARRIER);
    p.send(request('INVITE', CARRIER, 'c1'));
    await flush();
    for (let t = 0; t < 40_000; t += 100) {
      clock.advance(100);
      await flush();
    }
    assert.ok(p.got.length > 5, `${p.got.length} responses`);
  });

  test('completed transactions do not count against the live limit', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    // Limit 2 in progress; 20 calls answered at once, each kept in Completed for Timer H/J.
    const ep = server(net, clock, policy(clock));
    const p = probe(net, CARRIER);
    for (let i = 0; i < 20; i++) {
      p.send(request('INVITE', CARRIER, `k${i}`));
      await flush();
      clock.advance(100);
    }
    assert.deepEqual(new Set(p.got.map((r) => r.status)), new Set([480]));
    assert.ok(ep.layer.serverCount >= 20, 'they are still held, absorbing retransmissions');
    assert.equal(ep.layer.inProgressCount, 0);
  });

  test('a carrier over its live limit gets 503 with Retry-After, never a silent drop', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const peers = policy(clock);
    const ep = new SipEndpoint({
      advertisedAddress: SERVER.address,
      clock,
      peers,
      tryingDelayMs: -1,
      user: { onRequest() {} }, // never answers: all stay in progress
    });
    ep.addTransport(net.bind(SERVER.address, SERVER.port, ep));
    const p = probe(net, CARRIER);
    for (let i = 0; i < 300; i++) p.send(request('INVITE', CARRIER, `l${i}`));
    await flush();
    assert.equal(p.got.length, 298, 'every request over the limit answered');
    assert.ok(p.got.every((r) => r.status === 503 && r.get('retry-after') === '7'));
    assert.equal(ep.stats.notAdmitted, 0);
  });

  test('a carrier over its request rate gets 503 with Retry-After', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const peers = policy(clock, { carrier: { rate: 3, burst: 3, transactions: 100, retryAfterS: 9 } });
    server(net, clock, peers);
    const p = probe(net, CARRIER);
    for (let i = 0; i < 10; i++) p.send(request('OPTIONS', CARRIER, `r${i}`));
    await flush();
    assert.deepEqual(
      p.got.map((r) => r.status),
      [200, 200, 200, 503, 503, 503, 503, 503, 503, 503],
    );
    assert.equal(p.got[3]!.get('retry-after'), '9');
    clock.advance(1000);
    p.send(request('OPTIONS', CARRIER, 'r-later'));
    await flush();
    assert.equal(p.got.at(-1)!.status, 200);
  });

  test('repeated failed authentications block the address before parsing, until the block ends', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const peers = policy(clock);
    const ep = server(net, clock, peers);
    const p = probe(net, UNKNOWN);
    assert.equal(peers.authenticationFailed(UNKNOWN), false);
    assert.equal(peers.authenticationFailed(UNKNOWN), false);
    assert.equal(peers.authenticationFailed(UNKNOWN), true);
    p.send(request('OPTIONS', UNKNOWN, 'b1'));
    await flush();
    assert.equal(p.got.length, 0);
    assert.equal(ep.stats.received, 0);
    assert.equal(peers.stats.blockedDropped, 1);
    clock.advance(30_000);
    p.send(request('OPTIONS', UNKNOWN, 'b2'));
    await flush();
    assert.deepEqual(
      p.got.map((r) => r.status),
      [200],
    );
  });

  test('failures spread wider than the window do not block', () => {
    const clock = new FakeClock();
    const peers = policy(clock);
    for (let i = 0; i < 10; i++) {
      assert.equal(peers.authenticationFailed(UNKNOWN), false);
      if (i % 2 === 1) clock.advance(61_000);
    }
    assert.equal(peers.classify(UNKNOWN.address, UNKNOWN.port, 'UDP'), 'unknown');
  });

  test('a device is a device only after authentication, by address, port and transport, for a while', () => {
    const clock = new FakeClock();
    const peers = policy(clock);
    assert.equal(peers.classify(UNKNOWN.address, 5060, 'UDP'), 'unknown');
    peers.authenticated(UNKNOWN);
    assert.equal(peers.classify(UNKNOWN.address, 5060, 'UDP'), 'device');
    assert.equal(peers.classify(UNKNOWN.address, 5061, 'UDP'), 'unknown', 'another port is not the device');
    assert.equal(peers.classify(UNKNOWN.address, 5060, 'TCP'), 'unknown');
    assert.equal(peers.ruleFor(UNKNOWN).stateless, false);
    clock.advance(60_000);
    assert.equal(peers.classify(UNKNOWN.address, 5060, 'UDP'), 'unknown');
  });
});
