/**
 * RFC 3261 section 17 with a fake clock: every timer (A to M, with RFC 6026's L and M), every
 * retransmission and every absorption case, over UDP and over a reliable transport.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FakeClock,
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteServerTransaction,
  TransactionLayer,
  createResponse,
  type Peer,
  type ServerTransaction,
  type SipRequest,
  type SipResponse,
} from '../src/index.ts';
import { ackFor, firstLine, reply, request, TCP_PEER, UDP_PEER } from './helpers.ts';

function setup() {
  const clock = new FakeClock();
  const sent: Array<{ line: string; data: Buffer; dest: Peer }> = [];
  const requests: ServerTransaction[] = [];
  const acks: SipRequest[] = [];
  const stray: SipResponse[] = [];
  let failSends = false;
  const layer = new TransactionLayer({
    clock,
    send: (data, dest) => {
      if (failSends) throw new Error('unreachable');
      sent.push({ line: firstLine(data), data, dest });
    },
    user: {
      onRequest: (tx) => requests.push(tx),
      onAck: (ack) => acks.push(ack),
      onStrayResponse: (res) => stray.push(res),
    },
  });
  const lines = () => sent.map((s) => s.line);
  return { clock, sent, lines, requests, acks, stray, layer, fail: () => (failSends = true) };
}

function clientUser() {
  const got = { responses: [] as number[], timeout: 0, transportError: 0, terminated: 0 };
  return {
    got,
    tu: {
      onResponse: (r: SipResponse) => got.responses.push(r.status),
      onTimeout: () => got.timeout++,
      onTransportError: () => got.transportError++,
      onTerminated: () => got.terminated++,
    },
  };
}

const INVITE = 'INVITE sip:bob@127.0.0.1 SIP/2.0';
const T1 = 500;

describe('INVITE client transaction (17.1.1)', () => {
  test('Timer A retransmits at T1, 2T1, 4T1... and Timer B times out at 64*T1', () => {
    const { clock, sent, layer } = setup();
    const { got, tu } = clientUser();
    const tx = layer.sendRequest(request('INVITE'), UDP_PEER, tu);
    const times: number[] = [];
    let count = sent.length;
    for (let t = 0; t < 64 * T1; t += 50) {
      clock.advance(50);
      if (sent.length !== count) {
        times.push(clock.now());
        count = sent.length;
      }
    }
    // 500, 1500, 3500, 7500, 15500, 31500 (A doubles without the T2 cap for INVITE)
    assert.deepEqual(times, [500, 1500, 3500, 7500, 15500, 31500]);
    assert.equal(got.timeout, 1);
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.clientCount, 0);
  });

  test('over a reliable transport there is no Timer A, and Timer B still fires', () => {
    const { clock, sent, layer } = setup();
    const { got, tu } = clientUser();
    layer.sendRequest(request('INVITE', { transport: 'TCP' }), TCP_PEER, tu);
    clock.advance(64 * T1 - 1);
    assert.equal(sent.length, 1);
    assert.equal(got.timeout, 0);
    clock.advance(1);
    assert.equal(got.timeout, 1);
  });

  test('1xx moves to Proceeding: retransmissions stop and Timer B no longer applies', () => {
    const { clock, sent, layer } = setup();
    const { got, tu } = clientUser();
    const req = request('INVITE');
    const tx = layer.sendRequest(req, UDP_PEER, tu);
    layer.receiveResponse(reply(req, 180), UDP_PEER);
    assert.equal(tx.state, 'proceeding');
    clock.advance(100 * T1);
    assert.equal(sent.length, 1);
    assert.equal(got.timeout, 0);
    assert.deepEqual(got.responses, [180]);
  });

  test('non-2xx final: ACK sent by the transaction, resent on retransmitted final, Timer D = 32 s', () => {
    const { clock, lines, layer } = setup();
    const { got, tu } = clientUser();
    const req = request('INVITE');
    const tx = layer.sendRequest(req, UDP_PEER, tu);
    const busy = reply(req, 486);
    layer.receiveResponse(busy, UDP_PEER);
    assert.equal(tx.state, 'completed');
    assert.deepEqual(lines(), [INVITE, 'ACK sip:bob@127.0.0.1 SIP/2.0']);
    layer.receiveResponse(busy, UDP_PEER);
    assert.equal(lines().length, 3);
    assert.deepEqual(got.responses, [486]); // the retransmission is not passed up
    clock.advance(31999);
    assert.equal(tx.state, 'completed');
    clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(got.terminated, 1);
  });

  test('the ACK for a non-2xx has the INVITE branch, the response To tag and CSeq method ACK', () => {
    const { sent, layer } = setup();
    const req = request('INVITE');
    layer.sendRequest(req, UDP_PEER, clientUser().tu);
    layer.receiveResponse(reply(req, 603, 'xyz'), UDP_PEER);
    const ack = sent[1]!.data.toString();
    assert.match(ack, new RegExp(`branch=${req.topVia.branch}`));
    assert.match(ack, /To: <sip:bob@127.0.0.1>;tag=xyz/);
    assert.match(ack, /CSeq: 1 ACK/);
  });

  test('Timer D is zero on a reliable transport', () => {
    const { clock, layer } = setup();
    const req = request('INVITE', { transport: 'TCP' });
    const tx = layer.sendRequest(req, TCP_PEER, clientUser().tu);
    layer.receiveResponse(reply(req, 404), TCP_PEER);
    clock.advance(0);
    assert.equal(tx.state, 'terminated');
  });

  test('2xx moves to Accepted: retransmitted 2xx go to the TU until Timer M (RFC 6026)', () => {
    const { clock, sent, layer, stray } = setup();
    const { got, tu } = clientUser();
    const req = request('INVITE');
    const tx = layer.sendRequest(req, UDP_PEER, tu);
    const ok = reply(req, 200);
    layer.receiveResponse(ok, UDP_PEER);
    layer.receiveResponse(ok, UDP_PEER);
    assert.equal(tx.state, 'accepted');
    assert.deepEqual(got.responses, [200, 200]);
    assert.equal(sent.length, 1); // no ACK from the transaction for 2xx
    clock.advance(64 * T1);
    assert.equal(tx.state, 'terminated');
    layer.receiveResponse(ok, UDP_PEER);
    assert.equal(stray.length, 1);
  });

  test('a transport error terminates the transaction and informs the TU', () => {
    const { layer, fail } = setup();
    const { got, tu } = clientUser();
    fail();
    const tx = layer.sendRequest(request('INVITE'), UDP_PEER, tu);
    assert.equal(tx.state, 'terminated');
    assert.equal(got.transportError, 1);
  });

  test('CANCEL waits for a provisional response, then goes out with the INVITE branch (9.1)', () => {
    const { lines, sent, layer } = setup();
    const req = request('INVITE');
    const tx = layer.sendRequest(req, UDP_PEER, clientUser().tu) as InviteClientTransaction;
    assert.equal(layer.cancel(tx), true);
    assert.equal(lines().length, 1);
    layer.receiveResponse(reply(req, 180), UDP_PEER);
    assert.deepEqual(lines(), [INVITE, 'CANCEL sip:bob@127.0.0.1 SIP/2.0']);
    assert.match(sent[1]!.data.toString(), new RegExp(`branch=${req.topVia.branch}`));
    assert.match(sent[1]!.data.toString(), /CSeq: 1 CANCEL/);
  });
});

describe('non-INVITE client transaction (17.1.2)', () => {
  test('Timer E doubles to T2 and Timer F times out at 64*T1', () => {
    const { clock, sent, layer } = setup();
    const { got, tu } = clientUser();
    layer.sendRequest(request('OPTIONS'), UDP_PEER, tu);
    const times: number[] = [];
    let count = sent.length;
    for (let t = 0; t < 64 * T1; t += 50) {
      clock.advance(50);
      if (sent.length !== count) {
        times.push(clock.now());
        count = sent.length;
      }
    }
    assert.deepEqual(times.slice(0, 6), [500, 1500, 3500, 7500, 11500, 15500]);
    assert.equal(times.at(-1), 31500);
    assert.equal(got.timeout, 1);
  });

  test('in Proceeding Timer E fires every T2', () => {
    const { clock, sent, layer } = setup();
    const req = request('OPTIONS');
    layer.sendRequest(req, UDP_PEER, clientUser().tu);
    clock.advance(500); // first retransmission, E now 1000
    layer.receiveResponse(reply(req, 100), UDP_PEER);
    const before = sent.length;
    clock.advance(1000); // the pending E fires, then every T2
    assert.equal(sent.length, before + 1);
    clock.advance(3999);
    assert.equal(sent.length, before + 1);
    clock.advance(1);
    assert.equal(sent.length, before + 2);
  });

  test('final response: Completed absorbs retransmissions, Timer K = T4 on UDP, 0 on TCP', () => {
    const { clock, layer } = setup();
    const { got, tu } = clientUser();
    const req = request('BYE');
    const tx = layer.sendRequest(req, UDP_PEER, tu);
    layer.receiveResponse(reply(req, 200), UDP_PEER);
    layer.receiveResponse(reply(req, 200), UDP_PEER);
    assert.deepEqual(got.responses, [200]);
    clock.advance(4999);
    assert.equal(tx.state, 'completed');
    clock.advance(1);
    assert.equal(tx.state, 'terminated');

    const req2 = request('BYE', { transport: 'TCP' });
    const tx2 = layer.sendRequest(req2, TCP_PEER, clientUser().tu);
    layer.receiveResponse(reply(req2, 200), TCP_PEER);
    clock.advance(0);
    assert.equal(tx2.state, 'terminated');
  });
});

describe('INVITE server transaction (17.2.1)', () => {
  test('100 Trying after 200 ms when the TU is silent; INVITE retransmissions resend it', () => {
    const { clock, lines, layer, requests } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    assert.equal(requests.length, 1);
    clock.advance(199);
    assert.deepEqual(lines(), []);
    clock.advance(1);
    assert.deepEqual(lines(), ['SIP/2.0 100 Trying']);
    layer.receiveRequest(req, UDP_PEER);
    assert.deepEqual(lines(), ['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
    assert.equal(requests.length, 1); // retransmission absorbed, not passed to the TU
  });

  test('no 100 Trying when the TU answers within 200 ms', () => {
    const { clock, lines, layer, requests } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    (requests[0] as InviteServerTransaction).respond(createResponse(req, 180));
    clock.advance(1000);
    assert.deepEqual(lines(), ['SIP/2.0 180 Ringing']);
  });

  test('non-2xx final: Timer G retransmits (T1 doubling to T2), ACK stops it, Timer I = T4', () => {
    const { clock, sent, lines, layer, requests } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    const res = createResponse(req, 486, { toTag: 't' });
    tx.respond(res);
    const times: number[] = [];
    let count = sent.length;
    for (let t = 0; t < 20000; t += 50) {
      clock.advance(50);
      if (sent.length !== count) {
        times.push(clock.now());
        count = sent.length;
      }
    }
    assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500]);
    layer.receiveRequest(req, UDP_PEER); // INVITE retransmission in Completed: resend final
    assert.equal(lines().at(-1), 'SIP/2.0 486 Busy Here');
    const acked: SipRequest[] = [];
    tx.on('ack', (a) => acked.push(a));
    layer.receiveRequest(ackFor(req, res), UDP_PEER);
    assert.equal(tx.state, 'confirmed');
    assert.equal(acked.length, 1);
    const n = sent.length;
    layer.receiveRequest(ackFor(req, res), UDP_PEER); // absorbed in Confirmed
    clock.advance(4999);
    assert.equal(sent.length, n);
    assert.equal(tx.state, 'confirmed');
    clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(layer.serverCount, 0);
  });

  test('Timer H fires at 64*T1 without an ACK and informs the TU', () => {
    const { clock, layer, requests } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    let timeouts = 0;
    tx.on('timeout', () => timeouts++);
    tx.respond(createResponse(req, 500));
    clock.advance(64 * T1 - 1);
    assert.equal(tx.state, 'completed');
    clock.advance(1);
    assert.equal(tx.state, 'terminated');
    assert.equal(timeouts, 1);
  });

  test('over TCP: no Timer G, Timer I is zero', () => {
    const { clock, sent, layer, requests } = setup();
    const req = request('INVITE', { transport: 'TCP' });
    layer.receiveRequest(req, TCP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    const res = createResponse(req, 404, { toTag: 't' });
    tx.respond(res);
    clock.advance(10000);
    assert.equal(sent.filter((s) => s.line.startsWith('SIP/2.0 404')).length, 1);
    layer.receiveRequest(ackFor(req, res), TCP_PEER);
    clock.advance(0);
    assert.equal(tx.state, 'terminated');
  });

  test('2xx: Accepted absorbs INVITE retransmissions, passes TU 2xx retransmissions, Timer L ends it', () => {
    const { clock, lines, layer, requests, acks } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    const ok = createResponse(req, 200, { toTag: 't' });
    tx.respond(ok);
    assert.equal(tx.state, 'accepted');
    layer.receiveRequest(req, UDP_PEER);
    assert.equal(requests.length, 1);
    assert.deepEqual(lines(), ['SIP/2.0 200 OK']); // the transaction does not retransmit 2xx itself
    assert.equal(tx.respond(ok), true); // the TU does (13.3.1.4)
    assert.equal(lines().length, 2);
    // The ACK for a 2xx carries a new branch: it goes to the TU, not the transaction.
    layer.receiveRequest(ackFor(req, reply(req, 200, 't'), 'z9hG4bK-ack'), UDP_PEER);
    assert.equal(acks.length, 1);
    clock.advance(64 * T1);
    assert.equal(tx.state, 'terminated');
    assert.equal(tx.respond(ok), false);
  });

  test('CANCEL: 200 for the CANCEL, 487 for the INVITE; CANCEL without INVITE gets 481', () => {
    const { lines, layer, requests } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    let cancelled = 0;
    tx.on('cancel', () => cancelled++);
    const cancel = request('CANCEL', { branch: req.topVia.branch });
    cancel.set('call-id', req.callId);
    layer.receiveRequest(cancel, UDP_PEER);
    assert.equal(cancelled, 1);
    assert.deepEqual(lines(), ['SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated']);
    assert.equal(tx.state, 'completed');
    layer.receiveRequest(cancel, UDP_PEER); // retransmitted CANCEL: absorbed by its own transaction
    assert.equal(lines().at(-1), 'SIP/2.0 200 OK');
    layer.receiveRequest(request('CANCEL'), UDP_PEER);
    assert.equal(lines().at(-1), 'SIP/2.0 481 Call/Transaction Does Not Exist');
    assert.equal(requests.length, 1); // CANCEL never reaches the TU
  });

  test('CANCEL from another source port (a NAT rebinding) still matches its INVITE by branch (9.2, 17.2.3)', () => {
    const { lines, layer, requests } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    const cancel = request('CANCEL', { branch: req.topVia.branch });
    cancel.set('call-id', req.callId);
    layer.receiveRequest(cancel, { ...UDP_PEER, port: UDP_PEER.port + 1 });
    assert.deepEqual(lines(), ['SIP/2.0 200 OK', 'SIP/2.0 487 Request Terminated']);
    assert.equal(tx.state, 'completed');
  });

  test('CANCEL after the final response: 200 with the dialog’s To tag, and no effect (9.2)', () => {
    const { lines, layer, requests, sent } = setup();
    const req = request('INVITE');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as InviteServerTransaction;
    let cancelled = 0;
    tx.on('cancel', () => cancelled++);
    tx.respond(createResponse(req, 200, { toTag: 't' }));
    const cancel = request('CANCEL', { branch: req.topVia.branch });
    cancel.set('call-id', req.callId);
    layer.receiveRequest(cancel, UDP_PEER);
    assert.deepEqual(lines(), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
    assert.match(
      sent.at(-1)!.data.toString(),
      /\r\nTo: [^\r]*;tag=t\r\n/,
      'the CANCEL’s 200 has the dialog’s tag',
    );
    assert.equal(cancelled, 0);
    assert.equal(tx.state, 'accepted');
  });
});

describe('non-INVITE server transaction (17.2.2)', () => {
  test('Trying absorbs, Proceeding resends the provisional, Completed resends the final, Timer J = 64*T1', () => {
    const { clock, lines, layer, requests } = setup();
    const req = request('OPTIONS');
    layer.receiveRequest(req, UDP_PEER);
    const tx = requests[0] as NonInviteServerTransaction;
    layer.receiveRequest(req, UDP_PEER);
    assert.deepEqual(lines(), []);
    tx.respond(createResponse(req, 100));
    layer.receiveRequest(req, UDP_PEER);
    assert.deepEqual(lines(), ['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
    tx.respond(createResponse(req, 200));
    layer.receiveRequest(req, UDP_PEER);
    assert.deepEqual(lines().slice(2), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
    assert.equal(tx.respond(createResponse(req, 500)), false);
    assert.equal(requests.length, 1);
    clock.advance(64 * T1 - 1);
    assert.equal(tx.state, 'completed');
    clock.advance(1);
    assert.equal(tx.state, 'terminated');
    // After Timer J the same request is new again.
    layer.receiveRequest(req, UDP_PEER);
    assert.equal(requests.length, 2);
  });

  test('Timer J is zero on TCP', () => {
    const { clock, layer, requests } = setup();
    const req = request('OPTIONS', { transport: 'TCP' });
    layer.receiveRequest(req, TCP_PEER);
    requests[0]!.respond(createResponse(req, 200));
    clock.advance(0);
    assert.equal(requests[0]!.state, 'terminated');
  });

  test('responses go to the source port with rport, else to the sent-by port at the source address (18.2.2)', () => {
    const { sent, layer, requests } = setup();
    const src: Peer = { protocol: 'UDP', address: '127.0.0.9', port: 40000 };
    const plain = request('OPTIONS');
    layer.receiveRequest(plain, src);
    requests[0]!.respond(createResponse(plain, 200));
    assert.deepEqual(sent[0]!.dest, { ...src, port: 5999 }, 'Via: 127.0.0.1:5999, no rport');
    const rport = request('OPTIONS');
    const via = rport.topVia;
    via.params.set('rport', '40000');
    rport.replaceTopVia(via);
    layer.receiveRequest(rport, src);
    requests[1]!.respond(createResponse(rport, 200));
    assert.deepEqual(sent[1]!.dest, src);
  });

  test('per-source counts hold transactions in progress: a final response ends the count, not Timer J', () => {
    const { clock, layer, requests } = setup();
    layer.receiveRequest(request('OPTIONS'), UDP_PEER);
    layer.receiveRequest(request('OPTIONS'), UDP_PEER);
    assert.equal(layer.serverCountFor(UDP_PEER.address), 2);
    assert.equal(layer.inProgressCount, 2);
    for (const tx of requests) tx.respond(createResponse(tx.request, 200));
    assert.equal(layer.serverCountFor(UDP_PEER.address), 0);
    assert.equal(layer.inProgressCount, 0);
    assert.equal(layer.serverCount, 2, 'still absorbing retransmissions in Completed');
    clock.advance(64 * T1);
    assert.equal(layer.serverCount, 0);
  });
});

describe('illegal transitions are bugs', () => {
  test('a transition the table does not allow throws SIP_ILLEGAL_TRANSITION', () => {
    const { layer } = setup();
    const tx = layer.sendRequest(request('INVITE'), UDP_PEER, clientUser().tu) as InviteClientTransaction;
    assert.throws(
      () => (tx as unknown as { transition(s: string): void }).transition('confirmed'),
      (e: Error & { code?: string }) => e.code === 'SIP_ILLEGAL_TRANSITION',
    );
  });
});

describe('a silent transaction user cannot hold transactions forever', () => {
  test('an INVITE without a final response from the TU gets 408 after 180 s', () => {
    const { clock, lines, layer, requests } = setup();
    layer.receiveRequest(request('INVITE'), UDP_PEER);
    clock.advance(180_000);
    assert.deepEqual(lines(), ['SIP/2.0 100 Trying', 'SIP/2.0 408 Request Timeout']);
    assert.equal(requests[0]!.state, 'completed');
  });

  test('a non-INVITE without a final response ends silently after 64*T1', () => {
    const { clock, lines, layer, requests } = setup();
    layer.receiveRequest(request('OPTIONS'), UDP_PEER);
    clock.advance(64 * T1);
    assert.equal(requests[0]!.state, 'terminated');
    assert.deepEqual(lines(), []);
    assert.equal(layer.serverCount, 0);
  });
});
